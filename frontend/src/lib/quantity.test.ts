// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX, implausible } from './quantity';

describe('implausible', () => {
  const flour = { code: 'P-300', unit: 'kg', minQuantity: 5, maxQuantity: 500 };
  it.each([
    ['no product, usual', 40, undefined, ''],
    ['no product, at the default maximum', DEFAULT_MAX, undefined, ''],
    [
      'no product, above it',
      25000,
      undefined,
      '25,000 is more than the usual maximum of 10,000. Check it; if it is right, press “Save 25,000”.',
    ],
    [
      'no range keeps the default, with the unit',
      12000,
      { code: 'P-100', unit: 'pcs' },
      '12,000 pcs is more than the usual maximum of 10,000 pcs. Check it; if it is right, press “Save 12,000”.',
    ],
    ['inside the range', 120, flour, ''],
    ['at its ends', 5, flour, ''],
    [
      'above the range',
      900,
      flour,
      '900 kg is more than the usual maximum of 500 kg for P-300. Check it; if it is right, press “Save 900”.',
    ],
    ['below the range', 2, flour, '2 kg is less than the usual minimum of 5 kg for P-300. Check it; if it is right, press “Save 2”.'],
    [
      'a range below the default maximum applies',
      9000,
      flour,
      '9,000 kg is more than the usual maximum of 500 kg for P-300. Check it; if it is right, press “Save 9,000”.',
    ],
    ['only a minimum: no maximum', 50000, { code: 'P-9', minQuantity: 10 }, ''],
    [
      'null range fields',
      20000,
      { code: 'P-9', minQuantity: null, maxQuantity: null },
      '20,000 is more than the usual maximum of 10,000. Check it; if it is right, press “Save 20,000”.',
    ],
  ])('%s', (_name, q, p, want) => {
    expect(implausible(q as number, p as never)).toBe(want);
  });
});
