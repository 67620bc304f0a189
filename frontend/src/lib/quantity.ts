// What quantity of one record is plausible (issue 20, item 2): a product may
// carry a range (site data, synced); without one, anything above
// DEFAULT_MAX is. A quantity outside is saved only after a click on
// "Save N" — never Enter, which a scanner sends after every scan.
import { formatQuantity } from './format';

/** DEFAULT_MAX: the plausible maximum of a product without a range. */
export const DEFAULT_MAX = 10_000;

/** ProductRange is the part of a site product the check reads. */
export interface ProductRange {
  code: string;
  unit?: string;
  minQuantity?: number | null;
  maxQuantity?: number | null;
}

const withUnit = (n: number, unit: string) => (unit ? `${formatQuantity(n)} ${unit}` : formatQuantity(n));

/** implausible returns the sentence asking to confirm q, or '' when q is
 * plausible for product p (undefined: a product the site does not list). */
export function implausible(q: number, p?: ProductRange): string {
  if (!Number.isFinite(q)) return '';
  const unit = p?.unit?.trim() ?? '';
  const min = p?.minQuantity ?? null;
  const max = p?.maxQuantity ?? null;
  const save = `if it is right, press “Save ${formatQuantity(q)}”.`;
  if (min === null && max === null) {
    if (q <= DEFAULT_MAX) return '';
    return `${withUnit(q, unit)} is more than the usual maximum of ${withUnit(DEFAULT_MAX, unit)}. Check it; ${save}`;
  }
  if (max !== null && q > max) return `${withUnit(q, unit)} is more than the usual maximum of ${withUnit(max, unit)} for ${p!.code}. Check it; ${save}`;
  if (min !== null && q < min) return `${withUnit(q, unit)} is less than the usual minimum of ${withUnit(min, unit)} for ${p!.code}. Check it; ${save}`;
  return '';
}
