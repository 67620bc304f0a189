// The conflict diff model: which fields differ between base (the common
// ancestor), mine (the device's change) and theirs (the server's state), the
// word-level changes inside text, and the row a manager's choices produce.
// Pure functions, tested with Vitest. Words come from the message files
// (src/i18n, keys conflicts.*) in the language shown now; a $derived that
// calls these functions runs again when the language changes.
import { diffWords } from 'diff';
import { t, type MessageKey, type Values } from '../i18n';
import { columnLabelWithUnit } from './columns';
import { formatDateTime, formatNumber, formatTime } from './format';

export type Side = 'base' | 'mine' | 'theirs';
export type Row = { [k: string]: unknown };

/** fieldLabel names a field for people in the language shown, with its
 * unit when it has one ("Speed rpm"): the message files' label of its
 * column (src/lib/columns.ts, the forms' too), else the column's own name. */
export function fieldLabel(field: string): string {
  return columnLabelWithUnit(field);
}

/** Secret fields never reach the WebView: the Go side sends a token
 * ("secret:" and hex digits, equal for equal values) instead of a PIN hash,
 * and the screens only say whether it is set, changed or removed. */
export const secretFields = new Set(['pin_hash']);
export const secretToken = 'secret:';

/** isSecret: field is a secret one, or v is a token standing for a secret. */
export function isSecret(field: string, v?: unknown): boolean {
  return secretFields.has(field) || (typeof v === 'string' && v.startsWith(secretToken));
}

/** secretChange says in words what happened to a secret between two states
 * (a token or null): "PIN set", "PIN changed", "PIN removed", or "" when
 * nothing changed. */
export function secretChange(before: unknown, after: unknown): string {
  const b = before != null && before !== '';
  const a = after != null && after !== '';
  if (!b && a) return t('conflicts.pin.set');
  if (b && !a) return t('conflicts.pin.removed');
  if (a && b && before !== after) return t('conflicts.pin.changed');
  return '';
}

/** Kinds of a field in a three-way comparison. */
export type FieldKind =
  | 'same' // nobody changed it
  | 'mine' // only the device changed it
  | 'theirs' // only the server side changed it
  | 'both-same' // both changed it to the same value
  | 'conflict'; // both changed it, differently

export interface FieldDiff {
  field: string;
  label: string;
  base: unknown;
  mine: unknown;
  theirs: unknown;
  kind: FieldKind;
}

/** same compares two field values (null and undefined are equal). */
export function same(a: unknown, b: unknown): boolean {
  const na = a === undefined ? null : a;
  const nb = b === undefined ? null : b;
  if (typeof na === 'number' && typeof nb === 'number') return na === nb;
  return JSON.stringify(na) === JSON.stringify(nb);
}

/** classify compares one field across the three states. Without a base
 * (both sides created the row), any difference is a conflict. */
export function classify(base: unknown, mine: unknown, theirs: unknown, hasBase = true): FieldKind {
  if (!hasBase) return same(mine, theirs) ? 'same' : 'conflict';
  const m = !same(base, mine);
  const t = !same(base, theirs);
  if (!m && !t) return 'same';
  if (m && !t) return 'mine';
  if (!m && t) return 'theirs';
  return same(mine, theirs) ? 'both-same' : 'conflict';
}

/** fieldsOf returns the fields a diff compares: the table's from the
 * registry (TableSchema.merged: the people's fields and deleted_at, in
 * order), or, before the registry arrived, the union of the rows' keys
 * (bookkeeping left out). */
export function fieldsOf(merged: readonly string[] | null | undefined, rows: (Row | null | undefined)[]): string[] {
  if (merged?.length) return [...merged];
  const skip = new Set(['id', 'created_at', 'updated_at', 'synced_at', 'server_updated_at', 'version', 'hlc']);
  const out: string[] = [];
  for (const r of rows) for (const k of Object.keys(r ?? {})) if (!skip.has(k) && !out.includes(k)) out.push(k);
  return out;
}

/** diffRows builds the per-field comparison of a conflict over the fields
 * merged lists (the table's TableSchema.merged, stores/schema.ts). */
export function diffRows(merged: readonly string[] | null | undefined, base: Row | null | undefined, mine: Row, theirs: Row): FieldDiff[] {
  const hasBase = !!base;
  return fieldsOf(merged, [base, mine, theirs]).map((field) => {
    const b = base?.[field] ?? null;
    const m = mine?.[field] ?? null;
    const t = theirs?.[field] ?? null;
    return { field, label: fieldLabel(field), base: b, mine: m, theirs: t, kind: classify(b, m, t, hasBase) };
  });
}

