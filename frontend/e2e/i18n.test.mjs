// i18n.test.mjs: issue 21 in Debian's Chromium over the real Go backend
// (app/internal/bridge --seed --site-data, a real outpost-server):
//   - in the pseudo-locale en-XA (every message in ⟦ ⟧, 40% longer) at
//     1024×768, every screen shows no visible word outside ⟦ ⟧ but the
//     site's data (codes, names, numbers, dates, times), and no control is
//     clipped (its text wider or taller than its box) or cut off (outside the
//     window or outside the box that scrolls it);
//   - German at 1024×768 and Chinese at 1920×1080: a screenshot of every
//     screen, build/test-artifacts/i18n/<locale>-<screen>.png (`make
//     screenshots` copies them to docs/screenshots/i18n/), German checked for
//     clipped controls too;
//   - issue 20 at 1024×768 in en-XA, German and English: the records list
//     says every name, product and quantity in view whole, the Conflicts
//     diff shows its changed fields (three) above a whole decision bar
//     (VIEWS); Alt+Q signs out; the Setup screen has no tabs and keeps the
//     sync state in the status bar;
//   - a person whose language is German signs in on a French terminal: the
//     screens turn German, her export of the records list reads as columns
//     with ';' (German header, dates as 07.12.2026), and the screens are
//     French again at sign-out, in the same page (no reload, no restart).
// The German CSV itself (decimal commas, formulas neutralised) is proven in
// Go: backend/csvexport TestWriter_German, app
// TestExportService_GermanOpensInColumns; this checks the UI asks for it.
// One browser, one page, one server: the screens are reached by their tabs,
// the languages by localStorage and a reload (how a tester picks en-XA).
// The Setup screen comes last: reaching it disconnects the terminal.
//
// Run from the repository root: node --test frontend/e2e/i18n.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, ROOT } from './harness.mjs';

const SHOTS = join(ROOT, 'build/test-artifacts/i18n');
const SMALL = { width: 1024, height: 768 };
const LARGE = { width: 1920, height: 1080 };

// DATA is what the bridge's site data and seed put on screen: shown as typed
// in every language, so not inside ⟦ ⟧.
const DATA = [
  'Ana Operator',
  'Mia Manager',
  'Sam Supervisor',
  'Line 9 (retired)',
  'Line 1',
  'Line 2',
  'Line 3',
  'Hall A',
  'Hall B',
  'Bracket 40 mm',
  'Housing, left',
  'Housing, right',
  'Granulate blend',
  'Old clip',
  'RECIPE-SUMMER',
  'Check seals every shift',
  'Check seals',
  'every shift',
  'pcs',
  'kg',
  'UTC',
  'bridge', // the bridge's app version
  // The languages in the picker, each in its own name.
  'English',
  'Deutsch',
  'Français',
  'Español',
  'Português (Brasil)',
  'Polski',
  '中文（简体）',
];

// KNOWN: words still outside the message files, each a sentence Go writes
// in English that the UI shows as it comes (to be rendered from a code).
// The test fails when one is gone, so the list only shrinks.
const KNOWN = [
  // Status: the store key's place is keychain's String(): "key file <path>"
  // or `… entry "Outpost"/"database-key"` (app.Status.KeySource).
  { screen: 'status', text: 'key file' },
];

let h;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  h = await start(['--seed', '--site-data']);
  await h.page.setViewportSize(SMALL);
  await setLanguage('en-XA');
});

after(async () => {
  await h?.stop();
});

// setLanguage makes code the terminal's language the way a tester does:
// saved in localStorage, then the page loaded again.
async function setLanguage(code) {
  const { page } = h;
  await page.evaluate((c) => localStorage.setItem('outpost.language.v1', c), code);
  await page.reload();
  await page.waitForFunction((c) => document.documentElement.lang === c, code);
  await page.locator('#main').waitFor();
}

