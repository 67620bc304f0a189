// a11y.test.mjs: issue 20 item 7 in Debian's Chromium over the real Go
// backend (app/internal/bridge --seed --site-data). On every screen, in the
// light and the dark theme, at 1024×768 and at 1920×1080:
//   - axe-core finds no critical or serious violation;
//   - placeholders and disabled controls have at least 4.5:1 contrast,
//     measured from computed styles (axe skips both);
//   - every interactive target is at least 44 px high and wide.
// One browser and one page for everything: the screens are reached by their
// tabs, the themes by Alt+T, the sizes by setViewportSize.
//
// Run from the repository root: node --test frontend/e2e/a11y.test.mjs
// A11Y_SCREENS=records,site limits the run to those views (by name below).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start, ROOT } from './harness.mjs';

const AXE = join(ROOT, 'frontend/node_modules/axe-core/axe.min.js');
const SIZES = [
  { width: 1024, height: 768 },
  { width: 1920, height: 1080 },
];
const THEMES = ['light', 'dark'];
const ONLY = (process.env.A11Y_SCREENS || '').split(',').filter(Boolean);

let h;

before(async () => {
  h = await start(['--seed', '--site-data']);
  await h.page.getByTestId('signin-screen').waitFor();
  await h.page.addScriptTag({ path: AXE });
});

after(async () => {
  await h?.stop();
});

async function setTheme(theme) {
  const { page } = h;
  for (let i = 0; i < 3; i++) {
    if ((await page.evaluate(() => document.documentElement.dataset.theme)) === theme) return;
    await page.keyboard.press('Alt+t');
    await page.waitForTimeout(50);
  }
  throw new Error(`the theme did not become ${theme}`);
}

// measure runs in the page: the contrast of placeholders and disabled
// controls, and the size of every interactive target that is shown.
function measure() {
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c || '');
    if (!m) return null;
    const p = m[1]
      .split(/[ ,/]+/)
      .filter(Boolean)
      .map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (fg, bg) => ({
    r: fg.r * fg.a + bg.r * (1 - fg.a),
    g: fg.g * fg.a + bg.g * (1 - fg.a),
    b: fg.b * fg.a + bg.b * (1 - fg.a),
    a: 1,
  });
  // background: the colour painted behind el, stacking translucent layers
  // up to the page (white when nothing is painted).
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg;
  };
  const lum = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (fg, bg) => {
    const a = lum(over(fg, bg));
    const b = lum(bg);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none' && !el.closest('[hidden],[inert],[aria-hidden="true"]');
  };
  const name = (el) => {
    const t =
      el.getAttribute('data-testid') ||
      el.id ||
      el.getAttribute('aria-label') ||
      (el.textContent || '').trim().slice(0, 30) ||
      el.getAttribute('placeholder') ||
      '';
    return `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} "${t}"`;
  };
  const problems = [];

  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (!shown(el) || el.value !== '' || !el.getAttribute('placeholder')) continue;
    const fg = parse(getComputedStyle(el, '::placeholder').color);
    if (!fg) continue;
    const r = ratio(fg, background(el));
    if (r < 4.5) problems.push(`placeholder contrast ${r.toFixed(2)}:1 < 4.5:1: ${name(el)}`);
  }
  for (const el of document.querySelectorAll(
    'button:disabled, input:disabled, select:disabled, textarea:disabled, [aria-disabled="true"]',
  )) {
    if (!shown(el)) continue;
    const s = getComputedStyle(el);
    const fg = parse(s.color);
    if (!fg) continue;
    // Opacity dims the text and its own background together: blend the
    // text over the control's own background, then that over what is behind.
    let op = 1;
    for (let e = el; e; e = e.parentElement) op *= Number(getComputedStyle(e).opacity || 1);
    const behind = background(el.parentElement || el);
    const own = background(el);
    const text = over({ ...over(fg, own), a: op }, behind);
    const bg = over({ ...own, a: op }, behind);
    const r = ratio(text, bg);
    if ((el.textContent || el.value || '').trim() && r < 4.5) problems.push(`disabled contrast ${r.toFixed(2)}:1 < 4.5:1: ${name(el)}`);
  }

  const interactive =
    'button, a[href], input:not([type="hidden"]), select, textarea, summary, [role="button"], [role="tab"], [role="link"], [role="checkbox"], [role="radio"], [role="switch"], [role="option"], [tabindex]:not([tabindex="-1"])';
  for (const el of document.querySelectorAll(interactive)) {
    if (!shown(el)) continue;
    let box = el;
    // A check box or radio is reached through its label: measure that.
    if (el.matches('input[type="checkbox"], input[type="radio"]'))
      box = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el;
    const r = box.getBoundingClientRect();
    // Scrolling containers made focusable for the keyboard are not targets.
    if (el.matches('[tabindex]') && !el.matches('button, a, input, select, textarea, [role]') && r.height > 200) continue;
    if (r.width < 43.5 || r.height < 43.5) problems.push(`target ${Math.round(r.width)}×${Math.round(r.height)} px < 44×44: ${name(el)}`);
  }
  return problems;
}

