import { describe, expect, it } from 'vitest';
import { axisLabels, chartModel, maxStacks, okabeIto, otherColour, overlaps, percentOf, progressLabel, recordsWindow, shortLabel, targetPerBucket } from './dashboard';
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

describe('targetPerBucket', () => {
  it('prorates the running bucket and leaves future ones empty', () => {
    expect(targetPerBucket(dash())).toEqual([10, 5, null]);
  });
  it('counts a 25-hour day', () => {
    const d = dash({ buckets: [{ from: 0, to: 25 * H, label: 'Sun 25 Oct', hours: 25 }] as Dashboard['buckets'], now: 30 * H });
    expect(targetPerBucket(d)).toEqual([250]);
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
    expect(recordsWindow(d, 1, m.stacks[0], 'L1')).toEqual({ line: 'L1', product: 'P-b', operator: '', from: '', to: '', window: `${H}/${2 * H}` });
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