async function settle(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

// audit runs in the page: the visible words not inside ⟦ ⟧ (when pseudo),
// and the controls clipped or cut off.
function audit({ data, pseudo }) {
  const root = document.getElementById('app');
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none' && !el.closest('[hidden],[inert],[aria-hidden="true"]');
  };
  const name = (el) => {
    const t = el.getAttribute('data-testid') || el.id || (el.textContent || '').trim().slice(0, 40) || el.getAttribute('aria-label') || '';
    return `${el.tagName.toLowerCase()} "${t}"`;
  };
  const count = (s, c) => s.split(c).length - 1;
  // inside: n sits within a message that opens before it in an ancestor (a
  // message split around a name in bold).
  const inside = (n) => {
    let a = n.parentElement;
    for (let i = 0; a && i < 4; i++, a = a.parentElement) {
      const r = document.createRange();
      r.setStart(a, 0);
      r.setEnd(n, 0);
      const before = r.toString();
      if (count(before, '⟦') > count(before, '⟧')) return true;
    }
    return false;
  };
  const strip = (text) => {
    text = text.replace(/(?:^|\s)\/\S+/g, ' '); // file paths
    for (const d of data) text = text.split(d).join(' ');
    return text
      .replace(/⟦[^⟧]*⟧/g, ' ')
      .replace(/⟦.*$/s, ' ')
      .replace(/^[^⟦]*⟧/s, ' ')
      .replace(/\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b|\b[A-Z]+\d+\b/g, ' '); // codes: L1, P-100, MGR-1, RECIPE-SUMMER
  };
  const words = [];
  const clipped = [];
  if (pseudo) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest('script, style, datalist, [aria-hidden="true"]')) continue;
      const host = el.closest('select') || el;
      if (!shown(host)) continue;
      const text = strip(n.textContent || '');
      if (!/\p{L}{2,}/u.test(text)) continue;
      // Dates and times: Intl's words (weekday and month names).
      if (/\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}/.test(n.textContent || '')) continue;
      if (inside(n)) continue;
      words.push(`${(n.textContent || '').trim().slice(0, 80)}  (in ${name(el)})`);
    }
    for (const el of root.querySelectorAll('input[placeholder], textarea[placeholder]')) {
      if (!shown(el) || el.value !== '') continue;
      const p = el.getAttribute('placeholder') || '';
      if (/\p{L}{2,}/u.test(strip(p)) && !/\d{1,2}:\d{2}/.test(p)) words.push(`placeholder "${p}"  (of ${name(el)})`);
    }
  }
  const W = window.innerWidth;
  if (document.documentElement.scrollWidth > W + 1)
    clipped.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px > ${W} px`);
  const controls =
    'button, label, legend, a[href], input:not([type="hidden"]), select, textarea, summary, [role="tab"], [role="button"], [role="radio"], [role="checkbox"], .badge';
  for (const el of root.querySelectorAll(controls)) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.left < -1 || r.right > W + 1) {
      clipped.push(`outside the window (${Math.round(r.left)}–${Math.round(r.right)} px of ${W}): ${name(el)}`);
      continue;
    }
    // Cut by the nearest box that scrolls or hides sideways.
    for (let a = el.parentElement; a && a !== root; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox === 'visible') continue;
      const ar = a.getBoundingClientRect();
      if (r.right > ar.right + 1 || r.left < ar.left - 1)
        clipped.push(`cut off by its ${ox} box (${Math.round(r.right - ar.right)} px): ${name(el)}`);
      break;
    }
    if (el.matches('input, select, textarea')) continue;
    const s = getComputedStyle(el);
    if (s.display === 'inline') continue;
    if (el.scrollWidth > el.clientWidth + 1)
      clipped.push(`text wider than its box (${el.scrollWidth} > ${el.clientWidth} px): ${name(el)}`);
    else if (s.overflowY !== 'visible' && el.scrollHeight > el.clientHeight + 1)
      clipped.push(`text taller than its box (${el.scrollHeight} > ${el.clientHeight} px): ${name(el)}`);
  }
  return { words: [...new Set(words)], clipped: [...new Set(clipped)] };
}

// VIEWS: what a screen must show whole at every size pictured, beyond
// "no control clipped" (issue 20), each run in the page: a list of problems.
const VIEWS = {
  // Item 1: every row in view says its operator's name, its product (code
  // and name) and its quantity whole: no "Ana …", no line cut off.
  records: () => {
    const problems = [];
    const grid = document.querySelector('[data-testid="records-grid"]');
    if (!grid) return ['no records list'];
    const g = grid.getBoundingClientRect();
    let names = 0;
    for (const row of grid.querySelectorAll('.tr')) {
      const rr = row.getBoundingClientRect();
      if (rr.top < g.top - 1 || rr.bottom > g.bottom + 1) continue;
      for (const sel of ['[data-testid="operator-name"]', '.p-code', '[data-testid="product-name"]', '.c-qty']) {
        const el = row.querySelector(sel);
        if (!el) continue;
        if (sel.includes('operator')) names++;
        // The boxes that hide what overflows them, up to the row.
        const boxes = [];
        for (let a = el; a && a !== row; a = a.parentElement) {
          const s = getComputedStyle(a);
          if (s.overflowX !== 'visible' || s.overflowY !== 'visible') boxes.push(a.getBoundingClientRect());
        }
        // Text cut to "…" or past its lines still has its whole layout:
        // a piece of it outside a box is a piece nobody reads.
        const range = document.createRange();
        range.selectNodeContents(el);
        const out = [...range.getClientRects()].some(
          (r) =>
            r.width > 0 && boxes.some((b) => r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1),
        );
        if (out) problems.push(`cut: "${el.textContent.trim()}"`);
      }
    }
    if (!names) problems.push('no operator name in view');
    return [...new Set(problems)];
  },
  // Item 4: the changed fields (at least three) in view between the column
  // headings and the decision bar, which is whole in view.
  conflicts: () => {
    const detail = document.querySelector('.detail');
    const diff = document.querySelector('[data-testid="diff"]');
    const bar = document.querySelector('.decide');
    if (!detail || !diff || !bar) return ['no conflict with its decision bar shown'];
    const problems = [];
    const d = detail.getBoundingClientRect();
    const b = bar.getBoundingClientRect();
    if (b.top < d.top - 1 || b.bottom > Math.min(d.bottom, window.innerHeight) + 1) problems.push('the decision bar is not whole in view');
    const top = Math.max(d.top, diff.tHead.getBoundingClientRect().bottom);
    const rows = [...diff.tBodies[0].rows];
    const whole = rows.filter((r) => {
      const x = r.getBoundingClientRect();
      return x.top >= top - 1 && x.bottom <= b.top + 1;
    });
    const want = Math.min(3, rows.length);
    if (whole.length < want) {
      const h = (sel) => Math.round(document.querySelector(sel)?.getBoundingClientRect().height ?? 0);
      problems.push(
        `${whole.length} of ${rows.length} field rows in view above the decision bar, not ${want} (rows ${rows.map((r) => Math.round(r.getBoundingClientRect().height)).join('/')} px, head ${h('.detail .head')}, headings ${h('[data-testid="diff"] thead')}, decision bar ${h('.decide')}, header ${h('header.header')}, status bar ${h('footer.statusbar')})`,
      );
    }
    return problems;
  },
};

async function signIn(page) {
  if (
    await page
      .getByTestId('signed-in-name')
      .isVisible()
      .catch(() => false)
  )
    return;
  if (
    !(await page
      .getByTestId('pin-pad')
      .isVisible()
      .catch(() => false))
  ) {
    await page.getByTestId('person-MGR-1').click();
    await page.getByTestId('pin-pad').waitFor();
  }
  for (const d of '2468') await page.keyboard.press(d);
  await page.keyboard.press('Enter');
  await page.getByTestId('signed-in-name').filter({ hasText: 'Mia Manager' }).waitFor();
}
async function signOut(page) {
  if (
    await page
      .getByTestId('sign-out')
      .isVisible()
      .catch(() => false)
  )
    await page.getByTestId('sign-out').click();
  await page.getByTestId('signin-screen').waitFor();
}
async function tab(page, id) {
  await signIn(page);
  await page.locator(`#tab-${id}`).click();
  await page.waitForTimeout(250);
}
async function siteTab(page, t) {
  await tab(page, 'site');
  await page.getByTestId(`site-tab-${t}`).click();
  await page.waitForTimeout(150);
}

