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
import { app } from '../../wailsjs/go/models';
import { IntlMessageFormat } from 'intl-messageformat';
import { currentLocale, tDynamic, type Values } from '../i18n';
import errorMessages from '../i18n/errors/en.json';

export type Record = app.Record;
export type RecordInput = app.RecordInput;
export type RecordFilter = app.RecordFilter;
export type RecordPage = app.RecordPage;
export type LineConfig = app.LineConfig;
export type LineConfigInput = app.LineConfigInput;
export type Status = app.Status;
export type Failure = app.Failure;
export type FieldRule = app.FieldRule;
export type TableSchema = app.TableSchema;
export type SyncStatus = app.SyncStatus;
export type SyncProgress = app.SyncProgress;
export type SyncSettings = app.SyncSettings;
export type SettingState = app.SettingField;
export type QuarantinedRow = app.QuarantinedRow;
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

/** Params are the values a Go error carries for its sentence in any
 * language (app.Error's params): {"field": "notes", "max": 4000},
 * {"tries_left": 4}, {"until": "<RFC 3339>"}, {"rule": "range", …}. */
export type Params = { [name: string]: string | number | boolean };

/** ApiError is a failed call: a stable code to branch on and to say it by,
 * the English sentence (the fallback; Go's logs say the same), for
 * validation errors the column it is about, and the params of the code's
 * message. Show it with errorText(), which says it in the person's
 * language. */
export class ApiError extends Error {
  readonly code: string;
  readonly field?: string;
  readonly params: Params;
  constructor(code: string, message: string, field?: string, params?: Params) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.field = field || undefined;
    this.params = { ...(params ?? {}) };
    if (this.field && this.params.field === undefined) this.params.field = this.field;
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
    return new ApiError(e.code, msg, field, readParams(e.params));
  }
  if (e instanceof TypeError && !hasBackend()) {
    return new ApiError('no_backend', sentenceFor('no_backend'));
  }
  return new ApiError('internal', sentenceFor('internal'));
}

/** readParams keeps the scalar values of a params object from Go. */
function readParams(p: unknown): Params {
  const out: Params = {};
  if (!isObject(p) || Array.isArray(p)) return out;
  for (const [k, v] of Object.entries(p)) {
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) out[k] = v;
  }
  return out;
}

/** errorText says err in the language shown now: the message of its code
 * (and rule) from src/i18n/errors with its params, field names as the
 * screens label them. In English, Go's own sentence is shown (it is the
 * most specific: it may name a badge or a person). When the language has
 * no message for the code, or the error lacks a value the message needs,
 * the English sentence is shown rather than a wrong one. */
export function errorText(err: unknown): string {
  const e = toApiError(err);
  if (currentLocale() === 'en' && e.message.trim() !== '') return e.message;
  return localized(e) ?? (e.message.trim() !== '' ? e.message : sentenceFor(e.code));
}

/** localized is the message of e's code in the current language, or null. */
function localized(e: ApiError): string | null {
  const rule = typeof e.params.rule === 'string' ? e.params.rule : '';
  const keys = rule ? [`errors.${e.code}.${rule}`, `errors.${e.code}`] : [`errors.${e.code}`];
  const values = messageValues(e.params);
  for (const key of keys) {
    const needs = messageArgs(key);
    if (!needs) continue;
    if (needs.some((a) => values[a] === undefined || values[a] === null)) continue;
    const text = tDynamic(key, values);
    if (text) return text;
  }
  return null;
}

/** messageValues turns params into the values of a message: the field as
 * the screens name it, times as Dates. */
function messageValues(p: Params): Values {
  const v: Values = {};
  for (const [k, x] of Object.entries(p)) {
    if (typeof x === 'boolean') continue;
    v[k] = x;
  }
  const field = typeof p.field === 'string' ? p.field : '';
  v.field = (field && tDynamic(`errors.field.${field}`)) || (field ? field.replace(/_/g, ' ') : tDynamic('errors.field._'));
  for (const k of ['until', 'since', 'at']) {
    const x = p[k];
    if (typeof x === 'string' || typeof x === 'number') {
      const d = new Date(x);
      if (!Number.isNaN(d.getTime())) v[k] = d;
    }
  }
  return v;
}

