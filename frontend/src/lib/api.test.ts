import { afterEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  errorText,
  exports,
  exportWords,
  failureText,
  records,
  rejectionError,
  tableRules,
  sentenceFor,
  session,
  site,
  toApiError,
  type FieldRule,
} from './api';
import { installBackend, removeBackend } from '../test/fakeBackend';
import { setLocale } from '../i18n';

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
    for (const code of [
      'sign_in_required',
      'forbidden',
      'wrong_pin',
      'locked',
      'unknown_badge',
      'inactive',
      'pin_not_set',
      'unknown_code',
      'inactive_code',
    ]) {
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

describe("errors in the operator's language", () => {
  afterEach(() => {
    setLocale(null);
    removeBackend();
  });

  const tooLong = {
    code: 'too_long',
    field: 'notes',
    message: 'Notes is 4001 characters long; the limit is 4000.',
    params: { field: 'notes', max: 4000, length: 4001 },
  };

  it('keeps code, params and the English sentence from Go', () => {
    const e = toApiError(JSON.stringify(tooLong));
    expect(e.code).toBe('too_long');
    expect(e.params).toEqual({ field: 'notes', max: 4000, length: 4001 });
    expect(e.message).toBe(tooLong.message);
    // Only scalars are kept; the field becomes a param when Go sent none.
    const f = toApiError({ code: 'missing_value', message: 'Line is required.', field: 'line_id', params: { x: { y: 1 }, n: NaN } });
    expect(f.params).toEqual({ field: 'line_id' });
  });

  it("shows Go's own sentence in English", () => {
    expect(errorText(tooLong)).toBe(tooLong.message);
  });

  it('says the code with its params in the language shown', () => {
    setLocale('de');
    expect(errorText(tooLong)).toBe('Notizen ist zu lang: höchstens 4.000 Zeichen.');
    setLocale('fr');
    expect(errorText(tooLong)).toMatch(/^Remarques : 4\s000 caractères au maximum\.$/);
    setLocale('pl');
    expect(errorText({ code: 'wrong_pin', field: 'pin', message: 'Wrong PIN. 2 more tries.', params: { tries_left: 2 } })).toBe(
      'Błędny PIN. Zostały 2 próby, potem ten identyfikator zostanie na jakiś czas zablokowany.',
    );
    setLocale('zh-CN');
    expect(
      errorText({
        code: 'unknown_code',
        field: 'line_id',
        message: 'Line "L9" is not in this site\'s list of lines.',
        params: { field: 'line_id', value: 'L9' },
      }),
    ).toBe('产线 L9 不在本站点的列表中。');
  });

  it("picks the message of the rule, and the code's when the rule has none", () => {
    setLocale('es');
    const range = {
      code: 'invalid_value',
      field: 'quantity',
      message: 'Quantity must be between 0 and 1000000000.',
      params: { field: 'quantity', rule: 'range', min: 0, max: 1e9 },
    };
    expect(errorText(range)).toBe('Cantidad: debe estar entre 0 y 1.000.000.000.');
    expect(errorText({ ...range, params: { field: 'quantity', rule: 'something_new' } })).toBe('Cantidad: valor no válido.');
  });

  it('formats a lockout time in the language shown', () => {
    setLocale('pt-BR');
    const until = new Date(2026, 11, 7, 14, 5).toISOString();
    expect(errorText({ code: 'locked', field: 'pin', message: 'Too many wrong PINs.', params: { until } })).toContain('até 14:05');
  });

  it('falls back to the English sentence when a value the message needs is missing or the code is unknown', () => {
    setLocale('de');
    // locked without until: the German sentence would lack the time.
    expect(errorText({ code: 'locked', field: 'pin', message: 'Too many wrong PINs: locked for 5 minutes.' })).toBe(
      'Too many wrong PINs: locked for 5 minutes.',
    );
    expect(errorText({ code: 'brand_new', message: 'Something new happened.' })).toBe('Something new happened.');
    // A code without params in German.
    expect(errorText({ code: 'offline', message: 'The sync server cannot be reached.' })).toMatch(/^Der Sync-Server ist nicht erreichbar/);
  });

  it('wraps every message in the pseudo-locale', () => {
    setLocale('en-XA');
    expect(errorText(tooLong)).toMatch(/^⟦.*4,000.*⟧$/);
  });
});

describe('quarantine reasons (the wire\'s "<code>: <sentence>")', () => {
  afterEach(() => setLocale(null));
  const rules = [
    { column: 'notes', kind: 'text', required: false, minLen: 0, maxLen: 4000, hasRange: false, min: 0, max: 0 },
    {
      column: 'quantity',
      kind: 'integer',
      required: true,
      minLen: 0,
      maxLen: 0,
      hasRange: true,
      min: 0,
      max: 1_000_000_000,
    },
  ] as FieldRule[];

  it('takes the column from the sentence and the limit from the registry', () => {
    const e = rejectionError('too_long: notes is 4012 characters long; the limit is 4000', rules);
    expect(e).toMatchObject({ code: 'too_long', field: 'notes', params: { field: 'notes', max: 4000 } });
    expect(e.message).toBe('Notes is 4012 characters long; the limit is 4000');
    setLocale('de');
    expect(errorText(e)).toBe('Notizen ist zu lang: höchstens 4.000 Zeichen.');
  });

  it("reads the protocol's invalid_value rules", () => {
    const r = rejectionError('invalid_value: quantity must be between 0 and 1000000000', rules);
    expect(r.params).toEqual({ field: 'quantity', rule: 'range', min: 0, max: 1_000_000_000 });
    expect(rejectionError('invalid_value: quantity must be a whole number', rules).params).toEqual({ field: 'quantity', rule: 'integer' });
    expect(rejectionError('invalid_value: role must be one of operator, supervisor, manager').params).toMatchObject({
      rule: 'one_of',
      options: 'operator, supervisor, manager',
    });
    expect(rejectionError('unknown_column: table production_records has no column "colour"').params).toEqual({ field: 'colour' });
  });

  it('says codes without a column from the code alone', () => {
    setLocale('fr');
    expect(
      errorText(rejectionError('clock_ahead: hlc is 6m0s ahead of the server clock (allowed 5m0s); correct the clock offset and re-stamp')),
    ).toMatch(/^L’horloge de cet ordinateur/);
    expect(errorText(rejectionError('row_deleted: the row was deleted and purged'))).toMatch(/^Cet élément a été supprimé sur le serveur/);
    expect(errorText(rejectionError('forbidden: only manager devices write people'))).toBe(
      'Votre rôle ne permet pas cela. Demandez à un responsable.',
    );
  });

  it('keeps a reason that is not "<code>: <sentence>" as it is', () => {
    expect(rejectionError('something odd')).toMatchObject({ code: 'rejected', message: 'something odd' });
    setLocale('de');
    expect(errorText(rejectionError('something odd'))).toBe('something odd');
  });
});

describe("exports in the operator's language", () => {
  afterEach(() => {
    setLocale(null);
    removeBackend();
  });

  it('passes the locale and the words of the language shown', async () => {
    let got: unknown[] = [];
    installBackend({
      ExportService: {
        ExportRecords: (...args: unknown[]) => {
          got = args;
          return Promise.resolve({ id: 'x', path: '/tmp/x.csv', rows: 1, cancelled: false });
        },
      },
    });
    setLocale('de');
    await exports.records('x', { lineId: 'L1' });
    expect(got[0]).toBe('x');
    expect(got[2]).toBe('de');
    expect(got[3]).toMatchObject({ created: 'Erstellt', quantity: 'Menge', yes: 'ja', no: 'nein', title_records: 'Einträge exportieren' });
  });

  it('has a word for every key in every language', () => {
    const keys = Object.keys(exportWords()).sort();
    expect(keys).toContain('not_synced');
    for (const l of ['de', 'fr', 'es', 'pt-BR', 'pl', 'zh-CN'] as const) {
      setLocale(l);
      expect(Object.keys(exportWords()).sort()).toEqual(keys);
    }
  });
});

describe("setup failures in the operator's language", () => {
  afterEach(() => setLocale(null));
  const f = { code: 'key_missing', title: 'The database key is missing', message: 'Call IT.' };

  it("says a failure by its code, Go's words in English and for an unknown code", () => {
    expect(failureText(f)).toEqual({ title: f.title, message: f.message });
    setLocale('de');
    expect(failureText(f).title).toBe('Der Datenbankschlüssel fehlt');
    expect(failureText(f).message).toMatch(/Wiederherstellungsschlüssel/);
    expect(failureText({ code: 'brand_new', title: 'T', message: 'M' })).toEqual({ title: 'T', message: 'M' });
  });
});

describe("the registry's rules for quarantine reasons", () => {
  afterEach(removeBackend);

  it("fetches a table's rules once, and again after a failure", async () => {
    let calls = 0;
    let fail = true;
    installBackend({
      SchemaService: {
        Fields: (table: unknown) => {
          calls++;
          if (fail) return Promise.reject({ code: 'internal', message: '' });
          return Promise.resolve([
            {
              column: 'notes',
              kind: 'text',
              required: false,
              minLen: 0,
              maxLen: 4000,
              hasRange: false,
              min: 0,
              max: 0,
              table,
            },
          ]);
        },
      },
    });
    expect(await tableRules('line_configs')).toEqual([]);
    fail = false;
    const r = await tableRules('line_configs');
    expect(r[0].maxLen).toBe(4000);
    await tableRules('line_configs');
    expect(calls).toBe(2);
    expect(rejectionError('too_long: notes is 4012 characters long; the limit is 4000', r).params.max).toBe(4000);
  });
});
