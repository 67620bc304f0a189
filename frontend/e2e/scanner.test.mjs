// scanner.test.mjs: issue 20 item 2 end to end in Debian's Chromium over the
// real Go backend (app/internal/bridge --seed --site-data). A keyboard-wedge
// scanner types 5 ms a character and Enter. A shift of 50 records is scanned
// with wrong scans mixed in — an EAN into Quantity, a quantity outside the
// product's plausible range, an unknown product, a scan after tapping a
// row, a colleague's badge into Product (switch operator) and a badge
// scanned on another screen: nothing wrong is written, every refusal is
// seen (the red flash and its sentence) and heard (a WebAudio beep was
// played, counted by wrapping AudioContext.createOscillator).
//
// Run from the repository root: node --test frontend/e2e/scanner.test.mjs
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

test('a scanned shift of 50 records: nothing wrong written, every refusal seen and heard', async () => {
  const { page, shot } = h;
  const scan = async (code) => {
    await page.keyboard.type(code, { delay: 5 });
    await page.keyboard.press('Enter');
  };
  // focused waits (polling each frame) until the element with id has the focus.
  const focused = (id, what) =>
    page
      .waitForFunction((x) => document.activeElement?.id === x, id, { timeout: 10000 })
      .catch(() => {
        throw new Error(`timed out waiting for ${what}`);
      });
  const signedIn = (name) => page.getByTestId('signed-in-name').filter({ hasText: name }).waitFor();

  // What was seen and heard: every feedback event, and every tone played.
  await page.evaluate(() => {
    window.__fb = [];
    window.__tones = 0;
    window.addEventListener('outpost:feedback', (e) => window.__fb.push(e.detail));
    const AC = window.AudioContext;
    const orig = AC.prototype.createOscillator;
    AC.prototype.createOscillator = function () {
      window.__tones++;
      return orig.call(this);
    };
  });
  const feedback = () => page.evaluate(() => window.__fb);
  const tones = () => page.evaluate(() => window.__tones);
  const nextFeedback = async (n, kind, what) => {
    await page
      .waitForFunction((k) => window.__fb.length > k, n, { timeout: 15000 })
      .catch(() => {
        throw new Error(`no feedback after ${what}`);
      });
    const fb = (await feedback())[n];
    assert.equal(fb.kind, kind, `${what}: ${JSON.stringify(fb)}`);
    assert.equal(fb.sound, true, `${what}: no sound`);
    return fb;
  };

  // The manager signs in by scanning the badge, and gives P-300 (kg) a range.
  await page.getByTestId('signin-screen').waitFor();
  await page.getByTestId('signin-people').locator('button').first().waitFor();
  let n = (await feedback()).length;
  await scan('MGR-1');
  await nextFeedback(n, 'accept', 'the manager badge');
  await page.getByTestId('pin-pad').waitFor();
  for (const d of '2468') await page.keyboard.press(d);
  await page.keyboard.press('Enter');
  await signedIn('Mia Manager');
  await page.locator('#tab-site').click();
  await page.getByTestId('site-tab-products').click();
  await page.getByTestId('site-row-P-300').click();
  await page.locator('#sd-min').fill('5');
  await page.locator('#sd-max').fill('500');
  await page.getByTestId('site-save').click();
  await page.getByTestId('site-row-P-300').filter({ hasText: '5–500 kg' }).waitFor();
  const p300 = (await h.call('SiteService', 'Get')).products.find((p) => p.code === 'P-300');
  assert.equal(p300.minQuantity, 5);
  assert.equal(p300.maxQuantity, 500);
  // A second operator for the badge switch.
  const op2 = await h.call('SiteService', 'SavePerson', { badgeId: 'OP-200', displayName: 'Olu Operator', role: 'operator', active: true });
  assert.equal(op2.badgeId, 'OP-200', JSON.stringify(op2));

  // A badge scanned on the Site screen switches to that person.
  await page.getByTestId('site-row-P-100').click();
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  n = (await feedback()).length;
  await scan('OP-100');
  await signedIn('Ana Operator');
  await nextFeedback(n, 'accept', 'the operator badge on the Site screen');

  await page.locator('#tab-records').click();
  const line = page.locator('#f-line');
  await line.waitFor();
  if ((await line.inputValue()) === '') {
    await line.focus();
    await scan('L1');
  }
  const records = async () => (await h.call('RecordService', 'List', { limit: 5000 })).records;
  const before = await records();
  const beforeIds = new Set(before.map((r) => r.id));
  const products = ['P-100', 'P-200', 'P-201', 'P-300'];
  const wanted = [];
  let refusals = 0;
  let operator = 'OP-100';

  // refused: the scan just made was refused: red flash, its sentence, a beep.
  const refused = async (k, what, re) => {
    const fb = await nextFeedback(k, 'refuse', what);
    assert.match(fb.message, re, what);
    const band = page.getByTestId('scan-refused');
    await band.waitFor({ timeout: 3000 });
    assert.equal(await page.getByTestId('scan-flash').getAttribute('data-kind'), 'refuse');
    refusals++;
  };

  for (let i = 0; i < 50; i++) {
    const product = products[i % products.length];
    const qty = 10 + i;
    await page.locator('#f-product').waitFor();
    await focused('f-product', `the product field before record ${i}`).catch(async (e) => {
      await shot('scanner-stuck');
      const where = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 160));
      throw new Error(`${e.message}; the focus is on ${where}; feedback ${JSON.stringify((await feedback()).slice(-3))}`);
    });

    if (i % 10 === 2) {
      // An EAN scanned into Quantity: refused, the field selected for the right count.
      await scan(product);
      n = (await feedback()).length;
      await scan('40063813');
      await refused(n, 'EAN into Quantity', /looks like a scanned barcode/);
      if (i === 2) await shot('scan-refused');
      n = (await feedback()).length;
      await scan(String(qty));
      await nextFeedback(n, 'accept', `record ${i} after the EAN`);
    } else if (i % 10 === 4) {
      // A scan after tapping a row: the row is read only, the scan refused.
      const row = page.getByTestId('records-grid').getByRole('row').nth(1);
      await row.click();
      await page.getByTestId('edit-record').waitFor();
      n = (await feedback()).length;
      await scan(product);
      await refused(n, 'a scan after tapping a row', /nothing takes a scan|read only/);
      await page.getByRole('button', { name: 'Cancel', exact: true }).click();
      await focused('f-product', 'the new-record form');
      n = (await feedback()).length;
      await scan(product);
      await scan(String(qty));
      await nextFeedback(n, 'accept', `record ${i} after the tapped row`);
    } else if (i % 10 === 6) {
      // An unknown product: the Go side refuses it beside the field.
      await scan('P-999');
      n = (await feedback()).length;
      await scan(String(qty));
      await refused(n, 'an unknown product', /P-999/);
      // The person clears the product; the quantity stays, so the right
      // product's scan and Enter save the record.
      await page.locator('#f-product').fill('');
      n = (await feedback()).length;
      await scan(product);
      await nextFeedback(n, 'accept', `record ${i} after the unknown product`);
    } else if (i % 10 === 8) {
      // P-300 above its range (500 kg): confirmation asked, Enter does not save.
      await scan('P-300');
      assert.equal(await page.getByTestId('f-quantity-unit').innerText(), 'in kg');
      n = (await feedback()).length;
      await scan('900');
      await refused(n, 'a quantity above the range', /900 kg is more than the usual maximum of 500 kg/);
      n = (await feedback()).length;
      await scan(String(qty));
      await nextFeedback(n, 'accept', `record ${i} after the range`);
      wanted.push({ product: 'P-300', qty, operator });
      continue;
    } else if (i === 25 || i === 45) {
      // A colleague's badge scanned into Product: switch, nothing written.
      const next = operator === 'OP-100' ? 'OP-200' : 'OP-100';
      n = (await feedback()).length;
      await scan(next);
      await signedIn(next === 'OP-200' ? 'Olu Operator' : 'Ana Operator');
      await nextFeedback(n, 'accept', `the badge ${next} into Product`);
      operator = next;
      await page.locator('#tab-records').waitFor();
      await focused('f-product', 'the form after the switch');
      n = (await feedback()).length;
      await scan(product);
      await scan(String(qty));
      await nextFeedback(n, 'accept', `record ${i} after the switch`);
    } else {
      n = (await feedback()).length;
      await scan(product);
      await scan(String(qty));
      await nextFeedback(n, 'accept', `record ${i}`);
    }
    wanted.push({ product, qty, operator });
  }

  // Exactly the 50 records meant, by the person signed in at the time.
  const made = (await records()).filter((r) => !beforeIds.has(r.id));
  const key = (r) => `${r.product}/${r.qty}/${r.operator}`;
  assert.deepEqual(made.map((r) => key({ product: r.productId, qty: r.quantity, operator: r.operatorId })).sort(), wanted.map(key).sort());
  // The records that existed were not changed by the scans after a tap.
  const now = new Map((await records()).map((r) => [r.id, r]));
  for (const r of before) assert.deepEqual(now.get(r.id), r, `record ${r.id} changed`);

  // Every refusal was heard: a refusal plays two tones, an acceptance one.
  const fb = await feedback();
  assert.equal(fb.filter((f) => f.kind === 'refuse').length, refusals);
  assert.ok(refusals >= 20, `only ${refusals} refusals`);
  assert.ok(
    fb.every((f) => f.sound),
    'a signal without sound',
  );
  const want = fb.filter((f) => f.kind === 'accept').length + 2 * refusals;
  assert.equal(await tones(), want, 'tones played');

  // Turned off on this terminal: the flash still shows, no tone.
  await page.locator('#tab-status').click();
  await page.getByTestId('scan-sound').uncheck();
  await eventually('the choice kept in Go', async () => (await h.call('PrefsService', 'Get')).scanSoundOff === true);
  await page.locator('#tab-records').click();
  await focused('f-product', 'the product field');
  const t0 = await tones();
  n = (await feedback()).length;
  await scan('P-100');
  await scan('40063813');
  await page.waitForFunction((k) => window.__fb.length > k, n);
  const last = (await feedback())[n];
  assert.equal(last.kind, 'refuse');
  assert.equal(last.sound, false);
  assert.equal(await tones(), t0);
  await page.getByTestId('scan-refused').waitFor({ timeout: 3000 });
});