const english = errorMessages as { [key: string]: string };
const argCache = new Map<string, string[] | null>();

/** messageArgs lists the arguments the message key needs (every language
 * has English's: src/i18n/messages.test.ts), or null when there is none. */
function messageArgs(key: string): string[] | null {
  if (argCache.has(key)) return argCache.get(key)!;
  const msg = english[key];
  let out: string[] | null = null;
  if (typeof msg === 'string') {
    const names = new Set<string>();
    type Ast = ReturnType<IntlMessageFormat['getAst']>;
    const visit = (ast: Ast) => {
      for (const el of ast) {
        const n = el as unknown as { type: number; value?: string; options?: { [k: string]: { value: Ast } } };
        if (n.type >= 1 && n.type <= 6 && typeof n.value === 'string') names.add(n.value);
        if (n.options) for (const o of Object.values(n.options)) visit(o.value);
      }
    };
    try {
      visit(new IntlMessageFormat(msg, 'en', undefined, { ignoreTag: true }).getAst());
      out = [...names];
    } catch {
      out = null;
    }
  }
  argCache.set(key, out);
  return out;
}

/** failureText says why the local database did not open (Status, the
 * failure screen: app.Failure) in the language shown now: its code's title
 * and message from src/i18n/errors, Go's own words in English or for a
 * code without messages. The detail stays as Go wrote it, for IT. */
export function failureText(f: Pick<Failure, 'code' | 'title' | 'message'>): { title: string; message: string } {
  if (currentLocale() !== 'en') {
    const title = tDynamic(`errors.failure.${f.code}.title`);
    const message = tDynamic(`errors.failure.${f.code}.message`);
    if (title && message) return { title, message };
  }
  return { title: f.title, message: f.message };
}

/** rejectionError reads a quarantined row's reason, the server's
 * "<code>: <sentence>" (docs/design.md section 4: the wire carries nothing
 * else), as an ApiError errorText can say in any language: the column is
 * the one the protocol's sentences start with, and the limits come from
 * the registry's rules for the row's table (schema.fields(table)). */
export function rejectionError(reason: string, rules: readonly FieldRule[] = []): ApiError {
  const m = /^([a-z_]+):\s*([\s\S]*)$/.exec(reason.trim());
  if (!m) return new ApiError('rejected', reason.trim() || 'The server refused this change without a reason.');
  const [, code, rest] = m;
  const sentence = rest.trim();
  const message = sentence ? sentence.charAt(0).toUpperCase() + sentence.slice(1) : sentenceFor(code);
  const params: Params = {};
  if (code === 'unknown_column') {
    const col = /no column "([^"]*)"/.exec(sentence);
    if (col) params.field = col[1];
    return new ApiError(code, message, undefined, params);
  }
  const first = /^([a-z][a-z0-9_]*)\b/.exec(sentence)?.[1] ?? '';
  const rule = rules.find((r) => r.column === first);
  if (rule || (first.includes('_') && tDynamic(`errors.field.${first}`))) params.field = first;
  if (code === 'too_long' && rule && rule.maxLen > 0) params.max = rule.maxLen;
  if (code === 'invalid_value') {
    const kind = invalidRule(sentence);
    if (kind) params.rule = kind;
    if (kind === 'range') {
      const n = /between (-?\d+) and (-?\d+)/.exec(sentence);
      if (rule?.hasRange) {
        params.min = rule.min;
        params.max = rule.max;
      } else if (n) {
        params.min = Number(n[1]);
        params.max = Number(n[2]);
      }
    }
    if (kind === 'one_of') params.options = sentence.replace(/^.*must be one of\s*/, '');
    if (kind === 'min_length') {
      if (rule) params.min_length = rule.minLen;
      else params.min_length = Number(/at least (\d+)/.exec(sentence)?.[1] ?? 0);
    }
  }
  return new ApiError(code, message, typeof params.field === 'string' ? params.field : undefined, params);
}

