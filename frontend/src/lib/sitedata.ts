// Checks and helpers of the site data forms (lines, products, people, site
// settings). The Go side validates again (protocol registry, tzdata, the
// shift parser) and its field errors land beside the same fields; these
// checks only spare a round trip for the obvious mistakes.
import { ApiError } from './api';
import type { FieldErrors } from './validate';

/** minPinLength is the fewest digits of a new PIN for role: 6 for
 * supervisors and managers, whose PIN opens site data and conflict
 * decisions, 4 for operators (backend/signin.MinPINLen). */
export function minPinLength(role: string): number {
  return role === 'supervisor' || role === 'manager' ? 6 : 4;
}

/** pinProblem checks a PIN typed in the people form: empty keeps the
 * current PIN; otherwise minPinLength(role)–32 digits (backend/pin.Check,
 * backend/signin.MinPINLen). */
export function pinProblem(pin: string, role = 'operator'): string {
  if (pin === '') return '';
  if (!/^[0-9]+$/.test(pin)) return 'A PIN is digits only.';
  const min = minPinLength(role);
  if (pin.length < min) return min > 4 ? `A ${role}'s PIN has at least ${min} digits.` : `A PIN has at least ${min} digits.`;
  if (pin.length > 32) return 'A PIN has at most 32 digits.';
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
  if (!parts.length) return 'Write at least one shift as Name=HH:MM (e.g. Early=06:00,Late=14:00,Night=22:00).';
  const starts = new Set<number>();
  for (const part of parts) {
    const at = part.includes('=') ? part.slice(part.indexOf('=') + 1).trim() : part;
    const m = /^(\d{1,2}):(\d{1,2})$/.exec(at);
    if (!m) return `Write each shift as Name=HH:MM, separated by commas (e.g. Early=06:00,Late=14:00,Night=22:00); “${part}” is not.`;
    const h = Number(m[1]);
    const min = Number(m[2]);
    if (h > 23 || min > 59) return `“${part}” is not a time of day (00:00–23:59).`;
    if (starts.has(h * 60 + min)) return `Two shifts start at ${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}.`;
    starts.add(h * 60 + min);
  }
  return '';
}

/** intProblem checks an optional whole number in [min, max] ("" = default). */
export function intProblem(label: string, v: string, min: number, max: number): string {
  const t = v.trim();
  if (t === '') return '';
  if (!/^[0-9]+$/.test(t)) return `${label} must be a whole number.`;
  const n = Number(t);
  if (n < min || n > max) return `${label} must be between ${min.toLocaleString()} and ${max.toLocaleString()}.`;
  return '';
}

/** requiredProblem checks a required text of at most max characters. */
export function requiredProblem(label: string, v: string, max = 128): string {
  const t = v.trim();
  if (t === '') return `${label} is required.`;
  const n = [...t].length;
  if (n > max) return `${label} is ${n} characters long; the limit is ${max}.`;
  return '';
}

/** optionalProblem checks an optional text of at most max characters. */
export function optionalProblem(label: string, v: string, max: number): string {
  const n = [...v.trim()].length;
  return n > max ? `${label} is ${n} characters long; the limit is ${max}.` : '';
}

/** quantityProblem checks an optional plausible quantity of a product: ''
 * when empty or a whole number from 0 to 1,000,000,000, else a sentence. */
export function quantityProblem(label: string, v: string): string {
  const t = v.trim();
  if (!t) return '';
  if (!/^\d+$/.test(t)) return `${label} is a whole number, like 500.`;
  if (Number(t) > 1_000_000_000) return `${label} is at most 1,000,000,000.`;
  return '';
}

/** rangeLabel is a product's plausible quantity range as the site list shows it. */
export function rangeLabel(min: number | null | undefined, max: number | null | undefined, unit = ''): string {
  const u = unit ? ` ${unit}` : '';
  const has = (n: number | null | undefined) => n !== null && n !== undefined;
  if (has(min) && has(max)) return `${min}–${max}${u}`;
  if (has(max)) return `up to ${max}${u}`;
  if (has(min)) return `from ${min}${u}`;
  return '—';
}

/** placeError puts a Go error beside its form field. The Go side names the
 * column (time_zone, badge_id, …); aliases maps those (and the camelCase
 * input names) to the form's keys. Errors about no known field go under "". */
export function placeError(e: unknown, aliases: { [goField: string]: string }): FieldErrors {
  if (e instanceof ApiError) {
    const key = e.field ? (aliases[e.field] ?? aliases[e.field.toLowerCase()] ?? '') : '';
    return { [key]: e.message };
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
