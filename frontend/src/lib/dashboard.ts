// dashboard: the data transforms behind the dashboard screen, plain
// functions over the DashboardService's answer so they are tested alone.
import type { Dashboard } from './api';

/** Okabe-Ito: eight colours that stay distinct for the common colour-vision
 * deficiencies (black left out: it is the text colour). */
export const okabeIto = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7'];
/** The colour of "Other products" and of the target line's dashes. */
export const otherColour = '#999999';
/** Stacks beyond this many products are folded into "Other". */
export const maxStacks = okabeIto.length;

export interface Stack {
  label: string;
  /** the product ids this stack sums (one, or the folded rest) */
  products: string[];
  colour: string;
  data: number[];
}

export interface ChartModel {
  labels: string[];
  stacks: Stack[];
  /** the summed targets of the shown lines per bucket; null without targets */
  target: (number | null)[] | null;
  /** bucket totals, for the table and the tooltip */
  totals: number[];
}

/** shortLabel shortens a bucket label for the x axis: hours show the time,
 * shifts and days the day (and the shift's name). */
export function shortLabel(label: string, granularity: string): string {
  if (granularity === 'hour') {
    const m = /(\d{2}:\d{2})(?: (\S+))?$/.exec(label);
    return m ? m[1] : label;
  }
  return label;
}

/** chartModel turns a dashboard into stacked bars (largest products first,
 * a stable colour per product) and the target per bucket. */
export function chartModel(d: Dashboard): ChartModel {
  const n = d.buckets.length;
  const byProduct = new Map<string, number>();
  for (const t of d.totals) byProduct.set(t.productId, (byProduct.get(t.productId) ?? 0) + t.quantity);
  const ranked = [...byProduct.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([p]) => p);
  const own = ranked.length > maxStacks ? ranked.slice(0, maxStacks - 1) : ranked;
  const rest = ranked.slice(own.length);
  const stacks: Stack[] = own.map((p, i) => ({ label: p, products: [p], colour: okabeIto[i % okabeIto.length], data: new Array(n).fill(0) }));
  const other: Stack | null = rest.length ? { label: `Other (${rest.length})`, products: rest, colour: otherColour, data: new Array(n).fill(0) } : null;
  const index = new Map(own.map((p, i) => [p, i]));
  const totals = new Array(n).fill(0);
  for (const t of d.totals) {
    const i = index.get(t.productId);
    const s = i === undefined ? other : stacks[i];
    if (s) s.data[t.bucket] += t.quantity;
    totals[t.bucket] += t.quantity;
  }
  if (other) stacks.push(other);
  return { labels: axisLabels(d), stacks, target: targetPerBucket(d), totals };
}

/** axisLabels gives each bucket its short label; on a fall-back day the
 * repeated hour keeps its zone ("02:00 CEST", "02:00 CET"). */
export function axisLabels(d: Dashboard): string[] {
  const short = d.buckets.map((b) => shortLabel(b.label, d.granularity));
  const seen = new Map<string, number>();
  for (const l of short) seen.set(l, (seen.get(l) ?? 0) + 1);
  return short.map((l, i) => {
    if ((seen.get(l) ?? 0) < 2 || d.granularity !== 'hour') return l;
    const zone = /(\S+)$/.exec(d.buckets[i].label)?.[1] ?? '';
    return `${l} ${zone}`;
  });
}

/** targetPerBucket sums the shown lines' target rates over each bucket's
 * hours that have passed (a bucket still running is prorated; future ones
 * have none). */
export function targetPerBucket(d: Dashboard): (number | null)[] | null {
  const rate = d.lines.reduce((s, l) => s + (l.targetRate ?? 0), 0);
  if (!d.lines.some((l) => l.targetRate != null)) return null;
  return d.buckets.map((b) => {
    if (d.now <= b.from) return null;
    const hours = (Math.min(d.now, b.to) - b.from) / 3_600_000;
    return Math.round(rate * hours);
  });
}

/** percent of target, rounded; null without a target. */
export function percentOf(actual: number, target: number | undefined | null): number | null {
  if (target == null || target <= 0) return null;
  return Math.round((actual / target) * 100);
}

/** overlaps tells whether a change [from, to) touches the shown range. */
export function overlaps(d: { from: number; to: number } | null, c: { from: number; to: number }): boolean {
  if (!d || !c.to) return false;
  return c.from < d.to && c.to > d.from;
}

/** recordsWindow is the records-list filter behind one bar segment. */
export function recordsWindow(d: Dashboard, bucket: number, stack: Stack | null, lineId: string) {
  const b = d.buckets[bucket];
  return {
    line: lineId,
    product: stack && stack.products.length === 1 ? stack.products[0] : '',
    operator: '',
    from: '',
    to: '',
    window: `${b.from}/${b.to}`,
  };
}

/** rangeLabel describes the shown range for people and the export's name. */
export function rangeLabel(d: { from: number; to: number }, locale?: string): string {
  const o: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
  return `${new Date(d.from).toLocaleString(locale, o)} – ${new Date(d.to).toLocaleString(locale, o)}`;
}

/** progressLabel says how far an export has come. */
export function progressLabel(written: number, total: number): string {
  const f = (n: number) => n.toLocaleString('en-US');
  if (total > 0) return `${f(written)} of ${f(total)} rows (${Math.floor((written / total) * 100)}%)`;
  return `${f(written)} rows`;
}