/** invalidRule names the check an invalid_value sentence of the protocol
 * package reports (backend/protocol/validate.go). */
function invalidRule(s: string): string {
  if (/must be between -?\d+ and -?\d+/.test(s)) return 'range';
  if (/must be a whole number/.test(s)) return 'integer';
  if (/must be a number/.test(s)) return 'number';
  if (/must be a time/.test(s)) return 'time';
  if (/must be text/.test(s)) return 'text';
  if (/must be one of/.test(s)) return 'one_of';
  if (/must be at least \d+ characters/.test(s)) return 'min_length';
  if (/(is not|must be) a UUID/.test(s)) return 'uuid';
  if (/derived from its/.test(s)) return 'key_changed';
  return '';
}

/** exportWords are the words of a CSV export (its headers, yes/no, the save
 * dialog's title) in the language shown now, by the keys of app's
 * exportWords; a key without a message is left out (Go writes English). */
export function exportWords(): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const key of Object.keys(english)) {
    if (!key.startsWith('csv.')) continue;
    const w = tDynamic(key);
    if (w) out[key.slice(4)] = w;
  }
  return out;
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
  tables: () => wrap(() => Schema.Tables()),
};

const rulesCache = new Map<string, Promise<FieldRule[]>>();

/** tableRules are the registry's rules of table's fields (schema.fields),
 * fetched once per table: what rejectionError takes its limits from. A
 * failed fetch gives [] (and is tried again next time): the reason is then
 * said without limits, or in English. */
export function tableRules(table: string): Promise<FieldRule[]> {
  let p = rulesCache.get(table);
  if (!p) {
    p = schema.fields(table).then(
      (r) => r ?? [],
      () => {
        rulesCache.delete(table);
        return [];
      },
    );
    rulesCache.set(table, p);
  }
  return p;
}

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

/** Exports are written for the language shown now: its separators and date
 * layout (Go picks them from the locale) and its words (exportWords). */
export const exports = {
  newId: () => wrap(() => ExportSvc.NewExportID()),
  records: (id: string, f: Partial<RecordFilter>) =>
    wrap(() => ExportSvc.ExportRecords(id, app.RecordFilter.createFrom(f), currentLocale(), exportWords())),
  dashboard: (id: string, q: Partial<DashboardQuery>) =>
    wrap(() => ExportSvc.ExportDashboard(id, app.DashboardQuery.createFrom(q), currentLocale(), exportWords())),
  lines: (id: string, q: Partial<DashboardQuery>) =>
    wrap(() => ExportSvc.ExportLines(id, app.DashboardQuery.createFrom(q), currentLocale(), exportWords())),
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
// The generated types serve where they are plain data. Where a generated
// class carries a convertValues method (SiteData), or the WebView needs a
// looser type (a product's range may be null), a plain interface stands in,
// so stores and tests can build them as object literals; the checks below
// make svelte-check fail if the generated types drift from them.

export type SiteLine = app.Line;
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
export type Person = app.Person;
export type SiteSettings = app.SiteSettings;
export interface SiteData {
  lines: SiteLine[];
  products: SiteProduct[];
  people: Person[];
  settings: SiteSettings;
  canEdit: boolean;
  /** why the site data cannot be edited here, in a sentence */
  editBlocked: string;
  /** the same refusal as an error's code and params (rule), for errorText (issue 21) */
  editBlockedCode?: string;
  editBlockedParams?: Params;
}
export type LineInput = app.LineInput;
export type ProductInput = app.ProductInput;
export type PersonInput = app.PersonInput;
export type SiteSettingsInput = app.SiteSettingsInput;
export interface PersonChoice {
  badgeId: string;
  displayName: string;
  role: string;
  needsPin: boolean;
  /** the person's language ("de", "pt-BR"; "" or absent: the terminal's),
   * shown while they are signed in (issue 21) */
  language?: string;
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
  Same<app.Product, SiteProduct>,
  Same<app.SiteData, SiteData>,
  Same<app.PersonChoice, PersonChoice>,
  Same<app.Session, Session>,
  Same<app.SignInStep, SignInStep>,
] = [true, true, true, true, true];
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