// check collects the problems of what the page shows now, in every size and
// theme, and leaves the page at 1280×800 in the theme it started in.
async function check(view) {
  const { page } = h;
  const problems = [];
  const startTheme = await page.evaluate(() => document.documentElement.dataset.theme);
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const theme of THEMES) {
      await setTheme(theme);
      // A frame drawn in the new size and theme (the app has no CSS
      // transitions to wait out; a fixed 150 ms cost 8 s over the views).
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const where = `${view} ${size.width}×${size.height} ${theme}`;
      const axe = await page.evaluate(async () => {
        // axe here is the page's global that axe-core's script defined, not
        // the const this call's answer goes into (the function runs in the page).
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations
          .filter((v) => v.impact === 'critical' || v.impact === 'serious')
          .map(
            (v) =>
              `${v.impact} ${v.id}: ${v.help} — ${v.nodes
                .slice(0, 3)
                .map((n) => n.target.join(' '))
                .join(' | ')}${v.nodes.length > 3 ? ` (+${v.nodes.length - 3})` : ''}`,
          );
      });
      for (const p of axe) problems.push(`${where}: axe ${p}`);
      for (const p of await page.evaluate(measure)) problems.push(`${where}: ${p}`);
    }
  }
  await setTheme(startTheme);
  await page.setViewportSize({ width: 1280, height: 800 });
  return [...new Set(problems)];
}

function assertClean(problems) {
  assert.equal(problems.length, 0, `\n${problems.join('\n')}\n`);
}

const want = (view) => ONLY.length === 0 || ONLY.includes(view);
const views = [];
// view registers one state of the UI to check; the views run in order on the
// one page, each reaching its state from where the previous one left it.
function view(name, reach) {
  views.push(name);
  test(`accessible: ${name}`, { skip: !want(name) && 'not in A11Y_SCREENS' }, async () => {
    await reach(h.page);
    assertClean(await check(name));
  });
}
// signIn reaches the other views: a manager sees every screen.
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
async function tab(page, id) {
  await signIn(page);
  await page.locator(`#tab-${id}`).click();
  await page.waitForTimeout(300);
}

view('signin', async (page) => {
  await page.getByTestId('signin-people').locator('button').first().waitFor();
});
view('signin-pin', async (page) => {
  await page.getByTestId('person-MGR-1').click();
  await page.getByTestId('pin-pad').waitFor();
});
view('records', async (page) => {
  await tab(page, 'records');
  await page.getByTestId('records-grid').waitFor();
});
view('records-row', async (page) => {
  await tab(page, 'records');
  const grid = page.getByTestId('records-grid');
  await grid.getByRole('row').nth(1).click();
  await page.waitForTimeout(200);
});
view('lines', async (page) => tab(page, 'lines'));
view('status', async (page) => tab(page, 'status'));
view('sync', async (page) => tab(page, 'sync'));
view('conflicts', async (page) => {
  await tab(page, 'conflicts');
  const first = page.getByTestId('inbox').locator('button.entry').first();
  await first.waitFor();
  await first.click();
  await page.waitForTimeout(300);
});
view('dashboard', async (page) => {
  await tab(page, 'dashboard');
  await page.waitForTimeout(500);
});
for (const t of ['lines', 'products', 'people', 'settings']) {
  view(`site-${t}`, async (page) => {
    await tab(page, 'site');
    const b = page.getByTestId(`site-tab-${t}`);
    if (await b.count()) await b.click();
    await page.waitForTimeout(200);
  });
}
view('site-product-form', async (page) => {
  await tab(page, 'site');
  await page.getByTestId('site-tab-products').click();
  await page.getByTestId('site-row-P-300').click();
  await page.locator('#sd-max').waitFor();
});