// SCREENS: every screen and the states that show more words, each reached
// from wherever the previous one left the page.
const SCREENS = [
  [
    'signin',
    async (page) => {
      await signOut(page);
      await page.getByTestId('signin-people').locator('button').first().waitFor();
    },
  ],
  [
    'signin-pin',
    async (page) => {
      await signOut(page);
      await page.getByTestId('person-MGR-1').click();
      await page.getByTestId('pin-pad').waitFor();
    },
  ],
  [
    'records',
    async (page) => {
      await tab(page, 'records');
      await page.getByTestId('records-grid').waitFor();
      await page.getByTestId('save-record').waitFor();
    },
  ],
  [
    'records-suggest',
    async (page) => {
      await tab(page, 'records');
      await page.locator('#f-product').fill('P-');
      await page.locator('#f-product').press('End');
      await page.locator('[role="listbox"] [role="option"]').first().waitFor();
    },
  ],
  [
    'records-edit',
    async (page) => {
      await tab(page, 'records');
      await page.getByTestId('records-grid').getByRole('row').nth(1).click();
      await page.getByTestId('edit-record').waitFor();
    },
  ],
  ['lines', async (page) => tab(page, 'lines')],
  [
    'dashboard',
    async (page) => {
      await tab(page, 'dashboard');
      await page.waitForTimeout(400);
    },
  ],
  [
    'conflicts',
    async (page) => {
      await tab(page, 'conflicts');
      const first = page.getByTestId('inbox').locator('button.entry').first();
      await first.waitFor();
      await first.click();
      await page.waitForTimeout(250);
    },
  ],
  [
    'sync',
    async (page) => {
      await tab(page, 'sync');
      await page.locator('dd[data-testid="sync-state"]').waitFor();
    },
  ],
  ['site-lines', async (page) => siteTab(page, 'lines')],
  ['site-products', async (page) => siteTab(page, 'products')],
  ['site-people', async (page) => siteTab(page, 'people')],
  [
    'site-person-form',
    async (page) => {
      await siteTab(page, 'people');
      await page.getByTestId('site-row-OP-100').click();
      await page.getByTestId('person-language').waitFor();
    },
  ],
  ['site-settings', async (page) => siteTab(page, 'settings')],
  [
    'status',
    async (page) => {
      await tab(page, 'status');
      await page.getByTestId('language-picker').waitFor();
    },
  ],
];

