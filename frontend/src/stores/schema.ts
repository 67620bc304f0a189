// Validation rules of the people's fields, from the Go table registry
// (app.SchemaService). Until they arrive the forms use the v1 defaults.
import { writable } from 'svelte/store';
import { schema, type FieldRule } from '../lib/api';

export type Rules = { [table: string]: FieldRule[] };

export const schemaRules = writable<Rules>({});

/** loadSchema fetches the rules of the tables the screens edit. */
export async function loadSchema(fields: (t: string) => Promise<FieldRule[]> = schema.fields): Promise<void> {
  const tables = ['production_records', 'line_configs'];
  try {
    const got = await Promise.all(tables.map((t) => fields(t)));
    const rules: Rules = {};
    tables.forEach((t, i) => {
      if (got[i].length) rules[t] = got[i];
    });
    schemaRules.set(rules);
  } catch {
    /* keep the defaults; the store validates again anyway */
  }
}
