// people.test.mjs: issue 10 end to end in Debian's Chromium over the real Go
// backend (app/internal/bridge --site-data): the site's lines, products and
// people come from `outpost-server site import` on a real server and reach
// this device by sync. An operator signs in by badge (typed like a scanner),
// records production with a valid and an invalid product code; a manager
// signs in by name and PIN and resolves a conflict made by two signed-in
// people; the conflict and its history show both names.
//
// Run from the repository root: node --test frontend/e2e/people.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, eventually } from './harness.mjs';

let h;

before(async () => {
  h = await start(['--seed', '--site-data']);
});

after(async () => {
  await h?.stop();
});

test('operator signs in by badge and records; an unknown product code is refused', async () => {
  const { page, shot } = h;
  // A site with people starts at the sign-in screen.
  await page.getByTestId('signin-screen').waitFor();
  await page.getByTestId('signin-people').locator('button').first().waitFor();
  await shot('signin');

  // A barcode scanner types the badge and Enter.
  await page.getByTestId('signin-badge').focus();
  await page.keyboard.type('OP-100', { delay: 5 });
  await page.keyboard.press('Enter');
  await page.getByTestId('signed-in-name').filter({ hasText: 'Ana Operator' }).waitFor();

  // The operator field is the signed-in person, not free text.
  await page.locator('#tab-records').click();
  const operator = page.getByTestId('entry-operator');
  await operator.waitFor();
  assert.match((await operator.inputValue().catch(() => operator.innerText())) || '', /Ana Operator|OP-100/);

  const records = async () => (await h.call('RecordService', 'List', { limit: 1000 })).records;
  const before = (await records()).length;
  const enter = async (line, product, qty) => {
    await page.locator('#f-line').fill(line);
    await page.locator('#f-product').fill(product);
    await page.locator('#f-quantity').fill(String(qty));
    await page.getByTestId('save-record').click();
  };

  // An unknown product code: refused beside the field, nothing written.
  await enter('L1', 'P-999', 12);
  const err = page.getByTestId('error-f-product');
  await err.waitFor();
  assert.match(await err.innerText(), /P-999/);
  await shot('record-unknown-product');
  assert.equal((await records()).length, before, 'a refused record was written');

  // A valid one is stored with the signed-in operator's badge.
  await enter('L2', 'P-300', 77);
  const rec = await eventually('the valid record in the store', async () => {
    return (await records()).find((r) => r.productId === 'P-300' && r.quantity === 77);
  });
  assert.equal(rec.operatorId, 'OP-100');
  assert.equal(rec.lineId, 'L2');
  // The list shows the operator's name.
  await page.getByTestId('records-grid').getByText('Ana Operator').first().waitFor();
});

test('manager signs in by name and PIN and resolves a conflict; names in the inbox and history', async () => {
  const { page, shot } = h;
  await page.getByTestId('switch-operator').click();
  await page.getByTestId('signin-screen').waitFor();

  // A wrong PIN first: refused with a sentence, still signed out.
  await page.getByTestId('person-MGR-1').click();
  await page.getByTestId('pin-pad').waitFor();
  for (const d of '1111') await page.getByTestId(`pin-key-${d}`).click();
  await page.getByTestId('pin-submit').click();
  await page.getByTestId('signin-error').filter({ hasText: /PIN/i }).waitFor();
  await shot('signin-pin');

  // The right PIN, typed on the keyboard this time.
  for (const d of '2468') await page.keyboard.press(d);
  await page.keyboard.press('Enter');
  await page.getByTestId('signed-in-name').filter({ hasText: 'Mia Manager' }).waitFor();

  await page.locator('#tab-conflicts').click();
  const inbox = page.getByTestId('inbox');
  await inbox.locator('button.entry').first().waitFor();
  await inbox.locator('button.entry').first().click();
  // The conflict names the person whose edit met it, not a device id.
  const mineBy = await page.getByTestId('conflict-mine-by').innerText();
  assert.match(mineBy, /Ana Operator|Mia Manager/);

  const row = (field) => page.locator(`[data-testid="diff"] tr[data-field="${field}"]`);
  await eventually('the manager controls', async () => page.locator('#reason').isVisible());
  await row('temperature_c').locator('button.cell').nth(2).click();
  await page.locator('#reason').fill('Keep the server temperature');
  await page.getByTestId('resolve').click();
  await page.getByTestId('resolve-notice').filter({ hasText: 'Resolved' }).waitFor();

  const s = await eventually('the decision back from the server', async () => {
    await h.call('SyncService', 'SyncNow');
    const st = await h.state();
    const c = st.conflicts[0];
    return c && c.status === 'resolved' ? st : undefined;
  });
  const c = s.conflicts[0];
  assert.equal(c.resolvedByPerson, 'MGR-1');
  assert.equal(c.resolvedByName, 'Mia Manager');

  await inbox.locator('button.entry', { hasText: 'Resolved' }).first().waitFor({ timeout: 15000 });
  await inbox.locator('button.entry', { hasText: 'Resolved' }).first().click();
  await page.getByTestId('conflict-resolved-by').filter({ hasText: 'Mia Manager' }).waitFor();
  await page.getByTestId('history').click();
  const hist = page.getByTestId('history-list');
  await hist.waitFor();
  const names = await hist.getByTestId('history-by').allInnerTexts();
  assert.ok(
    names.some((n) => /Ana Operator/.test(n)),
    `history names: ${names.join(' | ')}`,
  );
  assert.ok(
    names.some((n) => /Mia Manager/.test(n)),
    `history names: ${names.join(' | ')}`,
  );
  await shot('conflict-names');
});