// parseCSV reads RFC 4180 CSV with the given separator (quotes, doubled
// quotes, CRLF), the way a spreadsheet opens it.
function parseCSV(text, sep) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

function report(where, list) {
  return list.length ? `\n${where}:\n  ${list.join('\n  ')}` : '';
}

test('en-XA at 1024×768: every word from the message files, no control clipped', async (t) => {
  const { page } = h;
  let problems = '';
  const seen = new Set();
  for (const [screen, reach] of SCREENS) {
    await reach(page);
    await settle(page);
    const { words, clipped } = await page.evaluate(audit, { data: DATA, pseudo: true });
    if (VIEWS[screen]) problems += report(`${screen}: not read whole`, await page.evaluate(VIEWS[screen]));
    const unknown = words.filter((w) => {
      const k = KNOWN.find((k) => k.screen === screen && w.startsWith(k.text));
      if (k) seen.add(k);
      return !k;
    });
    problems += report(`${screen}: words outside ⟦ ⟧`, unknown) + report(`${screen}: clipped`, clipped);
    await page.screenshot({ path: join(SHOTS, `en-XA-${screen}.png`) });
  }
  for (const k of KNOWN) {
    if (seen.has(k)) t.diagnostic(`known, still in English: ${k.screen} "${k.text}"`);
    else problems += `\n${k.screen}: "${k.text}" is translated now: take it off KNOWN`;
  }
  assert.equal(problems, '', problems);
});

