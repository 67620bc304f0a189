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

  // The sides are people and 24-hour times (issue 20): this terminal's
  // change, and the other device's saved first (this site lists no people:
  // people.test.mjs shows the names).
  assert.match(await page.getByTestId('head-mine').innerText(), /^.+, \d{2}:\d{2} — this terminal$/);
  assert.match(await page.getByTestId('head-theirs').innerText(), /^.+, \d{2}:\d{2} — saved first$/);
  assert.doesNotMatch(await page.locator('[data-testid="diff"] thead').innerText(), /\b(Mine|Theirs|Base|server)\b/);
  // Unchanged fields are folded away until asked for.
  assert.equal(await row('recipe').count(), 0, 'the unchanged recipe is shown');
  await page.getByTestId('unchanged-toggle').click();
  await row('recipe').waitFor();

  // Highlighted: both changed the temperature, the device the notes, the
  // server the speed; untouched fields are not highlighted.
  assert.equal(
    await row('temperature_c')
      .getAttribute('class')
      .then((c) => /\bk-conflict\b/.test(c)),
    true,
    'temperature is a conflict',
  );
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
  // Merged notes get a multi-line editor.
  assert.equal(await row('notes').locator('td.result textarea').count(), 1, 'the notes result is not a multi-line editor');
  await page.locator('#reason').fill('Summer recipe runs at 190 °C; speed back to 60 rpm');
  await page.locator('.detail').evaluate((e) => (e.scrollTop = 0));
  // The decision controls stay in view at 1280×800 and at 1024×768, the
  // history open below.
  await page.getByTestId('history').click();
  await page.getByTestId('history-list').waitFor();
  for (const [width, height] of [
    [1280, 800],
    [1024, 768],
  ]) {
    await page.setViewportSize({ width, height });
    for (const top of [0, 1e6]) {
      await page.locator('.detail').evaluate((e, y) => (e.scrollTop = y), top);
      const box = await page.getByTestId('resolve').boundingBox();
      assert.ok(
        box && box.y >= 0 && box.y + box.height <= height,
        `Resolve out of view at ${width}×${height}, scrolled ${top}: ${JSON.stringify(box)}`,
      );
      const reason = await page.locator('#reason').boundingBox();
      assert.ok(reason && reason.y >= 0 && reason.y + reason.height <= height, `the reason out of view at ${width}×${height}`);
    }
    if (width === 1024) await shot('conflict-1024');
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.locator('.detail').evaluate((e) => (e.scrollTop = 0));
  await shot('conflict-diff');

  // The Line configs screen flags the conflicted configuration and leads back.
  await page.locator('#tab-lines').click();
  const flag = page.getByTestId('line-conflict');
  await flag.waitFor({ timeout: 10000 });
  assert.match(await flag.locator('xpath=ancestor::li').innerText(), /Line L7/);
  await shot('lines-conflict');
  await page.getByTestId('line-conflict-open').click();
  await page.getByTestId('resolve').waitFor();
  // Back on the conflict: the choices made are gone with the screen; take them again.
  await page.getByTestId('unchanged-toggle').click();
  await pick('temperature_c', 'theirs');
  await pick('notes', 'mine');
  await pick('speed_rpm', 'base');
  await page.locator('#reason').fill('Summer recipe runs at 190 °C; speed back to 60 rpm');

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
  // The inbox shows it resolved (it reloads on the sync:status events
  // SyncNow sends).
  await inbox.locator('button.entry', { hasText: 'Resolved' }).first().waitFor({ timeout: 15000 });
  await shot('conflict-resolved');
});

test('dashboard with seeded data: chart and numbers', async () => {
  // The site's lines and products, with units (no people: sign-in stays off).
  for (const [code, name] of [
    ['L1', 'Line 1'],
    ['L2', 'Line 2'],
    ['L3', 'Line 3'],
    ['L7', 'Line 7'],
  ]) {
    await bridgeCall('SiteService', 'SaveLine', { code, name, area: '', active: true });
  }
  for (const [code, name, unit] of [
    ['P-100', 'Bracket 40 mm', 'pcs'],
    ['P-200', 'Housing, left', 'pcs'],
    ['P-201', 'Housing, right', 'pcs'],
    ['P-300', 'Granulate blend', 'kg'],
  ]) {
    await bridgeCall('SiteService', 'SaveProduct', { code, name, unit, active: true });
  }
  await page.locator('#tab-dashboard').click();
  const lines = page.getByTestId('dash-lines');
  await lines.locator('li').first().waitFor();
  // Per line with its name and unit (issue 20): L1 and L2 make pieces, L3 kg.
  const want = { L1: '300 pcs', L2: '150 pcs', L3: '45 kg' };
  await eventually('the seeded totals per line', async () => {
    const items = await lines.locator('li').allInnerTexts();
    return Object.entries(want).every(([l, q]) => items.some((t) => t.startsWith(l) && t.includes(`Line ${l.slice(1)}`) && t.includes(q)));
  });
  // The shift question: the shift's name and 24-hour times, each line's own
  // target (L7's, configured by the seed) and output per unit.
  const now = page.getByTestId('shift-now');
  await now.waitFor();
  assert.match(await now.locator('h2').innerText(), /^\S+ shift · \d{2}:\d{2}–\d{2}:\d{2}/);
  await eventually('the shift cards', async () => (await page.getByTestId('shift-line-L1').innerText()).includes('300 pcs'));
  assert.match(await page.getByTestId('shift-line-L7').innerText(), /of [\d,]+ so far/);
  assert.doesNotMatch(await page.locator('.dash').innerText(), /\b(AM|PM)\b/);
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
  // Bars are one unit at a time: pieces first (the most made), then kg.
  assert.equal(col('Total (pcs)'), 450);
  const colOf = (code) => head.find((h) => h.startsWith(`${code} `)) ?? code;
  for (const [p, q] of Object.entries({ 'P-100': 300, 'P-200': 100, 'P-201': 50 })) assert.equal(col(colOf(p)), q, `column ${p}`);
  assert.equal(colOf('P-100'), 'P-100 Bracket 40 mm');
  await page.getByTestId('unit-kg').click();
  await eventually('the kg bars', async () => (await table.locator('thead').innerText()).includes('Total (kg)'));
  const kg = await table.evaluate((t) => [...t.querySelectorAll('tbody tr')].map((tr) => tr.lastElementChild.textContent.trim()));
  assert.equal(
    kg.reduce((s, x) => s + num(x), 0),
    45,
  );
  await page.getByTestId('unit-pcs').click();
  await page.locator('details.numbers summary').click(); // closed again for the screenshot
  await page.locator('.dash').evaluate((e) => (e.scrollTop = 0));
  await shot('dashboard');
});
