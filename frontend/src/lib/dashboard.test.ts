// @vitest-environment node
import { describe, expect, it } from 'vitest';
import {
  axisLabels,
  chartModel,
  lineCards,
  maxStacks,
  okabeIto,
  otherColour,
  overlaps,
  percentOf,
  progressLabel,
  rangeLabel,
  recordsWindow,
  shiftTitle,
  shortLabel,
  targetPerBucket,
  unitsOf,
} from './dashboard';
import type { Dashboard } from './api';

const H = 3_600_000;

function dash(over: Partial<Dashboard> = {}): Dashboard {
  return {
    from: 0,
    to: 3 * H,
    now: 1.5 * H,
    granularity: 'hour',
    timeZone: 'UTC',
    shifts: [],
    buckets: [
      { from: 0, to: H, label: 'Thu 01 Jan 00:00 UTC', hours: 1 },
      { from: H, to: 2 * H, label: 'Thu 01 Jan 01:00 UTC', hours: 1 },
      { from: 2 * H, to: 3 * H, label: 'Thu 01 Jan 02:00 UTC', hours: 1 },
    ],
    totals: [
      { bucket: 0, lineId: 'L1', productId: 'P-a', quantity: 5, records: 1 },
      { bucket: 0, lineId: 'L2', productId: 'P-a', quantity: 5, records: 1 },
      { bucket: 1, lineId: 'L1', productId: 'P-b', quantity: 20, records: 2 },
    ],
    lines: [
      { lineId: 'L1', quantity: 25, records: 3, targetRate: 10, target: 15 },
      { lineId: 'L2', quantity: 5, records: 1 },
    ],
    topProducts: [],
    topOperators: [],
    rev: 7,
    ...over,
  } as Dashboard;
}

describe('chartModel', () => {
  it('stacks by product, largest first, with stable Okabe-Ito colours', () => {
    const m = chartModel(dash());
    expect(m.labels).toEqual(['00:00', '01:00', '02:00']);
    expect(m.stacks.map((s) => s.label)).toEqual(['P-b', 'P-a']);
    expect(m.stacks[0].data).toEqual([0, 20, 0]);
    expect(m.stacks[1].data).toEqual([10, 0, 0]);
    expect(m.stacks[0].colour).toBe(okabeIto[0]);
    expect(m.totals).toEqual([10, 20, 0]);
  });

  it('folds the products beyond the palette into Other', () => {
    const totals = Array.from({ length: 12 }, (_, i) => ({ bucket: 0, lineId: 'L1', productId: `P${i}`, quantity: 100 - i, records: 1 }));
    const m = chartModel(dash({ totals }));
    expect(m.stacks).toHaveLength(maxStacks);
    const other = m.stacks[m.stacks.length - 1];
    expect(other.label).toBe('Other (6)');
    expect(other.colour).toBe(otherColour);
    expect(other.data[0]).toBe(94 + 93 + 92 + 91 + 90 + 89);
    expect(m.totals[0]).toBe(totals.reduce((s, t) => s + t.quantity, 0));
  });

  it('has no target line when no shown line has a target', () => {
    expect(chartModel(dash({ lines: [{ lineId: 'L2', quantity: 5, records: 1 }] as Dashboard['lines'] })).target).toBeNull();
  });
});

const oneLine = [
  { lineId: 'L1', quantity: 25, records: 3, targetRate: 10, target: 15, unit: '', units: [], mixed: false },
] as unknown as Dashboard['lines'];

describe('targetPerBucket', () => {
  it('is one line’s own: none when several lines are shown', () => {
    expect(targetPerBucket(dash())).toBeNull();
  });
  it('gives the running bucket its whole target (no downward slope) and future ones none', () => {
    expect(targetPerBucket(dash({ lines: oneLine }))).toEqual([10, 10, null]);
  });
  it('counts only from when the line was configured', () => {
    const lines = [{ ...oneLine[0], targetSince: 1.5 * H }] as Dashboard['lines'];
    expect(targetPerBucket(dash({ lines, now: 2.5 * H }))).toEqual([null, 5, 10]);
  });
  it('counts a 25-hour day', () => {
    const d = dash({
      lines: oneLine,
      buckets: [{ from: 0, to: 25 * H, label: 'Sun 25 Oct', hours: 25 }] as Dashboard['buckets'],
      now: 30 * H,
    });
    expect(targetPerBucket(d)).toEqual([250]);
  });
});

describe('units', () => {
  const products = [
    { id: 'P-a', name: 'Flour', unit: 'kg' },
    { id: 'P-b', name: 'Bolts', unit: 'pcs' },
  ];
  it('never stacks kg and pieces in one bar', () => {
    const d = dash({ products } as Partial<Dashboard>);
    expect(unitsOf(d)).toEqual(['pcs', 'kg']);
    const pcs = chartModel(d);
    expect(pcs.stacks.map((s) => s.label)).toEqual(['P-b Bolts']);
    expect(pcs.totals).toEqual([0, 20, 0]);
    const kg = chartModel(d, 'kg');
    expect(kg.stacks.map((s) => s.label)).toEqual(['P-a Flour']);
    expect(kg.totals).toEqual([10, 0, 0]);
  });
});