// shots takes every screen's picture in one language and size, and returns
// the controls clipped there.
async function shots(locale, size) {
  const { page } = h;
  await page.setViewportSize(size);
  await setLanguage(locale);
  let problems = '';
  for (const [screen, reach] of SCREENS) {
    await reach(page);
    await settle(page);
    const { clipped } = await page.evaluate(audit, { data: DATA, pseudo: false });
    problems += report(`${locale} ${screen}: clipped`, clipped);
    if (VIEWS[screen]) problems += report(`${locale} ${screen}: not read whole`, await page.evaluate(VIEWS[screen]));
    await page.screenshot({ path: join(SHOTS, `${locale}-${screen}.png`) });
  }
  return problems;
}

test('German at 1024×768: a picture of every screen, no control clipped', async () => {
  const problems = await shots('de', SMALL);
  assert.equal(problems, '', problems);
});

test('Chinese at 1920×1080: a picture of every screen, no control clipped', async () => {
  const problems = await shots('zh-CN', LARGE);
  assert.equal(problems, '', problems);
});

test('English at 1024×768: records and conflicts read whole; Alt+Q signs out from a field (issue 20)', async () => {
  const { page } = h;
  await page.setViewportSize(SMALL);
  await setLanguage('en');
  let problems = '';
  for (const [screen, reach] of SCREENS.filter(([s]) => VIEWS[s])) {
    await reach(page);
    await settle(page);
    problems += report(`en ${screen}: not read whole`, await page.evaluate(VIEWS[screen]));
    problems += report(`en ${screen}: clipped`, (await page.evaluate(audit, { data: DATA, pseudo: false })).clipped);
  }
  assert.equal(problems, '', problems);
  // Sign out is Alt+Q, said on its button as the tabs say Alt+1…7; it
  // works with the focus in a field (a scanner never sends Alt).
  await tab(page, 'records');
  const out = page.getByTestId('sign-out');
  assert.equal(await out.getAttribute('title'), 'Sign out (Alt+Q)');
  assert.equal(await out.getAttribute('aria-keyshortcuts'), 'Alt+Q');
  await page.locator('#f-product').focus();
  await page.keyboard.press('Alt+q');
  await page.getByTestId('signin-screen').waitFor();
});

