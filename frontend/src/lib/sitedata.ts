// Checks and helpers of the site data forms (lines, products, people, site
// settings). The Go side validates again (protocol registry, tzdata, the
// shift parser) and its field errors land beside the same fields; these
// checks only spare a round trip for the obvious mistakes.
// Sentences and labels are in the language shown (src/i18n, issue 21).
import { ApiError, errorText } from './api';
import { formatQuantity } from './format';
import { t } from '../i18n';
import type { FieldErrors } from './validate';

/** minPinLength is the fewest digits of a new PIN for role: 6 for
 * supervisors and managers, whose PIN opens site data and conflict
 * decisions, 4 for operators (backend/signin.MinPINLen). */
export function minPinLength(role: string): number {
  return role === 'supervisor' || role === 'manager' ? 6 : 4;
}

/** pinMaxLength is the most digits of a PIN (backend/pin.MaxLen). */
export const pinMaxLength = 32;

/** pinProblem checks a PIN typed in the people form: empty keeps the
 * current PIN; otherwise minPinLength(role)–32 digits (backend/pin.Check,
 * backend/signin.MinPINLen). */
export function pinProblem(pin: string, role = 'operator'): string {
  if (pin === '') return '';
  if (!/^[0-9]+$/.test(pin)) return t('site.check.pinDigits');
  const min = minPinLength(role);
  if (pin.length < min) return t('site.check.pinMin', { role: min > 4 ? role : 'other', min });
  if (pin.length > pinMaxLength) return t('site.check.pinMax', { max: pinMaxLength });
  return '';
}

/** shiftsProblem checks "Early=06:00,Late=14:00,Night=22:00" the way the
 * Go side's period.ParseShifts does: at least one shift, each an optional
 * "Name=" and a time of day, no two starting at the same time. */
export function shiftsProblem(s: string): string {
  const parts = s
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const example = t('site.settings.shiftsExample');
  if (!parts.length) return t('site.check.shiftsNone', { example });
  const starts = new Set<number>();
  for (const part of parts) {
    const at = part.includes('=') ? part.slice(part.indexOf('=') + 1).trim() : part;
    const m = /^(\d{1,2}):(\d{1,2})$/.exec(at);
    if (!m) return t('site.check.shiftFormat', { example, part });
    const h = Number(m[1]);
    const min = Number(m[2]);
    if (h > 23 || min > 59) return t('site.check.shiftTime', { part });
    if (starts.has(h * 60 + min))
      return t('site.check.shiftTwice', { time: `${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}` });
    starts.add(h * 60 + min);
  }
  return '';
}

/** intProblem checks an optional whole number in [min, max] ("" = default). */
export function intProblem(label: string, v: string, min: number, max: number): string {
  if (v.trim() === '') return '';
  if (!/^[0-9]+$/.test(v.trim())) return t('validate.integer', { field: label });
  const n = Number(v.trim());
  if (n < min || n > max) return t('validate.range', { field: label, min: formatQuantity(min), max: formatQuantity(max) });
  return '';
}

/** requiredProblem checks a required text of at most max characters. */
export function requiredProblem(label: string, v: string, max = 128): string {
  const s = v.trim();
  if (s === '') return t('validate.required', { field: label });
  const n = [...s].length;
  if (n > max) return t('validate.tooLong', { field: label, length: formatQuantity(n), max: formatQuantity(max) });
  return '';
}

/** optionalProblem checks an optional text of at most max characters. */
export function optionalProblem(label: string, v: string, max: number): string {
  const n = [...v.trim()].length;
  return n > max ? t('validate.tooLong', { field: label, length: formatQuantity(n), max: formatQuantity(max) }) : '';
}

/** quantityProblem checks an optional plausible quantity of a product: ''
 * when empty or a whole number from 0 to 1,000,000,000, else a sentence. */
export function quantityProblem(label: string, v: string): string {
  const s = v.trim();
  if (!s) return '';
  if (!/^\d+$/.test(s)) return t('site.check.quantityInteger', { field: label, example: formatQuantity(500) });
  if (Number(s) > 1_000_000_000) return t('site.check.quantityMax', { field: label, max: formatQuantity(1_000_000_000) });
  return '';
}

/** rangeLabel is a product's plausible quantity range as the site list shows it. */
export function rangeLabel(min: number | null | undefined, max: number | null | undefined, unit = ''): string {
  const u = unit ? ` ${unit}` : '';
  const q = (n: number | null | undefined) => (n === null || n === undefined ? null : formatQuantity(n));
  const lo = q(min);
  const hi = q(max);
  if (lo !== null && hi !== null) return t('site.range.both', { min: lo, max: hi }) + u;
  if (hi !== null) return t('site.range.upTo', { max: hi }) + u;
  if (lo !== null) return t('site.range.from', { min: lo }) + u;
  return '—';
}

/** placeError puts a Go error beside its form field, said in the language
 * shown (errorText: its code and rule). The Go side names the column
 * (time_zone, badge_id, …); aliases maps those (and the camelCase input
 * names) to the form's keys. Errors about no known field go under "". */
export function placeError(e: unknown, aliases: { [goField: string]: string }): FieldErrors {
  if (e instanceof ApiError) {
    const key = e.field ? (aliases[e.field] ?? aliases[e.field.toLowerCase()] ?? '') : '';
    return { [key]: errorText(e) };
  }
  return { '': e instanceof Error ? e.message : String(e) };
}

/** firstError returns the first key (in order) that has an error. */
export function firstError(errors: FieldErrors, order: string[]): string | undefined {
  return order.find((k) => errors[k]);
}

/** Time zones a site typically picks (the field accepts any IANA name). */
export const commonTimeZones = [
  'UTC',
  'Europe/London',
  'Europe/Dublin',
  'Europe/Lisbon',
  'Europe/Paris',
  'Europe/Berlin',
  'Europe/Madrid',
  'Europe/Rome',
  'Europe/Amsterdam',
  'Europe/Brussels',
  'Europe/Vienna',
  'Europe/Zurich',
  'Europe/Stockholm',
  'Europe/Warsaw',
  'Europe/Prague',
  'Europe/Budapest',
  'Europe/Bucharest',
  'Europe/Athens',
  'Europe/Helsinki',
  'Europe/Istanbul',
  'Africa/Casablanca',
  'Africa/Johannesburg',
  'Africa/Lagos',
  'Africa/Cairo',
  'Asia/Dubai',
  'Asia/Kolkata',
  'Asia/Bangkok',
  'Asia/Singapore',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Asia/Seoul',
  'Australia/Sydney',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Mexico_City',
  'America/Sao_Paulo',
  'America/Toronto',
];

export const personRoles = ['operator', 'supervisor', 'manager'] as const;

/** Column of a site data table: its header and the text of a row's cell. */
export interface Column<R> {
  label: string;
  value: (r: R) => string;
  mono?: boolean;
  muted?: (r: R) => boolean;
}
