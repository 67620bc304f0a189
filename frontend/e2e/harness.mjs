// harness.mjs starts what the Playwright tests drive: app/internal/bridge
// (the built frontend over the real Go services, a real encrypted store and
// a real outpost-server process) and Debian's Chromium (playwright-core,
// never a downloaded browser). Screenshots go to build/test-artifacts/ only;
// `make screenshots` copies them to docs/screenshots/.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ART = join(ROOT, 'build/test-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// eventually polls fn until it returns a truthy value (or ms pass).
export async function eventually(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// binaries returns the directory holding the bridge and outpost-server:
// OUTPOST_E2E_BIN_DIR when .ci/e2e-browser built them once for every test
// file (a build per file cost two links each, ~20 s a file on a busy
// machine), or tmp after building them there (a test file run by hand).
function binaries(tmp) {
  if (process.env.OUTPOST_E2E_BIN_DIR) return process.env.OUTPOST_E2E_BIN_DIR;
  const env = { ...process.env, GOFLAGS: process.env.GOFLAGS || '-mod=mod' };
  execFileSync('go', ['build', '-o', tmp + '/', './app/internal/bridge', './backend/cmd/outpost-server'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return tmp;
}

// start starts the bridge with flags (e.g. ['--seed']), then a browser page
// on it. The result's stop() ends both and removes the data.
export async function start(flags) {
  mkdirSync(ART, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'outpost-browser-e2e-'));
  const bin = binaries(tmp);
  const h = { tmp, log: '', bridge: undefined, browser: undefined, page: undefined, url: '' };
  h.bridge = spawn(join(bin, 'bridge'), ['--dist', join(ROOT, 'frontend/dist'), '--server-bin', join(bin, 'outpost-server'), ...flags], {
    cwd: tmp,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  h.bridge.stderr.on('data', (d) => (h.log += d));
  h.url = await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`the bridge did not start in 90 s:\n${h.log}`)), 90000);
    h.bridge.on('exit', (code) => fail(new Error(`the bridge exited (${code}):\n${h.log}`)));
    createInterface({ input: h.bridge.stdout }).on('line', (l) => {
      const m = /^listening (\S+)/.exec(l);
      if (m) {
        clearTimeout(t);
        ok(m[1]);
      }
    });
  });
  h.browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  h.page = await h.browser.newPage({ viewport: { width: 1280, height: 800 } });
  h.page.on('pageerror', (e) => (h.log += `\n[page error] ${e.message}`));
  await h.page.goto(h.url);

  // shot saves a screenshot as build/test-artifacts/browser-<name>.png.
  h.shot = async (name) => {
    await h.page.screenshot({ path: join(ART, `browser-${name}.png`) });
  };
  // call invokes a bound Go method through the bridge.
  h.call = async (service, method, ...args) => {
    const res = await fetch(`${h.url}/call/${service}/${method}`, { method: 'POST', body: JSON.stringify(args) });
    return res.json();
  };
  // state is the bridge's view of the store (records, conflicts, session…).
  h.state = async () => (await fetch(`${h.url}/state`)).json();
  h.stop = async () => {
    await h.browser?.close();
    if (h.bridge && h.bridge.exitCode === null) {
      const gone = new Promise((r) => h.bridge.once('exit', r));
      h.bridge.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (h.bridge.exitCode === null) h.bridge.kill('SIGKILL');
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  return h;
}
