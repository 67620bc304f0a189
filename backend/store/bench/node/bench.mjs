// better-sqlite3 side of the store benchmark (the seed's stack): the same
// schema, SQL, pragmas and operations as ../driver.go. Prints the results as
// JSON (the shape of ../result.go) on stdout; progress on stderr.
//
//   node bench.mjs DIR [--quick]
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '/tmp';
const quick = process.argv.includes('--quick');
const sz = quick
  ? { batch: 5000, single: 200, big: 20000, pending: 100, reads: 2000, hot: 500 }
  : { batch: 100000, single: 10000, big: 1000000, pending: 1000, reads: 100000, hot: 10000 };
const SYSTEM = 'better-sqlite3 12 (Node 20)';

// The seed's table, the same file ../driver.go embeds.
const seedSchema = readFileSync(new URL('../seed.sql', import.meta.url), 'utf8');
const insertSQL = `INSERT INTO production_records (id, line_id, product_id, quantity, operator_id,
  created_at, updated_at, synced_at, deleted_at, server_updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`;
const pointSQL = `SELECT id, line_id, product_id, quantity, operator_id, created_at, updated_at, synced_at, deleted_at, server_updated_at FROM production_records WHERE id = ?`;
const pendingSQL = `SELECT id, line_id, product_id, quantity, operator_id, created_at, updated_at, deleted_at FROM production_records WHERE synced_at IS NULL`;

const results = [];
function time(op, n, rows, note, fn) {
  const t0 = process.hrtime.bigint();
  fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const r = { suite: 'driver', system: SYSTEM, op, n, rows, seconds, note };
  results.push(r);
  process.stderr.write(`driver  ${SYSTEM.padEnd(48)} ${op.padEnd(26)} ${(seconds / n * 1e6).toFixed(2).padStart(10)} µs/op ${(rows / seconds).toFixed(0).padStart(12)} rows/s  ${note}\n`);
}

function open(path, cacheKiB = 32768) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`cache_size = -${cacheKiB}`);
  db.pragma('temp_store = MEMORY');
  db.exec(seedSchema);
  return db;
}

function remove(path) {
  for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
}

const T0 = 1760000000000;
function seedRow(id, i, pendingEvery) {
  let synced = T0 + i + 1000;
  if (pendingEvery > 0 && i % pendingEvery === Math.floor(pendingEvery / 2)) synced = null;
  return [id, 'L' + (i % 20), 'P-' + (i % 500), i % 1000, 'op-' + (i % 50), T0 + i, T0 + i, synced, synced];
}

const newIDs = (n) => Array.from({ length: n }, () => randomUUID());
const pick = (ids) => ids[Math.floor(Math.random() * ids.length)];

// 1. 100k inserts in one transaction; 2. single-row transactions on top.
let p = join(dir, 'bsq-batch.db');
remove(p);
let db = open(p);
let ids = newIDs(sz.batch + sz.single);
let ins = db.prepare(insertSQL);
time('insert_batch', 1, sz.batch, 'one transaction', () => {
  db.transaction(() => { for (let i = 0; i < sz.batch; i++) ins.run(...seedRow(ids[i], i, 0)); })();
});
db.close();
remove(p);
db = open(p);
const multiRows = 100;
const multiSQL = insertSQL.split('VALUES ')[0] + 'VALUES ' + Array(multiRows).fill('(?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)').join(', ');
time('insert_batch_multirow', 1, sz.batch, `one transaction, ${multiRows} rows per INSERT`, () => {
  const multi = db.prepare(multiSQL);
  db.transaction(() => {
    for (let start = 0; start < sz.batch; start += multiRows) {
      const n = Math.min(multiRows, sz.batch - start);
      const args = [];
      for (let i = start; i < start + n; i++) args.push(...seedRow(ids[i], i, 0));
      if (n === multiRows) multi.run(...args);
      else db.prepare(insertSQL.split('VALUES ')[0] + 'VALUES ' + Array(n).fill('(?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)').join(', ')).run(...args);
    }
  })();
});
ins = db.prepare(insertSQL);
time('insert_single_tx', sz.single, sz.single, 'synchronous=FULL', () => {
  const one = db.transaction((row) => ins.run(...row));
  for (let i = sz.batch; i < sz.batch + sz.single; i++) one(seedRow(ids[i], i, 0));
});
db.close();
remove(p);

// 3. The 1M-row table with 1k pending rows spread through it.
p = join(dir, 'bsq-big.db');
remove(p);
db = open(p, 256 * 1024); // setup: the same fill cache as the Go side
const big = newIDs(sz.big);
const every = Math.floor(sz.big / sz.pending);
ins = db.prepare(insertSQL);
time('fill_1m', 1, sz.big, 'setup, one transaction, 256 MiB cache', () => {
  db.transaction(() => { for (let i = 0; i < sz.big; i++) ins.run(...seedRow(big[i], i, every)); })();
});
db.close();

db = open(p);
let point = db.prepare(pointSQL);
time('point_read_cold', sz.reads, sz.reads, `random ids over ${sz.big} rows, fresh connection, 32 MiB cache`, () => {
  for (let i = 0; i < sz.reads; i++) point.get(pick(big));
});
const pending = db.prepare(pendingSQL);
for (let i = 0; i < 5; i++) {
  const n = pending.all().length;
  if (n !== sz.pending) throw new Error(`pending rows = ${n}`);
}
const reps = 200;
time('pending_query', reps, reps * sz.pending, `${sz.pending} pending of ${sz.big}, full rows`, () => {
  for (let i = 0; i < reps; i++) pending.all();
});
const hot = big.slice(0, sz.hot);
for (let i = 0; i < sz.hot * 3; i++) point.get(pick(hot));
time('point_read_cached', sz.reads, sz.reads, `random ids over a ${sz.hot}-row hot set`, () => {
  for (let i = 0; i < sz.reads; i++) point.get(pick(hot));
});
db.close();
remove(p);

process.stdout.write(JSON.stringify(results, null, 1) + '\n');
