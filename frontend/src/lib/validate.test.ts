// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { fieldErrorFrom, parseOptionalNumber, validateField, validateForm } from './validate';
import { registryRules } from '../test/schema';

// The registry's rules, from the fixture the Go registry writes.
const recordRules = registryRules('production_records');
const rule = (col: string) => [...recordRules, ...registryRules('line_configs')].find((r) => r.column === col)!;

describe('validateField', () => {
  it('requires the required fields, by their label', () => {
    expect(validateField(rule('line_id'), '')).toBe('Line is required.');
    expect(validateField(rule('line_id'), '   ')).toBe('Line is required.');
    expect(validateField(rule('quantity'), undefined)).toBe('Quantity is required.');
  });

  it('leaves optional fields alone when blank', () => {
    expect(validateField(rule('notes'), '')).toBe('');
    expect(validateField(rule('temperature_c'), null)).toBe('');
  });

  it('counts characters, not bytes, against the limit', () => {
    expect(validateField(rule('product_id'), 'é'.repeat(128))).toBe('');
    expect(validateField(rule('product_id'), 'x'.repeat(129))).toBe('Product is 129 characters long; the limit is 128.');
    expect(validateField(rule('notes'), '🙂'.repeat(4000))).toBe('');
  });

  it('checks numbers: whole, in range', () => {
    expect(validateField(rule('quantity'), '12')).toBe('');
    expect(validateField(rule('quantity'), '1.5')).toBe('Quantity must be a whole number.');
    expect(validateField(rule('quantity'), 'abc')).toBe('Quantity must be a number.');
    expect(validateField(rule('quantity'), '-1')).toBe('Quantity must be between 0 and 1,000,000,000.');
    expect(validateField(rule('speed_rpm'), '1000000001')).toBe('Speed must be between 0 and 1,000,000,000.');
    expect(validateField(rule('temperature_c'), '-12,5')).toBe('');
  });
});

describe('validateForm', () => {
  it('returns one sentence per bad field, keyed by column', () => {
    const errs = validateForm(recordRules, { line_id: 'L1', product_id: '', operator_id: 'op', quantity: 'x' });
    expect(errs).toEqual({ product_id: 'Product is required.', quantity: 'Quantity must be a number.' });
  });

  it('is empty for a valid record', () => {
    expect(validateForm(recordRules, { line_id: 'L1', product_id: 'P-1', operator_id: 'op', quantity: '0' })).toEqual({});
  });
});

describe('fieldErrorFrom', () => {
  it('puts a store error next to its field', () => {
    expect(fieldErrorFrom(new ApiError('too_long', 'Recipe is too long.', 'recipe'))).toEqual({ recipe: 'Recipe is too long.' });
  });
  it('puts other errors above the buttons', () => {
    expect(fieldErrorFrom(new ApiError('timeout', 'Try again.'))).toEqual({ '': 'Try again.' });
  });
});

describe('parseOptionalNumber', () => {
  it('reads blanks as absent and decimal commas as points', () => {
    expect(parseOptionalNumber('')).toBeUndefined();
    expect(parseOptionalNumber(' 42 ')).toBe(42);
    expect(parseOptionalNumber('3,5')).toBe(3.5);
  });
});
