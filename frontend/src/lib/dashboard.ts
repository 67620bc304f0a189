// dashboard: the data transforms behind the dashboard screen, plain
// functions over the DashboardService's answer so they are tested alone.
import type { Dashboard } from './api';
import { intlLocale, t } from '../i18n';
import { formatQuantity, formatSpan, formatTime } from './format';

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
  const stacks: Stack[] = own.map((p, i) => ({
    label: productLabel(p, d),
    products: [p],
    colour: okabeIto[i % okabeIto.length],
    data: new Array(n).fill(0),
  }));
  const other: Stack | null = rest.length
    ? { label: t('dash.other', { count: rest.length }), products: rest, colour: otherColour, data: new Array(n).fill(0) }
    : null;
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
  const short = d.buckets.map((b, i) => (d.granularity === 'hour' ? shortLabel(b.label, d.granularity) : bucketLabel(d, i)));
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
  return formatTime(ms);
}

/** shiftName says a shift's name in the language shown: the default names
 * Go gives ("Early", "Late", "Night", "Shift 2") are translated; names the
 * site chose are its own words and stay as they are. */
export function shiftName(name: string): string {
  switch (name) {
    case 'Early':
      return t('shift.early');
    case 'Late':
      return t('shift.late');
    case 'Night':
      return t('shift.night');
  }
  const m = /^Shift (\d+)$/.exec(name);
  return m ? t('shift.numbered', { n: Number(m[1]) }) : name;
}

/** bucketLabel is a bucket's label in the language shown, in the
 * dashboard's time zone: "Mon, 7 Dec" for a day, with the shift's name for
 * a shift, with the hour and its zone for an hour (Go's label is English:
 * "Mon 07 Dec 14:00 CET"). */
export function bucketLabel(d: Pick<Dashboard, 'buckets' | 'granularity' | 'timeZone'>, i: number): string {
  const b = d.buckets[i];
  const opts: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short' };
  const fmt = (o: Intl.DateTimeFormatOptions) => {
    try {
      return new Intl.DateTimeFormat(intlLocale(), { ...o, timeZone: d.timeZone || undefined }).format(new Date(b.from));
    } catch {
      return new Intl.DateTimeFormat(intlLocale(), o).format(new Date(b.from));
    }
  };
  const day = fmt(opts);
  if (d.granularity === 'shift') {
    // Go writes "Mon 02 Jan <name>": the name follows the 10-character date.
    const name = b.label.length > 11 ? b.label.slice(11) : '';
    return name ? t('dash.shiftBucket', { day, shift: shiftName(name) }) : day;
  }
  if (d.granularity === 'hour') {
    const zone = /\s([A-Z][A-Za-z0-9+-]*)$/.exec(b.label)?.[1] ?? '';
    const time = fmt({ ...opts, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    return zone ? `${time} ${zone}` : time;
  }
  return day;
}

/** withUnit writes a quantity with its unit ("1,200 kg"; no unit: the number). */
export function withUnit(n: number, unit: string | undefined | null, locale: string = intlLocale()): string {
  const q = formatQuantity(n, locale);
  return unit ? t('quantity.withUnit', { n: q, unit }) : q;
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
  /** behind or ahead of target by more than the tolerance (the card's colour) */
  behind: boolean;
  aheadOfTarget: boolean;
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
        against: l.targetRate != null ? t('dash.card.mixed', { rate: formatQuantity(l.targetRate) }) : t('dash.noTarget'),
        ahead: null,
        aheadLabel: '',
        behind: false,
        aheadOfTarget: false,
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
          ? l.targetSince && l.targetSince > sh.from
            ? t('dash.card.ofSince', { target: withUnit(target, u), since: time24(l.targetSince) })
            : t('dash.card.of', { target: withUnit(target, u) })
          : t('dash.noTarget'),
      ahead: diff,
      behind: diff != null && Math.abs(diff) >= tol && diff < 0,
      aheadOfTarget: diff != null && Math.abs(diff) >= tol && diff > 0,
      aheadLabel:
        diff == null
          ? ''
          : Math.abs(diff) < tol
            ? t('dash.card.onTarget')
            : diff > 0
              ? t('dash.card.ahead', { amount: withUnit(diff, u) })
              : t('dash.card.behind', { amount: withUnit(-diff, u) }),
      hour:
        l.hourTarget != null
          ? t('dash.card.hourOf', {
              from: time24(sh.hourFrom),
              to: time24(sh.hourTo),
              actual: withUnit(l.hourQuantity, u),
              target: withUnit(l.hourTarget, u),
            })
          : t('dash.card.hour', { from: time24(sh.hourFrom), to: time24(sh.hourTo), actual: withUnit(l.hourQuantity, u) }),
      projected:
        l.projected != null
          ? l.shiftTarget != null
            ? t('dash.card.paceTarget', { amount: withUnit(l.projected, u), end: time24(sh.to), target: withUnit(l.shiftTarget, u) })
            : t('dash.card.pace', { amount: withUnit(l.projected, u), end: time24(sh.to) })
          : '',
    };
  });
}

/** shiftTitle names the shift now: "Early shift · 06:00–14:00". */
export function shiftTitle(d: Dashboard): string {
  if (!d.shift) return '';
  const values = { name: shiftName(d.shift.name), from: time24(d.shift.from), to: time24(d.shift.to) };
  // A numbered shift already says "Shift 2"; a named one is "Early shift".
  return /^Shift \d+$/.test(d.shift.name) ? t('dash.shiftTitlePlain', values) : t('dash.shiftTitle', values);
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
  return formatSpan(d.from, d.to, locale);
}

/** progressLabel says how far an export has come. */
export function progressLabel(written: number, total: number): string {
  const f = (n: number) => formatQuantity(n);
  if (total > 0) return t('export.progressOf', { written: f(written), total: f(total), percent: Math.floor((written / total) * 100) });
  return t('export.rows', { count: written, n: f(written) });
}