/** isDeleteVsEdit: one side deleted the row while the other edited it. */
export function deleteSide(mine: Row, theirs: Row): Side | null {
  const md = mine?.deleted_at != null;
  const td = theirs?.deleted_at != null;
  if (md && !td) return 'mine';
  if (td && !md) return 'theirs';
  return null;
}

export interface WordPart {
  text: string;
  added?: boolean;
  removed?: boolean;
}

/** wordDiff returns the word-level changes from a to b (strings of any value). */
export function wordDiff(a: unknown, b: unknown): WordPart[] {
  const sa = a === null || a === undefined ? '' : String(a);
  const sb = b === null || b === undefined ? '' : String(b);
  return diffWords(sa, sb).map((p) => ({ text: p.value, added: p.added || undefined, removed: p.removed || undefined }));
}

/** Choice of one field: a side, or a typed value. */
export type Choice = { side: Side } | { typed: string };

/** defaultChoices proposes a choice per field: the side that changed it, and
 * for a real conflict nothing (the manager must decide). */
export function defaultChoices(diffs: FieldDiff[]): { [field: string]: Choice | undefined } {
  const out: { [field: string]: Choice | undefined } = {};
  for (const d of diffs) {
    if (d.kind === 'mine') out[d.field] = { side: 'mine' };
    else if (d.kind === 'conflict') out[d.field] = undefined;
    else out[d.field] = { side: 'theirs' };
  }
  return out;
}

/** parseTyped turns a typed value into the field's type, following the type
 * the other states hold (numbers stay numbers, empty clears a nullable).
 * A number may be typed with the decimal comma of the language shown
 * ("187,5" in German): decimal is that language's separator. */
export function parseTyped(text: string, like: unknown[], decimal: string = decimalSeparator()): unknown {
  const s = text.trim();
  if (s === '') return null;
  if (like.some((v) => typeof v === 'number')) {
    const n = Number(s);
    if (Number.isFinite(n) && !(decimal === ',' && thousands(s, '.'))) return n;
    return readNumber(s, decimal) ?? s;
  }
  return text;
}

/** thousands: s is a number grouped in threes by sep ("1.200", "12,500.5"). */
function thousands(s: string, sep: string): boolean {
  const g = sep === '.' ? '\\.' : ',';
  const d = sep === '.' ? ',' : '\\.';
  return new RegExp(`^[-+]?\\d{1,3}(${g}\\d{3})+(${d}\\d+)?$`).test(s);
}

/** readNumber reads a number as the language writes it: spaces as
 * thousands signs ("1 200" in French and Polish), the other sign than the
 * decimal one as thousands sign when it groups by three ("1.200" in
 * German, "1,200" in English), the decimal comma. null: not a number. */
function readNumber(text: string, decimal: string): number | null {
  let s = text.replace(/[\s\u00a0\u202f]/g, '');
  const group = decimal === ',' ? '.' : ',';
  if (thousands(s, group)) s = s.split(group).join('');
  if (decimal === ',') s = s.replace(',', '.');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** decimalSeparator is the decimal sign of the language shown ("." or ","). */
export function decimalSeparator(): string {
  return formatNumber(1.5, 1).replace(/\d/g, '') || '.';
}

/** editable is a value as the result field offers it for editing: numbers
 * with the language's decimal sign and no grouping (parseTyped reads them
 * back), anything else as it is; null is empty. */
export function editable(v: unknown, decimal: string = decimalSeparator()): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v).replace('.', decimal);
  return String(v);
}

/** mergedRow builds the resolved row: theirs as the start (bookkeeping and
 * id included), each field from its choice. It returns the row and the
 * fields still undecided. */
export function mergedRow(
  diffs: FieldDiff[],
  choices: { [field: string]: Choice | undefined },
  theirs: Row,
): { row: Row; undecided: string[] } {
  const row: Row = { ...theirs };
  const undecided: string[] = [];
  for (const d of diffs) {
    const c = choices[d.field];
    if (!c) {
      undecided.push(d.field);
      continue;
    }
    row[d.field] = 'side' in c ? d[c.side] : parseTyped(c.typed, [d.base, d.mine, d.theirs]);
  }
  return { row, undecided };
}

/** A stored version as ConflictService.History returns it (of a row, or of
 * a conflict record when asked for table "sync_conflicts"). */
export interface StoredVersion {
  version: number;
  row?: Row | null;
}

