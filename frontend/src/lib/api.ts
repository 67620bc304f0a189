// api wraps the Wails bindings generated from app/ (frontend/wailsjs) and
// turns every rejection into an ApiError carrying a sentence a person
// understands. Screens and stores call this module, never the bindings.
import * as Records from '../../wailsjs/go/app/RecordService';
import * as Lines from '../../wailsjs/go/app/LineConfigService';
import * as StatusSvc from '../../wailsjs/go/app/StatusService';
import * as Schema from '../../wailsjs/go/app/SchemaService';
import * as SyncSvc from '../../wailsjs/go/app/SyncService';
import * as ConflictSvc from '../../wailsjs/go/app/ConflictService';
import * as DashboardSvc from '../../wailsjs/go/app/DashboardService';
import * as ExportSvc from '../../wailsjs/go/app/ExportService';
import * as SiteSvc from '../../wailsjs/go/app/SiteService';
import * as SessionSvc from '../../wailsjs/go/app/SessionService';
import * as PrefsSvc from '../../wailsjs/go/app/PrefsService';
import { EventsOn } from '../../wailsjs/runtime/runtime';
import { app, syncclient, store, config } from '../../wailsjs/go/models';

export type Record = app.Record;
export type RecordInput = app.RecordInput;
export type RecordFilter = app.RecordFilter;
export type RecordPage = app.RecordPage;
export type LineConfig = app.LineConfig;
export type LineConfigInput = app.LineConfigInput;
export type Status = app.Status;
export type Failure = app.Failure;
export type FieldRule = app.FieldRule;
export type SyncStatus = syncclient.Status;
export type SyncProgress = syncclient.Progress;
export type SyncSettings = app.SyncSettings;
export type SettingState = config.FieldState;
export type QuarantinedRow = store.QuarantinedRow;
export type Conflict = app.Conflict;
export type HistoryEntry = app.HistoryEntry;
export type Dashboard = app.Dashboard;
export type DashboardQuery = app.DashboardQuery;
export type DataChanged = app.DataChanged;
export type ExportResult = app.ExportResult;
/** ExportProgress is the payload of "export:progress" (app.ExportProgress). */
export interface ExportProgress {
  id: string;
  written: number;
  total: number;
  done: boolean;
}

/** ApiError is a failed call: a code to branch on, a sentence to show and,
 * for validation errors, the column it is about. */
export class ApiError extends Error {
  readonly code: string;
  readonly field?: string;
  constructor(code: string, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.field = field || undefined;
  }
}

/** Sentences for codes whose error carried no usable message. */
const fallback: { [code: string]: string } = {
  not_found: 'That item no longer exists. It may have been deleted; refresh the list.',
  timeout: 'The local database took too long to answer. Try again.',
  store_unavailable: 'The local database is not open. See the status screen for what to do.',
  missing_value: 'This field is required.',
  too_long: 'This is too long.',
  invalid_value: 'This value is not valid.',
  no_backend: 'Outpost’s backend is not reachable. Close Outpost and start it again.',
  offline: 'The sync server cannot be reached. Your work is kept on this computer and is sent when the connection is back.',
  sync_failed: 'Syncing did not work. Try again in a moment.',
  unauthorized: 'The sync server no longer accepts this computer. Ask IT to enroll it again.',
  invalid_code: 'The enrollment code was not accepted: it may be mistyped, used up or expired. Ask IT for a new one.',
  internal: 'Something went wrong and the change was not saved. Try again; if it keeps happening, tell IT.',
  sign_in_required: 'Sign in first: scan your badge or pick your name.',
  forbidden: 'Your role does not allow this. Ask a manager.',
  wrong_pin: 'That PIN is not right. Try again.',
  locked: 'Too many wrong PINs: signing in with this badge is locked for a while. Ask a manager.',
  unknown_badge: 'This badge is not known at this site. Ask a manager to add you.',
  inactive: 'This person is no longer active at this site. Ask a manager.',
  pin_not_set: 'Your role needs a PIN, and none is set yet. Ask a manager to set your PIN.',
  unknown_code: 'This code is not in the site’s list.',
  inactive_code: 'This code is no longer active.',
};

