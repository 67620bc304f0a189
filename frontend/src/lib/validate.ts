// Validation of form fields against the rules the Go table registry declares
// (app.SchemaService.Tables, held by stores/schema.ts), so a person sees a
// message next to a field before the store is asked. The store checks
// again; its errors land on the same field through fieldErrorFrom. No rule
// is written here: the registry is their one place (issue 18 point 4).
import type { FieldRule } from './api';
import { ApiError, errorText } from './api';
import { formatQuantity } from './format';
import { columnLabel } from './columns';
import { t } from '../i18n';

/** fieldLabel names a rule's field in the language shown, from the message
 * files ("errors.field.<column>", as the conflict diff names it). */
export function fieldLabel(rule: Pick<FieldRule, 'column'>): string {
  return columnLabel(rule.column);
}

/** FieldErrors maps a column name to the sentence shown next to its field. */
export type FieldErrors = { [column: string]: string };

/** A form value as typed: text for text fields; text or number for numbers. */
export type FormValue = string | number | null | undefined;

function blank(v: FormValue): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
}

/** validateField returns the sentence for the first problem with v, or ''. */
export function validateField(rule: FieldRule, v: FormValue): string {
  const field = fieldLabel(rule);
  if (blank(v)) {
    return rule.required ? t('validate.required', { field }) : '';
  }
  if (rule.kind === 'text') {
    const s = String(v).trim();
    const n = [...s].length;
    if (rule.maxLen > 0 && n > rule.maxLen) {
      return t('validate.tooLong', { field, length: n, max: rule.maxLen });
    }
    if (n < rule.minLen) return t('validate.required', { field });
    return '';
  }
  const num = typeof v === 'number' ? v : Number(String(v).trim().replace(',', '.'));
  if (!Number.isFinite(num)) return t('validate.number', { field });
  if (rule.kind === 'integer' && !Number.isInteger(num)) return t('validate.integer', { field });
  if (rule.hasRange && (num < rule.min || num > rule.max)) {
    return t('validate.range', { field, min: formatQuantity(rule.min), max: formatQuantity(rule.max) });
  }
  return '';
}

/** validateForm checks every rule against values and returns the problems. */
export function validateForm(rules: FieldRule[], values: { [column: string]: FormValue }): FieldErrors {
  const out: FieldErrors = {};
  for (const r of rules) {
    const msg = validateField(r, values[r.column]);
    if (msg) out[r.column] = msg;
  }
  return out;
}

/** fieldErrorFrom places an error from the store next to its field; errors
 * about no field go under the key "" (shown above the form's buttons). */
export function fieldErrorFrom(e: unknown): FieldErrors {
  if (e instanceof ApiError) return { [e.field ?? '']: errorText(e) };
  return { '': e instanceof Error ? e.message : String(e) };
}

/** parseOptionalNumber turns an optional numeric field's text into a number
 * or undefined (blank). Call after validation. */
export function parseOptionalNumber(v: FormValue): number | undefined {
  if (blank(v)) return undefined;
  return typeof v === 'number' ? v : Number(String(v).trim().replace(',', '.'));
}
