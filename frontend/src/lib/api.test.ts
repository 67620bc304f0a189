import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, records, sentenceFor, session, site, toApiError } from './api';
import { installBackend, removeBackend } from '../test/fakeBackend';

describe('toApiError', () => {
  it('keeps the Go ErrorFormatter object: code, sentence and field', () => {
    const e = toApiError({ code: 'too_long', message: 'Line is 130 characters long; the limit is 128.', field: 'line_id' });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.code).toBe('too_long');
    expect(e.field).toBe('line_id');
    expect(e.message).toBe('Line is 130 characters long; the limit is 128.');
  });

  it('falls back to a sentence for the code when the message is empty', () => {
    const e = toApiError({ code: 'not_found', message: '' });
    expect(e.message).toBe(sentenceFor('not_found'));
    expect(e.field).toBeUndefined();
  });

  it('parses an error object that arrives as a JSON string', () => {
    const e = toApiError(JSON.stringify({ code: 'missing_value', message: 'Product is required.', field: 'product_id' }));
    expect(e.code).toBe('missing_value');
    expect(e.field).toBe('product_id');
  });

  it('never shows a raw bridge message', () => {
    const e = toApiError("received 2 arguments to method 'app.RecordService.Get', expected 1");
    expect(e.code).toBe('internal');
    expect(e.message).toMatch(/Try again/);
  });

  it('says the backend is missing when the bindings are not injected', () => {
    removeBackend();
    const e = toApiError(new TypeError("Cannot read properties of undefined (reading 'app')"));
    expect(e.code).toBe('no_backend');
    expect(e.message).toMatch(/start it again/);
  });

  it('maps unknown codes to the generic sentence', () => {
    expect(sentenceFor('something_new')).toBe(sentenceFor('internal'));
  });
});

describe('records api', () => {
  afterEach(removeBackend);

  it('rejects with an ApiError carrying the field the store named', async () => {
    installBackend({
      RecordService: {
        Create: () => Promise.reject({ code: 'invalid_value', message: 'Quantity must be at most 1,000,000,000.', field: 'quantity' }),
      },
    });
    await expect(records.create({ lineId: 'L1', productId: 'P', operatorId: 'op', quantity: 2e9 })).rejects.toMatchObject({
      code: 'invalid_value',
      field: 'quantity',
    });
  });

  it('passes the filter through the generated binding', async () => {
    let got: unknown;
    installBackend({
      RecordService: {
        List: (f: unknown) => {
          got = f;
          return Promise.resolve({ records: [], total: 0, offset: 0 });
        },
      },
    });
    const page = await records.list({ lineId: 'L3', sort: 'quantity', desc: true, offset: 200, limit: 200 });
    expect(page.total).toBe(0);
    expect(got).toMatchObject({ lineId: 'L3', sort: 'quantity', desc: true, offset: 200, limit: 200 });
  });

  it('reports a missing backend as a sentence, not a TypeError', async () => {
    removeBackend();
    await expect(records.get('x')).rejects.toMatchObject({ code: 'no_backend' });
  });
});

describe('site data and sign-in api', () => {
  afterEach(removeBackend);

  it('has a sentence for every sign-in and site data code the Go side sends', () => {
    for (const code of ['sign_in_required', 'forbidden', 'wrong_pin', 'locked', 'unknown_badge', 'inactive', 'pin_not_set', 'unknown_code', 'inactive_code']) {
      expect(sentenceFor(code)).not.toBe(sentenceFor('internal'));
      expect(toApiError({ code, message: '' }).message).toBe(sentenceFor(code));
    }
  });

  it('keeps the Go sentence of a refused sign-in and the field of a refused code', async () => {
    installBackend({
      SessionService: { SignIn: () => Promise.reject({ code: 'wrong_pin', message: 'Wrong PIN. 2 attempts left.' }) },
      RecordService: {
        Create: () => Promise.reject({ code: 'inactive_code', field: 'product_id', message: 'Product "P1" is no longer active.' }),
      },
    });
    await expect(session.signIn('B-1', '0000')).rejects.toMatchObject({ code: 'wrong_pin', message: 'Wrong PIN. 2 attempts left.' });
    await expect(records.create({ lineId: 'L1', productId: 'P1', operatorId: 'B-1', quantity: 1 })).rejects.toMatchObject({
      code: 'inactive_code',
      field: 'product_id',
    });
  });

  it('passes inputs through the generated bindings, PIN absent when kept', async () => {
    let got: unknown;
    installBackend({
      SiteService: {
        SavePerson: (p: unknown) => {
          got = p;
          return Promise.resolve(p);
        },
      },
    });
    await site.savePerson({ badgeId: 'B-1', displayName: 'Ana', role: 'operator', active: true });
    expect(got).toEqual({ badgeId: 'B-1', displayName: 'Ana', role: 'operator', active: true });
    expect(Object.keys(got as object)).not.toContain('pin');
  });
});
