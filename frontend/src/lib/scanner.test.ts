import { describe, expect, it } from 'vitest';
import { AVG_MS, createScanDetector, GAP_MS, isEditable } from './scanner';

function feed(text: string, gap: number, start = 1000) {
  const d = createScanDetector();
  let t = start;
  let got = '';
  for (const ch of text) {
    got = d.key({ key: ch === '\n' ? 'Enter' : ch }, t) || got;
    t += gap;
  }
  return got;
}

describe('scan detector', () => {
  it.each([
    ['a scanner at 5 ms a key', 'OP-100\n', 5, 'OP-100'],
    ['a slow machine', 'P-300\n', 45, 'P-300'],
    ['a fast typist', 'OP-100\n', 100, ''],
    ['a person typing', 'OP-100\n', GAP_MS + 60, ''],
    ['too short', '12\n', 5, ''],
    ['Enter alone', '\n', 5, ''],
  ])('%s', (_n, text, gap, want) => {
    expect(feed(text as string, gap as number)).toBe(want);
  });

  it('takes a burst with one slow key if it is fast on the whole', () => {
    const d = createScanDetector();
    for (const [k, t] of [
      ['A', 0],
      ['B', 10],
      ['C', 10 + GAP_MS],
      ['D', 20 + GAP_MS],
      ['E', 30 + GAP_MS],
    ] as const)
      d.key({ key: k }, t);
    expect(d.key({ key: 'Enter' }, 40 + GAP_MS)).toBe(5 * AVG_MS >= 40 + GAP_MS ? 'ABCDE' : '');
  });

  it('starts again after a pause, and forgets on a modifier', () => {
    const d = createScanDetector();
    for (const [k, t] of [
      ['x', 0],
      ['y', 10],
      ['A', 500],
      ['B', 505],
      ['C', 510],
    ] as const)
      d.key({ key: k }, t);
    expect(d.key({ key: 'Enter' }, 515)).toBe('ABC');
    d.key({ key: 'a' }, 600);
    d.key({ key: 'b' }, 605);
    d.key({ key: 'c' }, 610);
    d.key({ key: '1', altKey: true }, 612);
    expect(d.key({ key: 'Enter' }, 615)).toBe('');
  });

  it('knows which elements take typed text', () => {
    const i = document.createElement('input');
    expect(isEditable(i)).toBe(true);
    i.readOnly = true;
    expect(isEditable(i)).toBe(false);
    const c = document.createElement('input');
    c.type = 'checkbox';
    expect(isEditable(c)).toBe(false);
    expect(isEditable(document.createElement('button'))).toBe(false);
    expect(isEditable(document.createElement('textarea'))).toBe(true);
  });
});
