// verify.mjs reads the JSON that app/internal/inspect printed from the
// encrypted store after the end-to-end run and checks that it holds exactly
// what the operator did through the UI. Exit code 1 with a list of problems
// otherwise.
import { readFileSync } from 'node:fs';

const dump = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const problems = [];
const expect = (ok, what) => ok || problems.push(what);

expect(dump.encrypted === true, 'the store does not report encryption');

const recs = dump.records;
expect(
  recs.length === 3,
  `want 3 records (one edited, one deleted, one from the other device), found ${recs.length}: ${recs.map((r) => r.product_id).join(', ')}`,
);
const remote = recs.find((r) => r.product_id === 'P-E2E-REMOTE');
expect(
  remote && remote.quantity === 77 && remote.line_id === 'L9' && remote.synced_at !== null,
  `the other device's record: ${JSON.stringify(remote)}`,
);
const a = recs.find((r) => r.product_id === 'P-E2E-A');
const b = recs.find((r) => r.product_id === 'P-E2E-B');
expect(a, 'record P-E2E-A is missing');
expect(b, 'record P-E2E-B is missing');
if (a) {
  expect(a.line_id === 'L7' && a.operator_id === 'op-e2e', `P-E2E-A line/operator: ${a.line_id}/${a.operator_id}`);
  expect(a.quantity === 45, `P-E2E-A quantity ${a.quantity}, want 45 (edited from 40)`);
  expect(a.deleted_at === null, 'P-E2E-A is deleted');
  expect(a.updated_at >= a.created_at, 'P-E2E-A updated_at before created_at');
  expect(a.synced_at !== null, 'P-E2E-A was not synced');
}
if (b) {
  expect(b.quantity === 5 && b.line_id === 'L7' && b.operator_id === 'op-e2e', `P-E2E-B fields: ${JSON.stringify(b)}`);
  expect(typeof b.deleted_at === 'number' && b.deleted_at > 0, 'P-E2E-B is not soft-deleted');
}
expect(!recs.some((r) => r.product_id === 'P-E2E-C'), 'the invalid entry P-E2E-C was saved');

const lcs = dump.line_configs;
expect(lcs.length === 2, `want 2 line configs (one from the UI, one from the conflict), found ${lcs.length}`);
const c = lcs.find((x) => x.recipe === 'RECIPE-1');
const cf = lcs.find((x) => x.recipe === 'RECIPE-CONFLICT');
expect(
  cf && cf.temperature_c === 185 && cf.speed_rpm === 70 && cf.notes === 'Run fast on nights, check seals',
  `the resolved line config in the app: ${JSON.stringify(cf)}`,
);
if (c) {
  expect(c.line_id === 'L7' && c.recipe === 'RECIPE-1', `line config line/recipe: ${c.line_id}/${c.recipe}`);
  expect(c.target_rate_per_hour === 1200, `target rate ${c.target_rate_per_hour}`);
  expect(c.temperature_c === 185.5, `temperature ${c.temperature_c}, want 185.5 (edited from 180)`);
  expect(c.speed_rpm === 60, `speed ${c.speed_rpm}`);
  expect(c.notes === null, `notes ${c.notes}`);
  expect(c.deleted_at === null, 'the line config is deleted');
}
expect(dump.pending === 0, `pending ${dump.pending}, want 0 (everything synced)`);

if (problems.length) {
  console.error('e2e: the store does not hold what the UI did:\n  - ' + problems.join('\n  - '));
  process.exit(1);
}
