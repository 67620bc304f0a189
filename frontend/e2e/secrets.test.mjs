// secrets.test.mjs: issue 17, hole 1, end to end in Debian's Chromium over
// the real Go backend (app/internal/bridge --site-data --people-conflict):
// two managers changed Sam Supervisor's PIN from the same version, an open
// people conflict. An operator signs in on this terminal and opens it: the
// screen says "PIN set / changed", and no PIN hash is anywhere the WebView
// can read — not in the page's DOM, not in any answer of a bound method the
// page received, not in what the test asks the methods itself.
//
// Run from the repository root: node --test frontend/e2e/secrets.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, eventually } from './harness.mjs';

let h;
const answers = []; // every /call/ answer the page got

before(async () => {
  h = await start(['--site-data', '--people-conflict']);
  h.page.on('response', async (res) => {
    if (!res.url().includes('/call/')) return;
    answers.push(`${res.url()} ${await res.text().catch(() => '')}`);
  });
});

after(async () => {
  await h?.stop();
});

const hashLike = /\$argon2|argon2id/;

test("an operator opens a people conflict and finds no PIN hash on the page or in the bound methods' answers", async () => {
  const { page, shot } = h;
  await page.getByTestId('signin-screen').waitFor();
  await page.getByTestId('signin-badge').focus();
  await page.keyboard.type('OP-100', { delay: 5 });
  await page.keyboard.press('Enter');
  await page.getByTestId('signed-in-name').filter({ hasText: 'Ana Operator' }).waitFor();

  await page.locator('#tab-conflicts').click();
  const entry = page.getByTestId('inbox').locator('button.entry', { hasText: 'Sam Supervisor' }).first();
  await entry.waitFor();
  await entry.click();
  const pinRow = page.locator('[data-testid="diff"] tr[data-field="pin_hash"]');
  await pinRow.waitFor();
  const cells = await pinRow.locator('td').allInnerTexts();
  assert.deepEqual(
    cells.slice(0, 3).map((c) => c.trim()),
    ['PIN set', 'PIN changed', 'PIN changed'],
    `the PIN row: ${cells.join(' | ')}`,
  );
  await page.getByTestId('history').click();
  const hist = page.getByTestId('history-list');
  await hist.waitFor();
  await eventually('the history versions', async () => (await hist.locator('li').count()) >= 2);
  assert.match(await hist.innerText(), /PIN: PIN set/);
  await shot('conflict-people-pin');

  // The Site screen's people, as this operator sees them.
  await page.locator('#tab-site').click();
  await page.getByTestId('site-tab-people').click();
  await page.getByTestId('site-row-SUP-1').waitFor();
  await page.locator('#tab-conflicts').click();
  await page.getByTestId('inbox').waitFor();

  // Everything the page holds and was sent.
  const dom = await page.content();
  assert.doesNotMatch(dom, hashLike, 'a PIN hash is in the DOM');
  assert.doesNotMatch(dom, /secret:[0-9a-f]/, 'a secret token is shown as text');
  assert.ok(
    answers.some((a) => a.includes('/call/ConflictService/List') && a.includes('Sam Supervisor')),
    'the page never got the inbox, so the check proves nothing',
  );
  for (const a of answers) assert.doesNotMatch(a, hashLike, `a bound method sent a PIN hash to the page: ${a.slice(0, 300)}`);

  // And each bound method that returns rows, asked directly.
  const list = await h.call('ConflictService', 'List');
  const c = list.find((x) => x.table === 'people' && x.status === 'open');
  assert.ok(c, JSON.stringify(list).slice(0, 500));
  assert.match(String(c.mine.pin_hash), /^secret:/);
  const asked = [
    list,
    await h.call('ConflictService', 'History', 'people', c.rowId),
    await h.call('ConflictService', 'History', 'sync_conflicts', c.id),
    await h.call('SyncService', 'Quarantine'),
    await h.call('SiteService', 'Get'),
    await h.call('SessionService', 'People'),
  ];
  assert.doesNotMatch(JSON.stringify(asked), hashLike, 'a bound method answers with a PIN hash');
});