/** sentenceFor returns the fallback sentence for code. */
export function sentenceFor(code: string): string {
  return fallback[code] ?? fallback.internal;
}

function isObject(v: unknown): v is { [k: string]: unknown } {
  return typeof v === 'object' && v !== null;
}

/** parseGoError reads the JSON text of the Go side's {code, message, field}
 * (app.FormatError), or returns undefined. */
function parseGoError(s: string): ApiError | undefined {
  try {
    const parsed: unknown = JSON.parse(s);
    if (isObject(parsed) && typeof parsed.code === 'string') return toApiError(parsed);
  } catch {
    /* not JSON: a message from Wails or the bridge itself */
  }
  return undefined;
}

/** toApiError maps whatever a binding rejected with to an ApiError. The Go
 * side's ErrorFormatter sends the JSON text of {code, message, field}: the
 * Wails runtime rejects with `new Error(that text)` (an object would arrive
 * as "[object Object]"), so the Error's message is parsed back. Anything else
 * (a plain string from Wails itself, a JS exception when the bindings are
 * missing) becomes a generic sentence, never raw internals. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof Error && !(e instanceof TypeError)) {
    const parsed = parseGoError(e.message);
    if (parsed) return parsed;
  }
  if (typeof e === 'string') return parseGoError(e) ?? new ApiError('internal', sentenceFor('internal'));
  if (isObject(e) && typeof e.code === 'string' && !(e instanceof Error)) {
    const msg = typeof e.message === 'string' && e.message.trim() !== '' ? e.message : sentenceFor(e.code);
    const field = typeof e.field === 'string' ? e.field : undefined;
    return new ApiError(e.code, msg, field);
  }
  if (e instanceof TypeError && !hasBackend()) {
    return new ApiError('no_backend', sentenceFor('no_backend'));
  }
  return new ApiError('internal', sentenceFor('internal'));
}

/** hasBackend reports whether the Wails bindings are injected. */
export function hasBackend(): boolean {
  const w = globalThis as unknown as { go?: { app?: unknown } };
  return typeof w.go === 'object' && w.go !== null && w.go.app !== undefined;
}

async function wrap<T>(p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (e) {
    throw toApiError(e);
  }
}

export const records = {
  list: (f: Partial<RecordFilter>) => wrap(() => Records.List(app.RecordFilter.createFrom(f))),
  get: (id: string) => wrap(() => Records.Get(id)),
  create: (r: RecordInput) => wrap(() => Records.Create(r)),
  update: (id: string, r: RecordInput) => wrap(() => Records.Update(id, r)),
  remove: (id: string) => wrap(() => Records.Delete(id)),
  restore: (id: string) => wrap(() => Records.Restore(id)),
};

export const lineConfigs = {
  list: () => wrap(() => Lines.List()),
  get: (id: string) => wrap(() => Lines.Get(id)),
  create: (c: LineConfigInput) => wrap(() => Lines.Create(c)),
  update: (id: string, c: LineConfigInput) => wrap(() => Lines.Update(id, c)),
  remove: (id: string) => wrap(() => Lines.Delete(id)),
};

export const status = {
  get: () => wrap(() => StatusSvc.Get()),
};

export const schema = {
  fields: (table: string) => wrap(() => Schema.Fields(table)),
};

export const sync = {
  status: () => wrap(() => SyncSvc.Status()),
  syncNow: () => wrap(() => SyncSvc.SyncNow()),
  enroll: (serverUrl: string, code: string) => wrap(() => SyncSvc.Enroll(serverUrl, code)),
  unenroll: (force: boolean) => wrap(() => SyncSvc.Unenroll(force)),
  quarantine: () => wrap(() => SyncSvc.Quarantine()),
  resubmit: (table: string, id: string) => wrap(() => SyncSvc.Resubmit(table, id)),
  discard: (table: string, id: string) => wrap(() => SyncSvc.Discard(table, id)),
  settings: () => wrap(() => SyncSvc.Settings()),
};

