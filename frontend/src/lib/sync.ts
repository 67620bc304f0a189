// Sync state in words for the status bar and the sync screen. Pure
// functions: values in, text out, so they are tested without a backend.
import { ApiError, errorText, rejectionError, type FieldRule, type SyncSettings, type SyncStatus } from './api';
import { formatQuantity, formatTime, formatTimeOrDate } from './format';
import { intlLocale, t, type MessageKey } from '../i18n';

export type Tone = 'ok' | 'warn' | 'danger' | 'off' | 'busy';

export interface Headline {
  tone: Tone;
  label: string;
}

/** headline is the first word of the status bar: where this device stands. */
export function headline(s: SyncStatus | null): Headline {
  if (!s) return { tone: 'off', label: t('sync.headline.starting') };
  if (!s.enrolled) return { tone: 'off', label: t('sync.headline.notConnected') };
  if (s.syncing) return { tone: 'busy', label: t('sync.headline.syncing') };
  if (s.online) return { tone: 'ok', label: t('sync.headline.online') };
  return { tone: 'warn', label: t('sync.headline.offline') };
}

/** unsynced is what this device holds that the server does not have yet. */
export function unsynced(s: SyncStatus): number {
  return (s.pending || 0) + (s.inFlight || 0);
}

/** ago renders a past moment for people: "just now", "30 s ago", "4 min ago",
 * "2 h ago", "3 days ago". 0 means never. */
export function ago(ms: number, now: number = Date.now()): string {
  if (!ms) return t('ago.never');
  const d = Math.max(0, now - ms);
  if (d < 10_000) return t('ago.justNow');
  if (d < 60_000) return t('ago.seconds', { count: Math.floor(d / 1000) });
  if (d < 3600_000) return t('ago.minutes', { count: Math.floor(d / 60_000) });
  if (d < 24 * 3600_000) return t('ago.hours', { count: Math.floor(d / 3600_000) });
  return t('ago.days', { count: Math.floor(d / (24 * 3600_000)) });
}

/** clockWarning explains a device clock that is off, or returns "". */
export function clockWarning(s: SyncStatus): string {
  if (!s.clockWarning) return '';
  const off = s.clockOffsetMs;
  const min = Math.round(Math.abs(off) / 60_000);
  const amount = min >= 120 ? t('clock.hours', { count: Math.round(min / 60) }) : t('clock.minutes', { count: min });
  // offset = server − device: positive means the device is behind.
  return off > 0 ? t('clock.behind', { amount }) : t('clock.ahead', { amount });
}

/** progressOf is the progress bar's fraction during a pull whose end the
 * server announced, else null (no bar). */
export function progressOf(s: SyncStatus): number | null {
  const p = s.progress;
  if (!s.syncing || !p || p.phase !== 'pull' || p.target <= 0) return null;
  return Math.min(1, Math.max(0, p.cursor / p.target));
}

/** progressLabel counts the work of the sync in progress, or "". */
export function progressLabel(s: SyncStatus, locale?: string): string {
  const p = s.progress;
  if (!s.syncing || !p || !p.phase) return '';
  if (p.phase === 'push') return t('sync.progress.sending', { n: formatQuantity(p.pushed, locale) });
  const f = progressOf(s);
  const n = formatQuantity(p.pulled, locale);
  if (f !== null && f < 1) return t('sync.progress.receivingPercent', { n, percent: Math.floor(f * 100) });
  return t('sync.progress.receiving', { n });
}

/** isLongSync: a sync worth a progress bar (a page or more to move). */
export function isLongSync(s: SyncStatus): boolean {
  const p = s.progress;
  if (!s.syncing || !p || !p.phase) return false;
  return p.pushed + p.pulled >= 500 || (p.target > 0 && p.target - p.cursor >= 500);
}

/** reasonText says a quarantine reason (the server's "code: sentence")
 * in the language shown: its code and values from the errors dictionary,
 * with the limits of the row's table from the registry (rules, from
 * tableRules); the server's sentence in English or for a code without a
 * message. */
export function reasonText(reason: string, rules: readonly FieldRule[] = []): string {
  if (!reason.trim()) return t('sync.reason.none');
  return errorText(rejectionError(reason, rules));
}

