// @vitest-environment node
import { afterEach, describe, expect, it } from 'vitest';
import { setLocale } from '../i18n';
import { messageFiles } from '../i18n/messages';
import { columnLabel, columnLabelWithUnit } from './columns';
import { fieldLabel as formLabel } from './validate';
import { fieldLabel as diffLabel } from './conflict';
import { registryTables } from '../test/schema';

describe('column labels (issue 18 point 4)', () => {
  afterEach(() => setLocale(null));

  it('the forms and the conflict diff name a column by the same message', () => {
    setLocale('de');
    expect(formLabel({ column: 'operator_id' })).toBe('Bediener');
    expect(diffLabel('operator_id')).toBe('Bediener');
    expect(formLabel({ column: 'speed_rpm' })).toBe('Drehzahl');
    expect(diffLabel('speed_rpm')).toBe('Drehzahl U/min');
    expect(columnLabelWithUnit('target_rate_per_hour')).toBe('Soll-Leistung / h');
    expect(columnLabel('no_such_column')).toBe('no_such_column');
  });

  it('every field of every registry table has a label in every language', () => {
    const errors = messageFiles().filter((f) => f.dictionary === 'errors');
    expect(errors.length).toBeGreaterThan(1);
    for (const f of errors) {
      for (const t of registryTables) {
        for (const col of [...t.fields.map((r) => r.column), ...t.merged]) {
          expect(f.messages[`errors.field.${col}`], `${f.locale}: errors.field.${col} (${t.name})`).toBeTruthy();
        }
      }
    }
  });
});