/** prefs: this terminal's preferences kept in the encrypted store (the
 * theme alone stays in localStorage, see stores/prefs). */
export const prefs = {
  get: () => wrap(() => PrefsSvc.Get()),
  remember: (line: string, operator: string) => wrap(() => PrefsSvc.Remember(line, operator)),
  skipSetup: (skipped: boolean) => wrap(() => PrefsSvc.SkipSetup(skipped)),
  setDashboardShifts: (shifts: string) => wrap(() => PrefsSvc.SetDashboardShifts(shifts)),
  setScanSound: (on: boolean) => wrap(() => PrefsSvc.SetScanSound(on)),
};

/** onSyncStatus calls fn with every status the Go side emits ("sync:status");
 * it returns the unsubscribe function. Without the Wails runtime (tests, a
 * plain browser) it does nothing. */
export function onSyncStatus(fn: (s: SyncStatus) => void): () => void {
  const w = globalThis as unknown as { runtime?: { EventsOnMultiple?: unknown } };
  if (!w.runtime || typeof w.runtime.EventsOnMultiple !== 'function') return () => {};
  return EventsOn('sync:status', (s: SyncStatus) => fn(s));
}

export const conflicts = {
  list: () => wrap(() => ConflictSvc.List()),
  resolve: (id: string, row: { [k: string]: unknown }, baseVersion: number, reason: string) =>
    wrap(() => ConflictSvc.Resolve(id, row, baseVersion, reason)),
  history: (table: string, id: string) => wrap(() => ConflictSvc.History(table, id)),
};

export const dashboard = {
  get: (q: Partial<DashboardQuery>) => wrap(() => DashboardSvc.Get(app.DashboardQuery.createFrom(q))),
  changes: (rev: number) => wrap(() => DashboardSvc.Changes(rev)),
};

export const exports = {
  newId: () => wrap(() => ExportSvc.NewExportID()),
  records: (id: string, f: Partial<RecordFilter>) => wrap(() => ExportSvc.ExportRecords(id, app.RecordFilter.createFrom(f))),
  dashboard: (id: string, q: Partial<DashboardQuery>) => wrap(() => ExportSvc.ExportDashboard(id, app.DashboardQuery.createFrom(q))),
  lines: (id: string, q: Partial<DashboardQuery>) => wrap(() => ExportSvc.ExportLines(id, app.DashboardQuery.createFrom(q))),
  cancel: (id: string) => wrap(() => ExportSvc.Cancel(id)),
};

/** onEvent subscribes to a Go event ("data:changed", "export:progress");
 * it returns the unsubscribe function, and does nothing without the Wails
 * runtime (tests, a plain browser). */
export function onEvent<T>(name: string, fn: (data: T) => void): () => void {
  const w = globalThis as unknown as { runtime?: { EventsOnMultiple?: unknown } };
  if (!w.runtime || typeof w.runtime.EventsOnMultiple !== 'function') return () => {};
  return EventsOn(name, (d: T) => fn(d));
}

// Site data and people (issue 10): app.SiteService and app.SessionService.
// The types are the generated ones' shapes as plain interfaces (the
// generated classes carry a convertValues method, so stores and tests could
// not build them as object literals); the checks below make svelte-check
// fail if the generated types drift from them.

