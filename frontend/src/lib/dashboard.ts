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

/** productUnits maps each product in the totals to its unit ("" = none). */
export function productUnits(d: Dashboard): Map<string, string> {
  return new Map((d.products ?? []).map((p) => [p.id, p.unit ?? '']));
}

/** unitsOf lists the units the range's production is in, most produced
 * first ("" stands for products without a unit). Bars of different units
 * are never stacked together. */
export function unitsOf(d: Dashboard): string[] {
  const units = productUnits(d);
  const sum = new Map<string, number>();
  for (const t of d.totals) {
    const u = units.get(t.productId) ?? '';
    sum.set(u, (sum.get(u) ?? 0) + t.quantity);
  }
  return [...sum.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([u]) => u);
}

/** productLabel is a product's name beside its code ("P-300 Flour"). */
export function productLabel(id: string, d: Dashboard): string {
  const p = (d.products ?? []).find((x) => x.id === id);
  return p?.name ? `${id} ${p.name}` : id;
}

/** chartModel turns a dashboard into stacked bars of one unit (largest
 * products first, a stable colour per product) and, when one line is shown,
 * that line's target per bucket. unit defaults to the most produced one. */
export function chartModel(d: Dashboard, unit?: string): ChartModel {
  const n = d.buckets.length;
  const units = productUnits(d);
  const shownUnit = unit ?? unitsOf(d)[0] ?? '';
  const totalsOfUnit = d.totals.filter((t) => (units.get(t.productId) ?? '') === shownUnit);
  const byProduct = new Map<string, number>();
  for (const t of totalsOfUnit) byProduct.set(t.productId, (byProduct.get(t.productId) ?? 0) + t.quantity);
  const ranked = [...byProduct.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([p]) => p);
  const own = ranked.length > maxStacks ? ranked.slice(0, maxStacks - 1) : ranked;
  const rest = ranked.slice(own.length);
  const stacks: Stack[] = own.map((p, i) => ({ label: productLabel(p, d), products: [p], colour: okabeIto[i % okabeIto.length], data: new Array(n).fill(0) }));
  const other: Stack | null = rest.length ? { label: `Other (${rest.length})`, products: rest, colour: otherColour, data: new Array(n).fill(0) } : null;
  const index = new Map(own.map((p, i) => [p, i]));
  const totals = new Array(n).fill(0);
  for (const t of totalsOfUnit) {
    const i = index.get(t.productId);
    const s = i === undefined ? other : stacks[i];
    if (s) s.data[t.bucket] += t.quantity;
    totals[t.bucket] += t.quantity;
  }
  if (other) stacks.push(other);
  const line = d.lines.length === 1 ? d.lines[0] : null;
  const target = line && !line.mixed && (line.unit ?? '') === shownUnit ? targetPerBucket(d) : null;
  return { labels: axisLabels(d), stacks, target, totals };
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

/** targetPerBucket is the one shown line's target per bucket: its rate
 * over each bucket's hours after the line was configured. A bucket still
 * running has its whole target (the line never slopes down in the current
 * hour); future buckets and those before the configuration have none.
 * null unless exactly one line with a target is shown. */
export function targetPerBucket(d: Dashboard): (number | null)[] | null {
  if (d.lines.length !== 1 || d.lines[0].targetRate == null) return null;
  const rate = d.lines[0].targetRate;
  const since = d.lines[0].targetSince ?? 0;
  return d.buckets.map((b) => {
    if (d.now <= b.from || b.to <= since) return null;
    return Math.round((rate * (b.to - Math.max(b.from, since))) / 3_600_000);
  });
}

/** time24 renders ms as a local 24-hour "HH:MM". */
export function time24(ms: number): string {
  const t = new Date(ms);
  return `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
}

/** withUnit writes a quantity with its unit ("1,200 kg"; no unit: the number). */
export function withUnit(n: number, unit: string | undefined | null, locale = 'en-US'): string {
  const q = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(n);
  return unit ? `${q} ${unit}` : q;
}

/** LineCard is one line's answer to the shift question, as words. */
export interface LineCard {
  lineId: string;
  title: string;
  /** "420 kg" or, for mixed units, "40 kg · 12 pcs" */
  actual: string;
  /** "of 480 kg so far", or a reason there is no comparison */
  against: string;
  /** ahead > 0, behind < 0, null: not compared */
  ahead: number | null;
  /** "60 kg behind", "12 kg ahead", "on target" or "" */
  aheadLabel: string;
  hour: string;
  projected: string;
}

/** lineCards answers, per line, "how is this shift going": actual against
 * the line's own target so far, ahead or behind, this hour, and the
 * projected end of the shift. Quantities of different units are never
 * added. */
export function lineCards(d: Dashboard): LineCard[] {
  const sh = d.shift;
  if (!sh) return [];
  return sh.lines.map((l) => {
    const title = l.lineName ? `${l.lineId} · ${l.lineName}` : l.lineId;
    const u = l.unit;
    if (l.mixed) {
      return {
        lineId: l.lineId,
        title,
        actual: l.units.map((x) => withUnit(x.quantity, x.unit)).join(' · '),
        against: l.targetRate != null ? `Target ${l.targetRate}/h not compared: this line made products in different units` : 'No target rate in its configuration',
        ahead: null,
        aheadLabel: '',
        hour: '',
        projected: '',
      };
    }
    const target = l.target;
    const diff = target != null ? l.quantity - target : null;
    const tol = target != null ? Math.max(1, Math.round(target * 0.02)) : 0;
    return {
      lineId: l.lineId,
      title,
      actual: withUnit(l.quantity, u),
      against:
        target != null
          ? `of ${withUnit(target, u)} so far${l.targetSince && l.targetSince > sh.from ? ` (target from ${time24(l.targetSince)}, when the line was configured)` : ''}`
          : 'No target rate in its configuration',
      ahead: diff,
      aheadLabel: diff == null ? '' : Math.abs(diff) < tol ? 'on target' : diff > 0 ? `${withUnit(diff, u)} ahead` : `${withUnit(-diff, u)} behind`,
      hour: `This hour (${time24(sh.hourFrom)}–${time24(sh.hourTo)}): ${withUnit(l.hourQuantity, u)}${l.hourTarget != null ? ` of ${withUnit(l.hourTarget, u)}` : ''}`,
      projected:
        l.projected != null
          ? `At this pace ${withUnit(l.projected, u)} by ${time24(sh.to)}${l.shiftTarget != null ? ` (target ${withUnit(l.shiftTarget, u)})` : ''}`
          : '',
    };
  });
}

/** shiftTitle names the shift now: "Early shift · 06:00–14:00". */
export function shiftTitle(d: Dashboard): string {
  if (!d.shift) return '';
  return `${d.shift.name} shift · ${time24(d.shift.from)}–${time24(d.shift.to)}`;
}

/** unitsLabel writes per-unit output ("40 kg · 12 pcs"). */
export function unitsLabel(units: { unit: string; quantity: number }[] | undefined | null): string {
  return (units ?? []).map((u) => withUnit(u.quantity, u.unit)).join(' · ');
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
  const o: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  return `${new Date(d.from).toLocaleString(locale, o)} – ${new Date(d.to).toLocaleString(locale, o)}`;
}

/** progressLabel says how far an export has come. */
export function progressLabel(written: number, total: number): string {
  const f = (n: number) => n.toLocaleString('en-US');
  if (total > 0) return `${f(written)} of ${f(total)} rows (${Math.floor((written / total) * 100)}%)`;
  return `${f(written)} rows`;
}