test("a German person on a French terminal: German from sign-in, her export in columns with ';', French again at sign-out, no reload", async () => {
  const { page } = h;
  await page.setViewportSize(SMALL);
  await setLanguage('fr');
  // A manager gives Ana the language German on the Site screen.
  await siteTab(page, 'people');
  await page.getByTestId('site-row-OP-100').click();
  await page.getByTestId('person-language').selectOption('de');
  await page.getByTestId('site-save').click();
  await page.getByTestId('site-row-OP-100').filter({ hasText: 'Deutsch' }).waitFor();
  // The page is the same one throughout: a marker a reload would lose.
  await page.evaluate(() => (window.__sameDocument = true));

  await signOut(page);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
  await page.getByTestId('signin-badge').focus();
  await page.keyboard.type('OP-100', { delay: 5 });
  await page.keyboard.press('Enter');
  await page.getByTestId('signed-in-name').filter({ hasText: 'Ana Operator' }).waitFor();
  await page.waitForFunction(() => document.documentElement.lang === 'de');
  assert.equal((await page.locator('#tab-records').innerText()).trim(), 'Einträge');
  assert.equal(await page.getByTestId('sign-out').getAttribute('title'), 'Abmelden (Alt+Q)');

  // Her export of the records list opens in columns in a German
  // spreadsheet: read with ';', every row as wide as the German header.
  await page.locator('#tab-records').click();
  const exported = page.waitForResponse((r) => r.url().includes('/call/ExportService/ExportRecords'));
  await page.getByTestId('export-records').click();
  const body = await (await exported).json();
  const res = body.result ?? body; // the Wails dispatcher's callback message
  assert.ok(res.path, `no file: ${JSON.stringify(res)}`);
  const rows = parseCSV(readFileSync(res.path, 'utf8').replace(/^\ufeff/, ''), ';');
  assert.ok(rows.length >= 2 && rows[0].length >= 5, `not in columns with ';': ${JSON.stringify(rows.slice(0, 2))}`);
  for (const r of rows)
    assert.equal(r.length, rows[0].length, `a row of ${r.length} cells under ${rows[0].length} titles: ${r.join(' | ')}`);
  assert.ok(
    rows[0].some((c) => /Menge/.test(c)),
    `the header is not German: ${rows[0].join(' | ')}`,
  );
  assert.match(rows[1].join(' '), /\b\d{2}\.\d{2}\.\d{4}\b/, 'no German date in the first row');

  await page.getByTestId('sign-out').click();
  await page.getByTestId('signin-screen').waitFor();
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  assert.equal(
    (
      await page
        .locator('#tab-records')
        .innerText()
        .catch(() => 'Saisies')
    ).trim(),
    'Saisies',
  );
  assert.ok(await page.evaluate(() => window.__sameDocument === true), 'the page was loaded again');
  assert.equal(await page.evaluate(() => localStorage.getItem('outpost.language.v1')), 'fr');
});

test('Setup screen (after Disconnect) in en-XA, German and Chinese', async () => {
  const { page } = h;
  await setLanguage('en-XA');
  await tab(page, 'sync');
  await page.getByTestId('unenroll').click();
  const force = page.getByTestId('unenroll-force');
  await Promise.race([force.waitFor().then(() => force.click()), page.getByTestId('setup-screen').waitFor()]);
  await page.getByTestId('setup-screen').waitFor();
  await settle(page);
  // Issue 20 item 3: the tabs would lead nowhere (Setup stands in for every
  // screen until connected), so there are none; the status bar still says
  // the sync state.
  const setupShows = async (where) => {
    assert.equal(await page.getByRole('tab').count(), 0, `${where}: tabs on the Setup screen`);
    assert.ok(await page.locator('footer.statusbar [data-testid="sync-state"]').isVisible(), `${where}: no sync state in the status bar`);
    await page.keyboard.press('Alt+5');
    assert.ok(await page.getByTestId('setup-screen').isVisible(), `${where}: Alt+5 left the Setup screen`);
  };
  await setupShows('en-XA');
  const xa = await page.evaluate(audit, { data: DATA, pseudo: true });
  let problems = report('setup: words outside ⟦ ⟧', xa.words) + report('setup: clipped', xa.clipped);
  await page.screenshot({ path: join(SHOTS, 'en-XA-setup.png') });
  for (const [locale, size] of [
    ['de', SMALL],
    ['zh-CN', LARGE],
  ]) {
    await page.setViewportSize(size);
    await setLanguage(locale);
    await page.getByTestId('setup-screen').waitFor();
    await settle(page);
    await setupShows(locale);
    problems += report(`${locale} setup: clipped`, (await page.evaluate(audit, { data: DATA, pseudo: false })).clipped);
    await page.screenshot({ path: join(SHOTS, `${locale}-setup.png`) });
  }
  assert.equal(problems, '', problems);
});