export interface SiteLine {
  id: string;
  code: string;
  name: string;
  area: string;
  active: boolean;
  updatedBy: string;
  updatedAt: number;
  pending: boolean;
  syncState?: string;
}
export interface SiteProduct {
  id: string;
  code: string;
  name: string;
  unit: string;
  /** the plausible quantity of one record (null/absent: no range) */
  minQuantity?: number | null;
  maxQuantity?: number | null;
  active: boolean;
  updatedBy: string;
  updatedAt: number;
  pending: boolean;
  syncState?: string;
}
export interface Person {
  id: string;
  badgeId: string;
  displayName: string;
  role: string;
  active: boolean;
  hasPin: boolean;
  needsPin: boolean;
  updatedBy: string;
  updatedAt: number;
  pending: boolean;
  syncState?: string;
}
export interface SiteSettings {
  timeZone: string;
  shifts: string;
  clockSkewMinutes: number;
  idleSignOutSeconds: number;
  pinRoles: string[];
  configured: boolean;
  pending: boolean;
}
export interface SiteData {
  lines: SiteLine[];
  products: SiteProduct[];
  people: Person[];
  settings: SiteSettings;
  canEdit: boolean;
  /** why the site data cannot be edited here, in a sentence */
  editBlocked: string;
}
export interface LineInput {
  code: string;
  name: string;
  area: string;
  active: boolean;
}
export interface ProductInput {
  code: string;
  name: string;
  unit: string;
  active: boolean;
  /** absent: no range */
  minQuantity?: number;
  maxQuantity?: number;
}
export interface PersonInput {
  badgeId: string;
  displayName: string;
  role: string;
  active: boolean;
  /** absent: keep the PIN; "": clear it; digits: set it */
  pin?: string;
}
export interface SiteSettingsInput {
  timeZone: string;
  shifts: string;
  clockSkewMinutes: number;
  idleSignOutSeconds: number;
  pinRoles: string[];
}
export interface PersonChoice {
  badgeId: string;
  displayName: string;
  role: string;
  needsPin: boolean;
}
export interface Session {
  /** the site has active people: a person must sign in */
  required: boolean;
  signedIn: boolean;
  person?: PersonChoice | null;
  idleSeconds: number;
  /** ms; when the idle sign-out happens without activity */
  expiresAt: number;
  deviceRole: string;
}
export interface SignInStep {
  person: PersonChoice;
  needsPin: boolean;
  /** ms; 0 = not locked */
  lockedUntil: number;
}

/** Same: A is assignable to B and has every key of B (B adds nothing the
 * Go side does not send or take). */
type Same<A, B> = [A] extends [B] ? ([Exclude<keyof B, keyof A>] extends [never] ? true : false) : false;
const generatedMatch: [
  Same<app.Line, SiteLine>,
  Same<app.Product, SiteProduct>,
  Same<app.Person, Person>,
  Same<app.SiteSettings, SiteSettings>,
  Same<app.SiteData, SiteData>,
  Same<app.PersonChoice, PersonChoice>,
  Same<app.Session, Session>,
  Same<app.SignInStep, SignInStep>,
  Same<LineInput, app.LineInput>,
  Same<ProductInput, app.ProductInput>,
  Same<PersonInput, app.PersonInput>,
  Same<SiteSettingsInput, app.SiteSettingsInput>,
] = [true, true, true, true, true, true, true, true, true, true, true, true];
void generatedMatch;

export const site = {
  get: (): Promise<SiteData> => wrap(() => SiteSvc.Get()),
  saveLine: (l: LineInput): Promise<SiteLine> => wrap(() => SiteSvc.SaveLine(l)),
  saveProduct: (p: ProductInput): Promise<SiteProduct> => wrap(() => SiteSvc.SaveProduct(p)),
  savePerson: (p: PersonInput): Promise<Person> => wrap(() => SiteSvc.SavePerson(p)),
  saveSettings: (st: SiteSettingsInput): Promise<SiteSettings> => wrap(() => SiteSvc.SaveSettings(st)),
};

export const session = {
  current: (): Promise<Session> => wrap(() => SessionSvc.Current()),
  people: (): Promise<PersonChoice[]> => wrap(() => SessionSvc.People()),
  identify: (badgeOrName: string): Promise<SignInStep> => wrap(() => SessionSvc.Identify(badgeOrName)),
  signIn: (badgeId: string, pin: string): Promise<Session> => wrap(() => SessionSvc.SignIn(badgeId, pin)),
  signOut: (): Promise<Session> => wrap(() => SessionSvc.SignOut()),
  touch: (): Promise<Session> => wrap(() => SessionSvc.Touch()),
};
