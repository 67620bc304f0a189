// browser.test.mjs drives the built frontend in Debian's Chromium
// (playwright-core, never a downloaded browser) against the real Go backend:
// app/internal/bridge serves frontend/dist over the real app services on a
// real encrypted store, enrolled with a real outpost-server process that
// holds a real conflict made by two devices, plus seeded production records.
//
// Run from the repository root: node --test frontend/e2e/browser.test.mjs
// Screenshots go to build/test-artifacts/; `make screenshots` copies them to docs/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, eventually } from './harness.mjs';

let h, url, page, shot;
const bridgeCall = (...a) => h.call(...a);

before(async () => {
  h = await start(['--seed']);
  ({ url, page, shot } = h);
});

after(async () => {
  await h?.stop();
});

test('conflict inbox: highlighted fields, field-by-field resolution with a reason', async (t) => {
  t.diagnostic(`bridge at ${url}`);
  await page.locator('#tab-conflicts').click();
  const inbox = page.getByTestId('inbox');
  await inbox.locator('button.entry').first().waitFor();
  assert.match(await inbox.innerText(), /Open/);

  const row = (field) => page.locator(`[data-testid="diff"] tr[data-field="${field}"]`);
  // The manager's buttons are enabled once the role is known.
  await row('temperature_c').locator('button.cell').nth(2).waitFor();
  await eventually('the manager controls', async () => page.locator('#reason').isVisible());

  // Highlighted: both changed the temperature, the device the notes, the
  // server the speed; untouched fields are not highlighted.
  assert.equal(await row('temperature_c').getAttribute('class').then((c) => /\bk-conflict\b/.test(c)), true, 'temperature is a conflict');
  assert.match(await row('notes').getAttribute('class'), /\bk-mine\b/);
  assert.match(await row('speed_rpm').getAttribute('class'), /\bk-theirs\b/);
  assert.match(await row('recipe').getAttribute('class'), /\bk-same\b/);
  const red = await row('temperature_c').evaluate((e) => getComputedStyle(e).backgroundColor);
  const plain = await row('recipe').evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.notEqual(red, plain, 'the conflicting row has no highlight colour');
  // The notes show a word diff (the added words).
  assert.match(await row('notes').locator('td').nth(1).locator('ins').first().innerText(), /every/);
  await shot('conflict-inbox');

  // Field by field: the server's temperature, the device's notes, the base speed.
  const pick = async (field, side) => {
    const cell = row(field).locator('button.cell').nth(['base', 'mine', 'theirs'].indexOf(side));
    await cell.click();
    assert.equal(await cell.getAttribute('aria-pressed'), 'true', `${field}: ${side} is not picked`);
  };
  await pick('temperature_c', 'theirs');
  await pick('notes', 'mine');
  await pick('speed_rpm', 'base');
  assert.equal(Number(await row('temperature_c').locator('td.result input').inputValue()), 190);
  assert.equal(Number(await row('speed_rpm').locator('td.result input').inputValue()), 60);
  await page.locator('#reason').fill('Summer recipe runs at 190 °C; speed back to 60 rpm');
  await page.locator('.detail').evaluate((e) => (e.scrollTop = 0));
  await shot('conflict-diff');

  await page.getByTestId('resolve').click();
  await page.getByTestId('resolve-notice').filter({ hasText: 'Resolved' }).waitFor();

  // The server accepted it: after a sync the conflict is resolved with the
  // reason and the row holds the decision.
  const state = await eventually('the decision back from the server', async () => {
    await bridgeCall('SyncService', 'SyncNow');
    const s = await (await fetch(`${url}/state`)).json();
    const c = s.conflicts[0];
    return c && c.status === 'resolved' ? s : undefined;
  });
  const c = state.conflicts[0];
  assert.equal(c.reason, 'Summer recipe runs at 190 °C; speed back to 60 rpm');
  const lc = state.lineConfigs.find((x) => x.id === c.rowId);
  assert.equal(lc.temperatureC, 190);
  assert.equal(lc.notes, 'Check seals every shift');
  assert.equal(lc.speedRpm, 60);
  // The inbox shows it resolved (it polls every 5 s).
  await inbox.locator('button.entry', { hasText: 'Resolved' }).first().waitFor({ timeout: 15000 });
  await shot('conflict-resolved');
});

test('dashboard with seeded data: chart and numbers', async () => {
  await page.locator('#tab-dashboard').click();
  const lines = page.getByTestId('dash-lines');
  await lines.locator('li').first().waitFor();
  const want = { L1: 300, L2: 150, L3: 45 };
  await eventually('the seeded totals per line', async () => {
    const text = await lines.innerText();
    return Object.entries(want).every(([l, q]) => new RegExp(`${l}\\s+${q}\\b`).test(text));
  });
  const canvas = page.getByTestId('dashboard-chart');
  await canvas.waitFor();
  const box = await canvas.boundingBox();
  assert.ok(box && box.width > 200 && box.height > 100, `chart canvas ${JSON.stringify(box)}`);
  // Something is drawn on it.
  const drawn = await canvas.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(drawn > 500, `the chart canvas is nearly empty (${drawn} painted pixels)`);

  // The numbers table (stacked by product): the Total column adds up to the
  // seeded 495, and each product's column to its total.
  await page.locator('details.numbers summary').click();
  const table = page.getByTestId('dash-table');
  await table.waitFor();
  const { head, rows } = await table.evaluate((t) => ({
    head: [...t.querySelectorAll('thead th')].map((th) => th.textContent.trim()),
    rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent.trim())),
  }));
  const num = (s) => Number(String(s).replace(/[^\d.-]/g, '')) || 0;
  const col = (name) => {
    const i = head.indexOf(name);
    assert.ok(i >= 0, `no column ${name} in ${head.join(' | ')}`);
    return rows.reduce((s, r) => s + num(r[i]), 0);
  };
  assert.equal(col('Total'), 495);
  for (const [p, q] of Object.entries({ 'P-100': 300, 'P-200': 100, 'P-201': 50, 'P-300': 45 })) assert.equal(col(p), q, `column ${p}`);
  await page.locator('details.numbers summary').click(); // closed again for the screenshot
  await shot('dashboard');
});
