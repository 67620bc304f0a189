// Column labels: how the screens name a column of a synced table in the
// language shown. One key family in the message files, "errors.field.<column>"
// (src/i18n/errors), for the validation sentences of the forms, the Go
// side's error parameters ({field}) and the conflict diff alike; a column
// with a unit also has its label with the unit as one message,
// "errors.fieldWithUnit.<column>" ("Speed rpm": one message, so a long
// language wraps it as one label). app/errors_test.go checks
// that every column of every registry table has a label in every language.
import { tDynamic } from '../i18n';

/** columnLabel names a column in the language shown ("Speed"), or gives
 * the column's own name for one no message file knows. */
export function columnLabel(column: string): string {
  return tDynamic(`errors.field.${column}`) ?? column;
}

/** columnLabelWithUnit names a column with its unit when it has one
 * ("Speed rpm"), for a place that shows bare numbers (the conflict diff). */
export function columnLabelWithUnit(column: string): string {
  return tDynamic(`errors.fieldWithUnit.${column}`) ?? columnLabel(column);
}
