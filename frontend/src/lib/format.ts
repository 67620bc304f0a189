// Formatting of values for people. Functions take an optional locale so tests
// are stable; screens use the WebView's.

const pad = (n: number) => String(n).padStart(2, '0');

/** formatQuantity renders an integer with thousands separators. */
export function formatQuantity(n: number, locale?: string): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(n);
}

/** formatCount renders "1 record" / "2,345 records". */
export function formatCount(n: number, one: string, many: string, locale?: string): string {
  return `${formatQuantity(n, locale)} ${n === 1 ? one : many}`;
}

/** formatDateTime renders ms since the epoch as local "YYYY-MM-DD HH:MM". */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** formatTime renders ms as local "HH:MM" when it is today, else as a date and time. */
export function formatWhen(ms: number, now: number = Date.now()): string {
  const d = new Date(ms);
  const n = new Date(now);
  if (d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate()) {
    return `Today ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  return formatDateTime(ms);
}

/** dayStart parses an <input type="date"> value ("YYYY-MM-DD") as local
 * midnight in ms; "" gives 0 (no bound). */
export function dayStart(value: string): number {
  if (!value) return 0;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return 0;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime();
}

/** dayEnd is the exclusive end of the given local day: the next midnight. */
export function dayEnd(value: string): number {
  const start = dayStart(value);
  if (!start) return 0;
  const d = new Date(start);
  d.setDate(d.getDate() + 1);
  return d.getTime();
}

/** cipherLabel describes the encryption for the status screen. */
export function cipherLabel(encrypted: boolean, cipherVersion: string): string {
  if (!encrypted) return 'Not encrypted';
  return cipherVersion ? `Encrypted · SQLCipher ${cipherVersion} (AES-256)` : 'Encrypted (AES-256)';
}

/** pendingLabel renders the pending-change count for the status bar. */
export function pendingLabel(n: number, locale?: string): string {
  if (n === 0) return 'Nothing waiting to sync';
  return `${formatCount(n, 'change', 'changes', locale)} not yet synced`;
}

/** pendingNoun is the words after the pending count in the status bar. */
export function pendingNoun(n: number): string {
  return n === 1 ? 'change not synced' : 'changes not synced';
}

/** sendingNoun is the words after the pending count while a sync sends them. */
export function sendingNoun(n: number): string {
  return n === 1 ? 'change being sent…' : 'changes being sent…';
}
