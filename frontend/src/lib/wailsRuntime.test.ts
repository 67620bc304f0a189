// The refusals of the real Go services, answered by the real Wails
// dispatcher and received by the real Wails runtime JS, reach the screens as
// the Go sentence (issue 20, item 1). Run by frontend/e2e/wails-wire/run.sh,
// which sets WAILS_RUNTIME_JS (the pinned Wails version's
// runtime_prod_desktop.js from the Go module cache, the script the desktop
// window injects) and OUTPOST_WIRE_ANSWERS (what Dispatcher.ProcessMessage
// answered to a call failing with each error: the messages the Linux window
// hands to window.wails.Callback). Without them it is skipped.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { ApiError, records, session, sync } from './api';
import { signInProblem } from './signin';
import SignInScreen from '../screens/signin/SignInScreen.svelte';
import { createSignInFlow } from '../stores/session';

// Node's process and fs, untyped: the frontend's types are the browser's.
const env = (globalThis as unknown as { process: { env: { [k: string]: string | undefined } } }).process.env;
const runtimeJS = env.WAILS_RUNTIME_JS ?? '';
const answersFile = env.OUTPOST_WIRE_ANSWERS ?? '';
const nodeFs = 'node:fs';
async function readText(path: string): Promise<string> {
  const fs = (await import(/* @vite-ignore */ nodeFs)) as { readFileSync: (p: string, enc: string) => string };
  return fs.readFileSync(path, 'utf8');
}

/** Which recorded dispatcher answer a bound call gets. */
const failing: { [method: string]: (args: unknown[]) => string | null } = {
  'app.RecordService.Create': () => 'validation',
  'app.SessionService.Identify': (a) => (a[0] === 'MGR-1' ? null : 'unknown_badge'),
  'app.SessionService.SignIn': (a) => (a[1] === '9999' ? 'locked' : 'wrong_pin'),
  'app.SessionService.People': () => null,
  'app.SyncService.Enroll': () => 'invalid_code',
};
const okResults: { [method: string]: unknown } = {
  'app.SessionService.Identify': {
    person: { badgeId: 'MGR-1', displayName: 'Mia Manager', role: 'manager', needsPin: true },
    needsPin: true,
    lockedUntil: 0,
  },
  'app.SessionService.People': [],
};

interface WailsWindow {
  wailsbindings?: string;
  WailsInvoke?: (msg: string) => void;
  wails?: { Callback: (msg: string) => void };
}

describe.runIf(runtimeJS !== '' && answersFile !== '')('the real Wails runtime', () => {
  let answers: { [name: string]: string } = {};
  const invoked: string[] = [];

  beforeAll(async () => {
    answers = JSON.parse(await readText(answersFile));
    const w = window as unknown as WailsWindow;
    const bindings: { [svc: string]: { [m: string]: object } } = {};
    for (const name of Object.keys(failing)) {
      const [, svc, m] = name.split('.');
      (bindings[svc] ??= {})[m] = {};
    }
    // As the window injects them: the bindings map, then the runtime.
    w.wailsbindings = JSON.stringify({ app: bindings });
    w.WailsInvoke = (msg: string) => {
      if (msg[0] !== 'C') return; // logs, events, window calls
      const call = JSON.parse(msg.slice(1)) as { name: string; args: unknown[]; callbackID: string };
      invoked.push(call.name);
      const which = failing[call.name]?.(call.args);
      const answer =
        which === null || which === undefined
          ? JSON.stringify({ result: okResults[call.name] ?? null, error: null, callbackid: call.callbackID })
          : answers[which].replace('@@CALLBACK@@', call.callbackID);
      setTimeout(() => w.wails!.Callback(answer), 0);
    };
    (0, eval)(await readText(runtimeJS));
    expect(typeof w.wails?.Callback).toBe('function');
  });

  afterEach(() => cleanup());

  async function refusal(p: Promise<unknown>): Promise<ApiError> {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      return e as ApiError;
    }
    throw new Error('the call did not fail');
  }

  it('a validation error keeps its code, its field and the Go sentence', async () => {
    const e = await refusal(records.create({ lineId: 'L1', productId: 'P-100', quantity: -1, operatorId: 'op' } as never));
    expect(invoked).toContain('app.RecordService.Create');
    expect([e.code, e.field, e.message]).toEqual(['invalid_value', 'quantity', 'Quantity must be between 0 and 1000000000.']);
  });

  it('an unknown badge names the badge', async () => {
    const e = await refusal(session.identify('NOPE-7'));
    expect([e.code, e.field, e.message]).toEqual([
      'unknown_badge',
      'badge',
      'No one at this site has the badge "NOPE-7". Scan it again or pick your name.',
    ]);
  });

  it('a wrong PIN says how many tries are left and stays on the PIN step', async () => {
    const e = await refusal(session.signIn('MGR-1', '0000'));
    expect([e.code, e.field, e.message]).toEqual(['wrong_pin', 'pin', 'Wrong PIN. 4 more tries before this badge is locked for a while.']);
    expect(signInProblem(e)).toEqual({ code: 'wrong_pin', text: e.message, step: 'pin' });
  });

  it('a lockout says for how long', async () => {
    const e = await refusal(session.signIn('MGR-1', '9999'));
    expect([e.code, e.field]).toEqual(['locked', 'pin']);
    expect(e.message).toBe('Too many wrong PINs: this badge is locked on this computer for 5 minutes. Try again later or ask a manager.');
  });

  it('a refused enrollment code says so, next to the code field', async () => {
    const e = await refusal(sync.enroll('http://127.0.0.1:1', 'BAD-CODE'));
    expect([e.code, e.field]).toEqual(['invalid_code', 'code']);
    expect(e.message).toMatch(/^The enrollment code was not accepted/);
  });

  it('the sign-in screen: a wrong PIN keeps the PIN pad and shows the tries left', async () => {
    render(SignInScreen, { flow: createSignInFlow(session, () => {}) });
    const badge = (await screen.findByLabelText('Badge')) as HTMLInputElement;
    await fireEvent.input(badge, { target: { value: 'MGR-1' } });
    await fireEvent.keyDown(badge, { key: 'Enter' });
    await screen.findByTestId('pin-pad');
    for (const k of '0000') await fireEvent.click(screen.getByTestId(`pin-key-${k}`));
    await fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await expect
      .poll(() => screen.queryByTestId('signin-error')?.textContent)
      .toBe('Wrong PIN. 4 more tries before this badge is locked for a while.');
    expect(screen.getByTestId('pin-pad')).toBeTruthy();
    expect(screen.queryByLabelText('Badge')).toBeNull();
  });
});