/** lastErrorCodes are the sync client's sentences (backend/syncclient
 * Sentence) with the error code and rule that say them in any language:
 * the status carries only the sentence. The first prefix that matches
 * wins, so a 401's reason (unauthorizedSentence: the server does not know
 * this computer, or IT revoked it) comes before the sentence without one. */
const lastErrorCodes: [prefix: string, code: string, rule?: string][] = [
  ['This computer is not connected to a sync server yet', 'sync_failed', 'not_enrolled'],
  ['The sync server no longer accepts this computer: it does not know this computer', 'unauthorized', 'unknown_device'],
  ['The sync server no longer accepts this computer: IT revoked it', 'unauthorized', 'device_revoked'],
  ['The sync server no longer accepts this computer', 'unauthorized'],
  ['The sync server needs a newer version of Outpost', 'sync_failed', 'protocol_too_old'],
  ['The sync server was restored from a backup', 'sync_failed', 'timeline_changed'],
  ['The sync server cannot be reached', 'offline'],
];

/** lastErrorText says why the last sync did not work in the language
 * shown; a sentence it does not know (a server's refusal, a local
 * problem) stays as Go wrote it. */
export function lastErrorText(s: SyncStatus): string {
  const msg = (s.lastError ?? '').trim();
  const hit = lastErrorCodes.find(([prefix]) => msg.startsWith(prefix));
  if (!hit) return msg;
  const [, code, rule] = hit;
  return errorText(new ApiError(code, msg, undefined, rule ? { rule } : {}));
}

const tableNames: { [table: string]: MessageKey } = {
  production_records: 'table.one.production_records',
  line_configs: 'table.one.line_configs',
  people: 'table.one.people',
  lines: 'table.one.lines',
  products: 'table.one.products',
  site_settings: 'table.one.site_settings',
};

/** tableLabel names a synced table for people. */
export function tableLabel(table: string): string {
  const k = tableNames[table];
  return k ? t(k) : table;
}

/** rowSummary is a one-line description of a synced row. */
export function rowSummary(table: string, row: { [k: string]: unknown }): string {
  const str = (k: string) => (row[k] === null || row[k] === undefined ? '' : String(row[k]));
  if (table === 'production_records') {
    return t('sync.row.record', {
      line: str('line_id'),
      product: str('product_id'),
      quantity: str('quantity'),
      operator: str('operator_id'),
    });
  }
  if (table === 'line_configs') return t('sync.row.lineConfig', { line: str('line_id'), recipe: str('recipe') });
  return str('id');
}

/** unsettledText lists what this computer holds that the server does not
 * have (or has not accepted), from the counts; "" when nothing. */
export function unsettledText(s: SyncStatus): string {
  const parts: string[] = [];
  const add = (n: number, key: MessageKey) => n > 0 && parts.push(t(key, { count: n, n: formatQuantity(n) }));
  add(unsynced(s), 'sync.unsettled.unsent');
  add(s.awaitingReview || 0, 'sync.unsettled.review');
  add(s.rejected || 0, 'sync.unsettled.refused');
  return parts.join(t('common.listSeparator'));
}

/** unsettledWarning is the Sync screen's question before disconnecting a
 * computer that holds work the server does not have (the Go side refused
 * with "unsettled"): what becomes of that work, then what this computer
 * holds now. The sentence is the errors dictionary's in every language,
 * English too: Go's English sentence names the counts but says the work
 * would be lost, which stopped being true when enrolling again at the same
 * site began to send it all (issue 15, backend/store SetEnrollment). */
export function unsettledWarning(s: SyncStatus | null): string {
  const said = errorText(new ApiError('unsettled', ''));
  const list = s ? unsettledText(s) : '';
  return list ? `${said} ${t('sync.disconnect.holds', { list })}` : said;
}

/** Verify is the last verification against the server's checksums
 * (app.SyncVerification, docs/design.md section 8). */
export interface Verify {
  at: number;
  cursor: number;
  tables: { [table: string]: number } | null;
  problem: string;
  repaired: number;
  unresolved: number;
}

/** verifyOf reads a status's verification, null when it has none. */
export function verifyOf(s: SyncStatus | null): Verify | null {
  const v = (s as unknown as { verify?: Verify } | null)?.verify;
  return v ? v : null;
}