test('manager adds a product on the site data screen; operators can then record it', async () => {
  const { page, shot } = h;
  // Still signed in as the manager (previous test), on a manager device.
  await page.locator('#tab-site').click();
  await page.getByTestId('site-tab-products').click();
  await page.getByTestId('site-row-P-100').waitFor();
  await page.getByTestId('site-add').click();
  await page.locator('#sd-code').fill('P-400');
  await page.locator('#sd-name').fill('Lid, "round" =1+1');
  await page.locator('#sd-extra').fill('pcs');
  await page.getByTestId('site-save').click();
  await page.getByTestId('site-row-P-400').waitFor();
  await shot('site-products');

  // Stored verbatim, synced to the server, and accepted on a record.
  const p = await eventually('the new product synced', async () => {
    await h.call('SyncService', 'SyncNow');
    const d = await h.call('SiteService', 'Get');
    const x = d.products.find((q) => q.code === 'P-400');
    return x && !x.pending ? x : undefined;
  });
  assert.equal(p.name, 'Lid, "round" =1+1');
  assert.equal(p.updatedBy, 'MGR-1');
  const rec = await h.call('RecordService', 'Create', { lineId: 'L3', productId: 'P-400', quantity: 5, operatorId: '' });
  assert.equal(rec.productId, 'P-400', JSON.stringify(rec));
  assert.equal(rec.operatorId, 'MGR-1');

  // The people and the site settings, as a manager sees them.
  await page.getByTestId('site-tab-people').click();
  await page.getByTestId('site-row-MGR-1').click();
  await page.getByTestId('person-form').waitFor();
  assert.equal(await page.locator('#sp-pin').inputValue(), '', 'a PIN is never shown back');
  await shot('site-people');
  await page.getByTestId('site-tab-settings').click();
  await page.getByTestId('settings-form').waitFor();
  assert.equal(await page.locator('#st-tz').inputValue(), 'UTC');
  await shot('site-settings');
});

test('a person with a language: the shared terminal speaks it while they are signed in (issue 21)', async () => {
  const { page } = h;
  const lang = () => page.locator('html').getAttribute('lang');
  // Mia, signed in on this manager computer, gives Ana German.
  await h.call('SiteService', 'SavePerson', {
    badgeId: 'OP-100',
    displayName: 'Ana Operator',
    role: 'operator',
    active: true,
    language: 'de',
  });
  await page.getByTestId('sign-out').click();
  await page.getByTestId('signin-screen').waitFor();
  assert.equal(await lang(), 'en');
  await page.getByTestId('signin-badge').focus();
  await page.keyboard.type('OP-100', { delay: 5 });
  await page.keyboard.press('Enter');
  await page.getByTestId('signed-in-name').filter({ hasText: 'Ana Operator' }).waitFor();
  // German at once, in the same page (no reload, no restart).
  await eventually('German', async () => (await lang()) === 'de');
  await page.locator('#tab-records').filter({ hasText: 'Einträge' }).waitFor();
  // Back to the terminal's language at sign-out.
  await page.getByTestId('sign-out').click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await lang(), 'en');
});