describe('lineCards', () => {
  const shift = {
    name: 'Early',
    from: new Date(2026, 11, 7, 6, 0).getTime(),
    to: new Date(2026, 11, 7, 14, 0).getTime(),
    hourFrom: new Date(2026, 11, 7, 9, 0).getTime(),
    hourTo: new Date(2026, 11, 7, 10, 0).getTime(),
    lines: [
      {
        lineId: 'L1',
        lineName: 'Packing',
        unit: 'kg',
        units: [{ unit: 'kg', quantity: 420, records: 9 }],
        mixed: false,
        quantity: 420,
        records: 9,
        targetRate: 60,
        targetSince: new Date(2026, 11, 7, 7, 0).getTime(),
        target: 480,
        hourQuantity: 35,
        hourTarget: 60,
        shiftTarget: 420 + 480,
        projected: 880,
      },
      {
        lineId: 'L2',
        lineName: '',
        unit: '',
        units: [
          { unit: 'kg', quantity: 40, records: 1 },
          { unit: 'pcs', quantity: 12, records: 1 },
        ],
        mixed: true,
        quantity: 0,
        records: 2,
        targetRate: 20,
        target: 60,
        hourQuantity: 0,
      },
      {
        lineId: 'L3',
        lineName: 'Filling',
        unit: 'pcs',
        units: [{ unit: 'pcs', quantity: 130, records: 2 }],
        mixed: false,
        quantity: 130,
        records: 2,
        targetRate: 20,
        target: 100,
        hourQuantity: 0,
        hourTarget: 20,
      },
    ],
  };
  const d = dash({ shift } as unknown as Partial<Dashboard>);
  it('names the shift in 24-hour time', () => {
    expect(shiftTitle(d)).toBe('Early shift · 06:00–14:00');
  });
  it('says actual against the line’s own target, ahead or behind, this hour and the projection', () => {
    const [l1, l2, l3] = lineCards(d);
    expect(l1.title).toBe('L1 · Packing');
    expect(l1.actual).toBe('420 kg');
    expect(l1.against).toBe('of 480 kg so far (target from 07:00, when the line was configured)');
    expect(l1.aheadLabel).toBe('60 kg behind');
    expect(l1.hour).toBe('This hour (09:00–10:00): 35 kg of 60 kg');
    expect(l1.projected).toBe('At this pace 880 kg by 14:00 (target 900 kg)');
    expect(l3.aheadLabel).toBe('30 pcs ahead');
    expect(l3.projected).toBe('');
    // kg and pieces are never added, nor compared with one target.
    expect(l2.actual).toBe('40 kg · 12 pcs');
    expect(l2.ahead).toBeNull();
    expect(l2.against).toMatch(/not compared/);
  });
  it('writes ranges in 24-hour time', () => {
    expect(rangeLabel({ from: new Date(2026, 11, 7, 14, 0).getTime(), to: new Date(2026, 11, 7, 22, 0).getTime() }, 'en-US')).toMatch(
      /14:00.*22:00/,
    );
  });
});

describe('helpers', () => {
  it('overlaps only when the change touches the range', () => {
    expect(overlaps({ from: 0, to: 10 }, { from: 10, to: 20 })).toBe(false);
    expect(overlaps({ from: 0, to: 10 }, { from: 9, to: 20 })).toBe(true);
    expect(overlaps({ from: 5, to: 10 }, { from: 0, to: 5 })).toBe(false);
    expect(overlaps(null, { from: 0, to: 5 })).toBe(false);
    expect(overlaps({ from: 0, to: 10 }, { from: 0, to: 0 })).toBe(false);
  });
  it('percent of target', () => {
    expect(percentOf(50, 200)).toBe(25);
    expect(percentOf(50, 0)).toBeNull();
    expect(percentOf(50, undefined)).toBeNull();
  });
  it('labels', () => {
    expect(shortLabel('Sun 25 Oct 02:00 CEST', 'hour')).toBe('02:00');
    expect(shortLabel('Sun 25 Oct Early', 'shift')).toBe('Sun 25 Oct Early');
    expect(progressLabel(2500, 10000)).toBe('2,500 of 10,000 rows (25%)');
    expect(progressLabel(3, 0)).toBe('3 rows');
  });
  it('a bar opens the records of its bucket, product and line', () => {
    const d = dash();
    const m = chartModel(d);
    expect(recordsWindow(d, 1, m.stacks[0], 'L1')).toEqual({
      line: 'L1',
      product: 'P-b',
      operator: '',
      from: '',
      to: '',
      window: `${H}/${2 * H}`,
    });
    expect(recordsWindow(d, 0, null, '').product).toBe('');
  });
});

describe('axisLabels', () => {
  it('keeps the zone on the repeated hour of a fall-back day', () => {
    const d = dash({
      buckets: [
        { from: 0, to: H, label: 'Sun 25 Oct 01:00 CEST', hours: 1 },
        { from: H, to: 2 * H, label: 'Sun 25 Oct 02:00 CEST', hours: 1 },
        { from: 2 * H, to: 3 * H, label: 'Sun 25 Oct 02:00 CET', hours: 1 },
      ] as Dashboard['buckets'],
    });
    expect(axisLabels(d)).toEqual(['01:00', '02:00 CEST', '02:00 CET']);
  });
});
