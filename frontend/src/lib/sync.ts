// Sync state in words for the status bar and the sync screen. Pure
// functions: values in, text out, so they are tested without a backend.
import type { SyncStatus } from './api';
import { formatQuantity } from './format';

export type Tone = 'ok' | 'warn' | 'danger' | 'off' | 'busy';

export interface Headline {
  tone: Tone;
  label: string;
}

/** headline is the first word of the status bar: where this device stands. */
export function headline(s: SyncStatus | null): Headline {
  if (!s) return { tone: 'off', label: 'Sync starting' };
  if (!s.enrolled) return { tone: 'off', label: 'Not connected' };
  if (s.syncing) return { tone: 'busy', label: 'Syncing' };
  if (s.online) return { tone: 'ok', label: 'Online' };
  return { tone: 'warn', label: 'Offline' };
}

/** unsynced is what this device holds that the server does not have yet. */
export function unsynced(s: SyncStatus): number {
  return (s.pending || 0) + (s.in_flight || 0);
}

/** ago renders a past moment for people: "just now", "30 s ago", "4 min ago",
 * "2 h ago", "3 days ago". 0 means never. */
export function ago(ms: number, now: number = Date.now()): string {
  if (!ms) return 'never';
  const d = Math.max(0, now - ms);
  if (d < 10_000) return 'just now';
  if (d < 60_000) return `${Math.floor(d / 1000)} s ago`;
  if (d < 3600_000) return `${Math.floor(d / 60_000)} min ago`;
  if (d < 24 * 3600_000) return `${Math.floor(d / 3600_000)} h ago`;
  const days = Math.floor(d / (24 * 3600_000));
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

/** clockWarning explains a device clock that is off, or returns "". */
export function clockWarning(s: SyncStatus): string {
  if (!s.clock_warning) return '';
  const off = s.clock_offset_ms;
  const min = Math.round(Math.abs(off) / 60_000);
  const amount = min >= 120 ? `${Math.round(min / 60)} hours` : `${min} minutes`;
  // offset = server − device: positive means the device is behind.
  return `This computer's clock is ${amount} ${off > 0 ? 'behind' : 'ahead of'} the server. Ask IT to set the time; times you record may look wrong.`;
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
  if (p.phase === 'push') return `Sending… ${formatQuantity(p.pushed, locale)} sent`;
  const f = progressOf(s);
  let label = `Receiving… ${formatQuantity(p.pulled, locale)} received`;
  if (f !== null && f < 1) label += ` (${Math.floor(f * 100)}%)`;
  return label;
}

/** isLongSync: a sync worth a progress bar (a page or more to move). */
export function isLongSync(s: SyncStatus): boolean {
  const p = s.progress;
  if (!s.syncing || !p || !p.phase) return false;
  return p.pushed + p.pulled >= 500 || (p.target > 0 && p.target - p.cursor >= 500);
}

/** reasonText turns a quarantine reason ("code: sentence") into the sentence. */
export function reasonText(reason: string): string {
  const m = /^([a-z_]+):\s*(.+)$/s.exec(reason.trim());
  if (!m) return reason.trim() || 'The server refused this change without a reason.';
  const s = m[2].trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** tableLabel names a synced table for people. */
export function tableLabel(table: string): string {
  switch (table) {
    case 'production_records':
      return 'Production record';
    case 'line_configs':
      return 'Line configuration';
    case 'people':
      return 'Person';
    case 'lines':
      return 'Line';
    case 'products':
      return 'Product';
    case 'site_settings':
      return 'Site settings';
    default:
      return table;
  }
}

/** rowSummary is a one-line description of a synced row. */
export function rowSummary(table: string, row: { [k: string]: unknown }): string {
  const str = (k: string) => (row[k] === null || row[k] === undefined ? '' : String(row[k]));
  if (table === 'production_records') {
    return `Line ${str('line_id')} · ${str('product_id')} × ${str('quantity')} · operator ${str('operator_id')}`;
  }
  if (table === 'line_configs') return `Line ${str('line_id')} · recipe ${str('recipe')}`;
  return str('id');
}

/** unsettledText lists what unenrolling would lose, from the counts; "" when
 * nothing would be. */
export function unsettledText(s: SyncStatus): string {
  const parts: string[] = [];
  const add = (n: number, one: string, many: string) => n > 0 && parts.push(`${formatQuantity(n)} ${n === 1 ? one : many}`);
  add(unsynced(s), 'change not yet sent', 'changes not yet sent');
  add(s.awaiting_review || 0, 'change awaiting a manager’s review', 'changes awaiting a manager’s review');
  add(s.rejected || 0, 'change the server refused', 'changes the server refused');
  return parts.join(', ');
}

/** Verify is the last verification against the server's checksums
 * (syncclient.Verification, DESIGN.md section 8). */
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

/** clockTime renders ms as the local "HH:MM". */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
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
  return { tone: 'ok', label: `Verified with the server at ${clockTime(v.at)}` };
}

const tablesLabel: { [table: string]: string } = {
  production_records: 'Production records',
  line_configs: 'Line configurations',
  lines: 'Lines',
  products: 'Products',
  people: 'People',
  site_settings: 'Site settings',
  sync_conflicts: 'Conflict records',
};

/** verifiedTables lists the tables of the last verification with their
 * live rows, by the people's name of each table. */
export function verifiedTables(s: SyncStatus | null): { table: string; label: string; count: number }[] {
  const v = verifyOf(s);
  if (!v || !v.tables) return [];
  return Object.entries(v.tables)
    .map(([table, count]) => ({ table, label: tablesLabel[table] ?? table, count }))
    .sort((a, b) => a.label.localeCompare(b.label));
}
