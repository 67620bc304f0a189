// What quantity of one record is plausible (issue 20, item 2): a product may
// carry a range (site data, synced); without one, anything above
// DEFAULT_MAX is. A quantity outside is saved only after a click on
// "Save N" — never Enter, which a scanner sends after every scan.
import { formatQuantity } from './format';
import { t } from '../i18n';

/** DEFAULT_MAX: the plausible maximum of a product without a range. */
export const DEFAULT_MAX = 10_000;

/** ProductRange is the part of a site product the check reads. */
export interface ProductRange {
  code: string;
  unit?: string;
  minQuantity?: number | null;
  maxQuantity?: number | null;
}

const withUnit = (n: number, unit: string) => (unit ? t('quantity.withUnit', { n: formatQuantity(n), unit }) : formatQuantity(n));

/** implausible returns the sentence asking to confirm q, or '' when q is
 * plausible for product p (undefined: a product the site does not list). */
export function implausible(q: number, p?: ProductRange): string {
  if (!Number.isFinite(q)) return '';
  const unit = p?.unit?.trim() ?? '';
  const min = p?.minQuantity ?? null;
  const max = p?.maxQuantity ?? null;
  const values = { q: withUnit(q, unit), save: formatQuantity(q) };
  if (min === null && max === null) {
    if (q <= DEFAULT_MAX) return '';
    return t('quantity.aboveUsual', { ...values, limit: withUnit(DEFAULT_MAX, unit) });
  }
  if (max !== null && q > max) return t('quantity.aboveProduct', { ...values, limit: withUnit(max, unit), product: p!.code });
  if (min !== null && q < min) return t('quantity.belowProduct', { ...values, limit: withUnit(min, unit), product: p!.code });
  return '';
}