/** The table of the conflict records themselves: History of a conflict id
 * there lists the record's versions. */
export const conflictsTable = 'sync_conflicts';

/** decisionVersion finds which version of the row a resolved conflict made,
 * from the server's history of the conflict record: the server writes the
 * row's version right after the decision into the record (row_version), so
 * it is read from the record's latest resolved version. 0 when none says
 * so. (app.Conflict carries it too, as rowVersion, from the record pulled
 * here; see localDecision.) */
export function decisionVersion(recordVersions: StoredVersion[] | null | undefined): number {
  let best = 0;
  let at = -Infinity;
  for (const v of recordVersions ?? []) {
    const r = v.row ?? {};
    const n = Number(r.row_version);
    if (r.status === 'resolved' && Number.isFinite(n) && n > 0 && v.version > at) {
      at = v.version;
      best = n;
    }
  }
  return best;
}

/** decidedRow is the row as the decision left it: its version `version`
 * in the row's history, or null (unknown version, or purged by the
 * server's retention). */
export function decidedRow(rowVersions: StoredVersion[] | null | undefined, version: number): Row | null {
  if (!version) return null;
  return (rowVersions ?? []).find((v) => v.version === version)?.row ?? null;
}

/** The decision of a resolved conflict: the row as decided and the row's
 * version the decision made. */
export interface Decision {
  row: Row;
  version: number;
}

/** localDecision is the decision of a resolved conflict as this computer
 * holds it: the Go side sets `decided` when the local row is clean at the
 * version the decision made (`rowVersion`), so it needs no server. null
 * when the conflict is not resolved, or the local row is not the decided
 * state (edited here, moved on since, not arrived): then the server's
 * history has to tell. */
export function localDecision(c: { status: string; decided?: unknown; rowVersion?: number } | null | undefined): Decision | null {
  if (!c || c.status !== 'resolved') return null;
  const row = c.decided;
  const version = Number(c.rowVersion);
  if (!row || typeof row !== 'object' || Array.isArray(row) || !Number.isFinite(version) || version <= 0) return null;
  return { row: row as Row, version };
}

/** decidedSides lists the sides whose value equals the decided one (none:
 * the manager typed the value). */
export function decidedSides(d: FieldDiff, value: unknown): Side[] {
  return (['base', 'mine', 'theirs'] as const).filter((s) => same(d[s], value));
}

/** display renders a field value for people. */
export function display(field: string, v: unknown): string {
  if (isSecret(field, v)) return v === null || v === undefined || v === '' ? t('conflicts.pin.none') : t('conflicts.pin.set');
  if (v === null || v === undefined || v === '') return '—';
  if (field === 'deleted_at' && typeof v === 'number') return t('conflicts.value.deleted', { when: formatDateTime(v) });
  if (typeof v === 'number') return formatNumber(v, 6);
  return String(v);
}

/** byName names who made a change: the person's name the Go side found
 * (it already falls back to the badge id, then "device 1234abcd", in
 * English: said again here in the language shown), else the short device
 * id. */
export function byName(name: string | undefined | null, deviceId: string | undefined | null): string {
  if (name && name.trim()) return named(name);
  if (deviceId) return t('conflicts.device', { id: deviceId.slice(0, 8) });
  return t('conflicts.unknown');
}

/** goDevice is the name of last resort the Go side gives a device
 * (app.shortDevice: "device " and the id's first eight characters). */
const goDevice = /^device ([0-9A-Za-z-]{1,8})$/;

/** named is a name from the Go side as the screen says it: a person's
 * name as it is, Go's "device 1234abcd" in the language shown. */
export function named(name: string): string {
  const m = goDevice.exec(name);
  return m ? t('conflicts.device', { id: m[1] }) : name;
}

/** around says the message key with one value left as a slot, and returns
 * the words before and after it: the screen puts an element there (a name
 * in bold), wherever the language puts it in the sentence. */
export function around(key: MessageKey, values: Values, slot: string): [string, string] {
  const mark = '\uE000';
  const text = t(key, { ...values, [slot]: mark });
  const i = text.indexOf(mark);
  if (i < 0) return [text, ''];
  return [text.slice(0, i), text.slice(i + mark.length)];
}

/** statusOrder sorts the inbox: open first, then auto-resolved, then resolved. */
export function sortInbox<T extends { status: string; createdAt: number }>(xs: T[]): T[] {
  const rank: { [s: string]: number } = { open: 0, auto_resolved: 1, resolved: 2 };
  return [...xs].sort((a, b) => (rank[a.status] ?? 3) - (rank[b.status] ?? 3) || b.createdAt - a.createdAt);
}

