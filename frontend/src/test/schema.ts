// The registry as app.SchemaService.Tables sends it, for tests: written by
// a Go test from backend/protocol (app/schema_test.go, TestSchemaFixture),
// which fails when the two differ, so no test checks a hand-made copy.
import type { FieldRule, TableSchema } from '../lib/api';
import fixture from './fixtures/schema.json';

export const registryTables = fixture as TableSchema[];

function table(name: string): TableSchema {
  const t = registryTables.find((x) => x.name === name);
  if (!t) throw new Error(`no table ${name} in src/test/fixtures/schema.json`);
  return t;
}

/** registryRules are the rules of table's people's fields. */
export function registryRules(name: string): FieldRule[] {
  return table(name).fields;
}

/** registryMerged are the fields a diff of table compares, in order. */
export function registryMerged(name: string): string[] {
  return table(name).merged;
}
