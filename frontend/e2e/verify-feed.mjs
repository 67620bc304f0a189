// verify-feed.mjs checks the server's pull feed (as a second device of the
// site sees it, fetched with curl) after the app enrolled through its setup
// screen and synced the operator's shift. Exit 1 with the problems otherwise.
import { readFileSync } from 'node:fs';

const feed = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const problems = [];
const expect = (ok, what) => ok || problems.push(what);
const rows = (t) => feed.changes.filter((c) => c.table === t).map((c) => c.row);

const recs = rows('production_records');
const a = recs.find((r) => r.product_id === 'P-E2E-A');
const b = recs.find((r) => r.product_id === 'P-E2E-B');
expect(
  a && a.quantity === 45 && a.line_id === 'L7' && a.operator_id === 'op-e2e' && a.deleted_at === null,
  `P-E2E-A on the server: ${JSON.stringify(a)}`,
);
expect(b && typeof b.deleted_at === 'number' && b.deleted_at > 0, `P-E2E-B on the server is not deleted: ${JSON.stringify(b)}`);
expect(!recs.some((r) => r.product_id === 'P-E2E-C'), 'the refused entry P-E2E-C reached the server');
const lc = rows('line_configs').find((r) => r.recipe === 'RECIPE-1');
expect(lc && lc.temperature_c === 185.5 && lc.speed_rpm === 60, `line config on the server: ${JSON.stringify(lc)}`);

if (problems.length) {
  console.error('e2e: the server feed does not hold what the app synced:\n  - ' + problems.join('\n  - '));
  process.exit(1);
}