/** clockTime renders ms as the local 24-hour time ("14:02"). */
export function clockTime(ms: number): string {
  return formatTime(ms);
}

/** verifiedLabel is the status bar's line beside the sync state: "Verified
 * with the server at 14:02", or why not ("3 rows differ; repairing",
 * "cannot verify: …"), or "" before any verification. */
export function verifiedLabel(s: SyncStatus | null): { tone: Tone; label: string } {
  const v = verifyOf(s);
  if (!s || !s.enrolled || !v) return { tone: 'off', label: '' };
  if (v.problem) {
    const label = v.problem.charAt(0).toUpperCase() + v.problem.slice(1);
    return { tone: v.problem.includes('repairing') ? 'busy' : 'warn', label };
  }
  if (!v.at) return { tone: 'off', label: '' };
  return { tone: 'ok', label: t('sync.verified', { time: clockTime(v.at) }) };
}

/** headquartersDown: this computer reaches its site hub, and the hub's
 * link to headquarters is down (offline, the hub's last word is stale: the
 * usual "when the server can be reached" holds). s.headquarters is absent
 * when the server is headquarters itself. */
export function headquartersDown(s: SyncStatus | null): boolean {
  return !!s && s.enrolled && s.online && !!s.headquarters && !s.headquarters.up;
}

/** headquartersLabel is the status bar's line on a terminal of a site hub
 * cut off from headquarters: "Headquarters not reached since 14:02 · 3
 * changes wait on site" (the hub's time, on this computer's clock:
 * clockOffsetMs = server − device), and a title saying the site keeps
 * working; '' when the link is up, with headquarters itself, or offline
 * (the hub is not reached either, which the sync state says). */
export function headquartersLabel(s: SyncStatus | null, now: number = Date.now()): { label: string; title: string } {
  const hq = s?.headquarters;
  if (!s || !hq || !headquartersDown(s)) return { label: '', title: '' };
  const since = hq.lastSync - (s.clockOffsetMs || 0);
  const parts = [hq.lastSync > 0 ? t('statusbar.hqDown', { time: formatTimeOrDate(since, now) }) : t('statusbar.hqNever')];
  if (hq.waiting > 0) parts.push(t('statusbar.hqWaiting', { count: hq.waiting }));
  return { label: parts.join(' · '), title: t('statusbar.hqTitle') };
}

const tablesLabel: { [table: string]: MessageKey } = {
  production_records: 'table.many.production_records',
  line_configs: 'table.many.line_configs',
  lines: 'table.many.lines',
  products: 'table.many.products',
  people: 'table.many.people',
  site_settings: 'table.many.site_settings',
  sync_conflicts: 'table.many.sync_conflicts',
};

/** verifiedTables lists the tables of the last verification with their
 * live rows, by the people's name of each table. */
export function verifiedTables(s: SyncStatus | null): { table: string; label: string; count: number }[] {
  const v = verifyOf(s);
  if (!v || !v.tables) return [];
  return Object.entries(v.tables)
    .map(([table, count]) => ({ table, label: tablesLabel[table] ? t(tablesLabel[table]) : table, count }))
    .sort((a, b) => a.label.localeCompare(b.label, intlLocale()));
}

/** managedLanguage is IT's default language from the managed configuration
 * (the settings' "language" field: "de", "pt-BR"), or null for none. */
export function managedLanguage(
  s: Pick<SyncSettings, 'fields'> | { fields: { field: string; value: string }[] } | null | undefined,
): string | null {
  const f = s?.fields?.find((x) => x.field === 'language');
  return f?.value?.trim() || null;
}

/** dataMark names what a sync:status says about the data on this device:
 * it changes when a sync starts or ends, when a write here changes the
 * counts (every local write is announced with one), when the pull brings
 * or settles conflicts, and with the enrollment; a progress tick during a
 * sync and a change of connection leave it as it was. A screen that shows
 * such data reads it again when the mark changes (the Go side announces
 * each of these changes, so it does not poll). '' without a status. */
export function dataMark(s: SyncStatus | null): string {
  if (!s) return '';
  return [s.enrolled, s.role, s.syncing, s.lastSync, s.pending, s.inFlight, s.awaitingReview, s.rejected, s.openConflicts].join('|');
}