export interface InboxFilter {
  status: '' | 'open' | 'auto_resolved' | 'resolved';
  table: string;
  line: string;
  device: string;
  from: number; // ms, inclusive; 0 = any
  to: number; // ms, exclusive; 0 = any
}

export const emptyInboxFilter: InboxFilter = { status: '', table: '', line: '', device: '', from: 0, to: 0 };

/** filterInbox applies the inbox filters (line matches any side's line_id;
 * "device" matches the device id or the name of who made the change). */
export function filterInbox<
  T extends { status: string; table: string; deviceId: string; mineByName?: string; createdAt: number; mine: Row; theirs: Row },
>(xs: T[], f: InboxFilter): T[] {
  const line = f.line.trim().toLowerCase();
  const device = f.device.trim().toLowerCase();
  return xs.filter(
    (c) =>
      (!f.status || c.status === f.status) &&
      (!f.table || c.table === f.table) &&
      (!line ||
        [c.mine?.line_id, c.theirs?.line_id].some((l) =>
          String(l ?? '')
            .toLowerCase()
            .includes(line),
        )) &&
      (!device || c.deviceId.toLowerCase().includes(device) || (c.mineByName ?? '').toLowerCase().includes(device)) &&
      (!f.from || c.createdAt >= f.from) &&
      (!f.to || c.createdAt < f.to),
  );
}

/** clock24 renders ms as a local 24-hour time in the language shown:
 * "14:02" today, else with the date ("2026-12-06 14:02" in English,
 * "06.12.2026 14:02" in German). */
export function clock24(ms: number, now: number = Date.now()): string {
  const d = new Date(ms);
  const n = new Date(now);
  if (d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate()) return formatTime(ms);
  return formatDateTime(ms);
}

/** The people behind a conflict's sides, in words. */
export interface SideNames {
  /** who made the change that met the conflict ("mine") */
  mine: string;
  /** who saved the server's state first ("theirs") */
  theirs: string;
  /** the column headings: "Ana Operator, 14:05 — this terminal" */
  heading: { base: string; mine: string; theirs: string };
}

/** sideNames names a conflict's sides after people and times, never
 * "mine"/"theirs": the server's state was saved first; the other change
 * was made on this terminal or on another one. thisDevice is this
 * computer's device id. */
export function sideNames(
  c: { deviceId: string; mineByName?: string; theirsByName?: string; base?: unknown; mine?: unknown; theirs?: unknown },
  thisDevice: string,
  theirs: unknown = c.theirs,
  now: number = Date.now(),
): SideNames {
  // who, and when the side was saved ("Ana Operator, 14:05").
  const at = (name: string, r: unknown) => {
    const ms = Number((r as Row | null)?.updated_at);
    return Number.isFinite(ms) && ms > 0 ? t('conflicts.side.at', { name, time: clock24(ms, now) }) : name;
  };
  const here = !!thisDevice && c.deviceId === thisDevice;
  const mine = byName(c.mineByName, c.deviceId);
  const first =
    c.theirsByName && c.theirsByName.trim()
      ? named(c.theirsByName)
      : here
        ? t('conflicts.side.anotherTerminal')
        : t('conflicts.side.otherChange');
  return {
    mine,
    theirs: first,
    heading: {
      base: at(t('conflicts.head.base'), c.base),
      mine: t(here ? 'conflicts.head.thisTerminal' : 'conflicts.head.savedSecond', { who: at(mine, c.mine) }),
      theirs: t('conflicts.head.savedFirst', { who: at(first, theirs) }),
    },
  };
}

/** foldUnchanged splits the diff rows into those someone changed and the
 * unchanged ones, which the screen folds away. */
export function foldUnchanged<T extends { kind: FieldKind }>(diffs: T[]): { changed: T[]; unchanged: T[] } {
  return { changed: diffs.filter((d) => d.kind !== 'same'), unchanged: diffs.filter((d) => d.kind === 'same') };
}

/** openConflictRows is the ids of the rows of table with an open conflict:
 * the screens listing those rows flag them. */
export function openConflictRows(cs: { status: string; table: string; rowId: string }[] | null | undefined, table: string): Set<string> {
  return new Set((cs ?? []).filter((c) => c.status === 'open' && c.table === table).map((c) => c.rowId));
}

/** multiLine: fields whose merged value is edited in a multi-line editor. */
export const multiLineFields = new Set(['notes']);
