// What the screens know of the synced tables, all from the Go table
// registry (app.SchemaService.Tables), loaded once when the local database
// is open: the rules and limits of the fields a person edits (the forms)
// and the columns a conflict's diff compares, in order. Nothing of it is
// written again in TypeScript; the tests load the same data from
// src/test/fixtures/schema.json, which a Go test keeps equal to the
// registry. Until it arrives the forms check nothing themselves (the store
// validates every save anyway) and the diff lists the rows' own fields.
import { derived, writable } from 'svelte/store';
import { schema as api, type FieldRule, type TableSchema } from '../lib/api';

export type Rules = { [table: string]: FieldRule[] };
export type Tables = { [table: string]: TableSchema };

/** schemaTables is the registry's tables by name; empty until loaded. */
export const schemaTables = writable<Tables>({});

/** schemaRules are the rules of each table's people's fields. */
export const schemaRules = derived(schemaTables, (ts) => {
  const out: Rules = {};
  for (const [name, t] of Object.entries(ts)) out[name] = t.fields;
  return out;
});

/** setSchema puts the registry's tables (as SchemaService.Tables sends
 * them) in the store. */
export function setSchema(tables: readonly TableSchema[]): void {
  const out: Tables = {};
  for (const t of tables) out[t.name] = t;
  schemaTables.set(out);
}

/** loadSchema fetches the registry's tables; a failure keeps what the
 * store holds (the store checks every save anyway). */
export async function loadSchema(tables: () => Promise<TableSchema[]> = api.tables): Promise<void> {
  try {
    const got = await tables();
    if (got?.length) setSchema(got);
  } catch {
    /* keep what is there */
  }
}
