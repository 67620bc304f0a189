// Formatting of values for people, in the language shown now (src/i18n):
// Intl for numbers, one date format and one 24-hour time format per
// language. Functions take an optional Intl locale so tests can pin one;
// screens leave it out. Called in a component's markup or a $derived, they
// run again when the language changes (they read the locale's rune state).
import { currentLocaleInfo, intlLocale, t } from '../i18n';

/** formatQuantity renders an integer with the locale's thousands separators. */
export function formatQuantity(n: number, locale: string = intlLocale()): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(n);
}

/** formatNumber renders a measured value with up to `digits` decimals. */
export function formatNumber(n: number, digits = 2, locale: string = intlLocale()): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(n);
}

/** formatDate renders ms since the epoch as the locale's numeric date
 * ("2026-12-07" in English, "07.12.2026" in German, "2026/12/07" in Chinese).
 * No Intl pattern of English writes the ISO order, so isoDate languages put
 * Intl's own year, month and day parts in it. */
export function formatDate(ms: number): string {
  const info = currentLocaleInfo();
  const f = new Intl.DateTimeFormat(info.intl, { year: 'numeric', month: '2-digit', day: '2-digit' });
  if (!info.isoDate) return f.format(ms);
  const part = Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day}`;
}

/** formatTime renders ms as a 24-hour local time ("07:04"): a plant's shifts
 * run round the clock, and every language here writes it so. */
export function formatTime(ms: number, locale: string = intlLocale()): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
}

/** formatDateTime renders ms as the local date and time. */
export function formatDateTime(ms: number): string {
  return t('format.dateTime', { date: formatDate(ms), time: formatTime(ms) });
}

function sameDay(a: number, b: number): boolean {
  const d = new Date(a);
  const n = new Date(b);
  return d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
}

/** formatWhen renders ms as "Today 07:04" when it is today, else as a date and time. */
export function formatWhen(ms: number, now: number = Date.now()): string {
  return sameDay(ms, now) ? t('format.today', { time: formatTime(ms) }) : formatDateTime(ms);
}

/** formatTimeOrDate renders ms as "07:04" when it is today, else as a date
 * and time: formatWhen inside a sentence ("since 07:04"). */
export function formatTimeOrDate(ms: number, now: number = Date.now()): string {
  return sameDay(ms, now) ? formatTime(ms) : formatDateTime(ms);
}

/** formatSpan renders a stretch of time, such as a shift, as short weekday,
 * day, month and time at both ends ("Mon 7 Dec, 06:00 – Mon 7 Dec, 14:00"). */
export function formatSpan(from: number, to: number, locale: string = intlLocale()): string {
  const f = new Intl.DateTimeFormat(locale, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return `${f.format(new Date(from))} – ${f.format(new Date(to))}`;
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
  if (!encrypted) return t('format.cipher.none');
  return cipherVersion ? t('format.cipher.version', { version: cipherVersion }) : t('format.cipher.plain');
}

/** pendingLabel renders the pending-change count for the status screen. */
export function pendingLabel(n: number): string {
  if (n === 0) return t('format.pending.none');
  return t('format.pending.count', { count: n });
}

/** pendingNoun is the words after the pending count in the status bar. */
export function pendingNoun(n: number): string {
  return t('format.pending.noun', { count: n });
}

/** sendingNoun is the words after the pending count while a sync sends them. */
export function sendingNoun(n: number): string {
  return t('format.sending.noun', { count: n });
}
