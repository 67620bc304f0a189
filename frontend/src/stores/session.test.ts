// @vitest-environment node
import { get } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSession, createSignInFlow, noSession } from './session';
import { ApiError, type PersonChoice, type Session } from '../lib/api';

const ana: PersonChoice = { badgeId: 'B-1', displayName: 'Ana Lima', role: 'operator', needsPin: false };
const max: PersonChoice = { badgeId: 'B-9', displayName: 'Max Weber', role: 'manager', needsPin: true };
const signedIn = (p: PersonChoice, over: Partial<Session> = {}): Session => ({
  ...noSession,
  required: true,
  signedIn: true,
  person: p,
  idleSeconds: 300,
  expiresAt: 1,
  ...over,
});
const signedOut: Session = { ...noSession, required: true };

function fakeEvents() {
  let emit: ((s: Session) => void) | null = null;
  return {
    subscribe: (fn: (s: Session) => void) => {
      emit = fn;
      return () => (emit = null);
    },
    emit: (s: Session) => emit?.(s),
    get live() {
      return emit !== null;
    },
  };
}

describe('session store', () => {
  afterEach(() => vi.useRealTimers());

  it('asks Current() at start, then follows session:changed', async () => {
    const ev = fakeEvents();
    const api = { current: vi.fn(() => Promise.resolve(signedOut)), signOut: vi.fn(), touch: vi.fn() };
    const s = createSession(api, ev.subscribe);
    expect(get(s).phase).toBe('loading');
    const stop = s.start(null);
    await vi.waitFor(() => expect(get(s).phase).toBe('ready'));
    expect(get(s).session.signedIn).toBe(false);
    ev.emit(signedIn(ana));
    expect(get(s).session.person?.displayName).toBe('Ana Lima');
    ev.emit(signedOut); // idle sign-out on the Go side
    expect(get(s).session.signedIn).toBe(false);
    expect(get(s).session.person).toBeNull();
    stop();
    expect(ev.live).toBe(false);
  });

  it('drops a Current() answer that a newer event overtook', async () => {
    const ev = fakeEvents();
    let answer!: (s: Session) => void;
    const api = { current: () => new Promise<Session>((r) => (answer = r)), signOut: vi.fn(), touch: vi.fn() };
    const s = createSession(api, ev.subscribe);
    s.start(null);
    ev.emit(signedIn(ana));
    answer(signedOut);
    await Promise.resolve();
    await Promise.resolve();
    expect(get(s).session.signedIn).toBe(true);
  });

  it('an older backend without SessionService leaves the app as it was', async () => {
    const api = { current: () => Promise.reject(new TypeError('x')), signOut: vi.fn(), touch: vi.fn() };
    const s = createSession(api, () => () => {});
    await s.refresh();
    expect(get(s).phase).toBe('error');
    expect(get(s).session.required).toBe(false);
  });

  it('reports keys and taps with Touch(), at most every 15 s, only while signed in', async () => {
    vi.useFakeTimers();
    const target = new EventTarget();
    const touch = vi.fn(() => Promise.resolve(signedIn(ana, { expiresAt: 2 })));
    const api = { current: () => Promise.resolve(signedOut), signOut: vi.fn(), touch };
    const s = createSession(api, () => () => {});
    const stop = s.start(target);
    await vi.advanceTimersByTimeAsync(0);
    target.dispatchEvent(new Event('keydown'));
    expect(touch).not.toHaveBeenCalled(); // nobody signed in
    s.set(signedIn(ana));
    target.dispatchEvent(new Event('keydown'));
    target.dispatchEvent(new Event('pointerdown'));
    target.dispatchEvent(new Event('keydown'));
    expect(touch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(14_000);
    expect(touch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(touch).toHaveBeenCalledTimes(2); // the activity after the first report
    expect(get(s).session.expiresAt).toBe(2);
    stop();
    target.dispatchEvent(new Event('keydown'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(touch).toHaveBeenCalledTimes(2);
  });

  it('a Touch() refused because the session ended reads the session again', async () => {
    const current = vi.fn(() => Promise.resolve(signedOut));
    const api = { current, signOut: vi.fn(), touch: () => Promise.reject({ code: 'sign_in_required', message: 'Sign in first.' }) };
    const s = createSession(api, () => () => {});
    s.set(signedIn(ana));
    s.activity();
    await vi.waitFor(() => expect(current).toHaveBeenCalled());
    await vi.waitFor(() => expect(get(s).session.signedIn).toBe(false));
  });

  it('Switch operator signs out on screen at once', async () => {
    let done!: (s: Session) => void;
    const signOut = vi.fn(() => new Promise<Session>((r) => (done = r)));
    const s = createSession({ current: vi.fn(), signOut, touch: vi.fn() }, () => () => {});
    s.set(signedIn(ana));
    const p = s.signOut();
    expect(get(s).session.signedIn).toBe(false);
    expect(get(s).session.required).toBe(true);
    done(signedOut);
    await p;
    expect(signOut).toHaveBeenCalledTimes(1);
    expect(get(s).session.signedIn).toBe(false);
  });
});

describe('sign-in flow', () => {
  function setup(over: Partial<Parameters<typeof createSignInFlow>[0]> = {}) {
    const onSignedIn = vi.fn();
    const api = {
      people: vi.fn(() => Promise.resolve([ana, max])),
      identify: vi.fn((b: string) => {
        if (b === ana.badgeId) return Promise.resolve({ person: ana, needsPin: false, lockedUntil: 0 });
        if (b === max.badgeId) return Promise.resolve({ person: max, needsPin: true, lockedUntil: 0 });
        return Promise.reject({ code: 'unknown_badge', message: 'Badge “X” is not known at this site.' });
      }),
      signIn: vi.fn((b: string) => Promise.resolve(signedIn(b === ana.badgeId ? ana : max))),
      ...over,
    };
    const flow = createSignInFlow(api, onSignedIn, () => 1_000_000);
    return { flow, api, onSignedIn };
  }

  it('a scanned badge of a person without PIN signs in at once', async () => {
    const { flow, api, onSignedIn } = setup();
    await flow.identify('  B-1\r\n');
    expect(api.identify).toHaveBeenCalledWith('B-1');
    expect(api.signIn).toHaveBeenCalledWith('B-1', '');
    expect(onSignedIn).toHaveBeenCalledWith(signedIn(ana));
    expect(get(flow).step).toBe('badge');
  });

  it('a picked name that needs a PIN goes to the pad; digits, Backspace and Enter sign in', async () => {
    const { flow, api, onSignedIn } = setup();
    await flow.pick(max);
    expect(get(flow).step).toBe('pin');
    expect(get(flow).person).toEqual(max);
    for (const k of ['1', '2', '3', '9', 'Backspace', '4']) expect(flow.key(k)).toBe(true);
    expect(get(flow).pin).toBe('1234');
    expect(flow.key('a')).toBe(false);
    flow.key('Enter');
    await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalled());
    expect(api.signIn).toHaveBeenCalledWith('B-9', '1234');
    expect(get(flow).pin).toBe('');
    expect(get(flow).step).toBe('badge');
  });

  it('a wrong PIN stays on the pad with the Go sentence (attempts left) and an empty PIN', async () => {
    const { flow } = setup({
      signIn: () => Promise.reject({ code: 'wrong_pin', message: 'Wrong PIN: 4 attempts left.' }),
    });
    await flow.pick(max);
    for (const k of '0000') flow.key(k);
    flow.key('Enter');
    await vi.waitFor(() => expect(get(flow).problem?.code).toBe('wrong_pin'));
    expect(get(flow).problem?.text).toBe('Wrong PIN: 4 attempts left.');
    expect(get(flow).step).toBe('pin');
    expect(get(flow).pin).toBe('');
  });

  it('locked after too many PINs: back at the badge with the sentence', async () => {
    const { flow } = setup({
      signIn: () => Promise.reject({ code: 'locked', message: 'Too many wrong PINs: try again at 14:35.' }),
    });
    await flow.pick(max);
    for (const k of '00001') flow.key(k);
    flow.key('Enter');
    await vi.waitFor(() => expect(get(flow).problem?.code).toBe('locked'));
    expect(get(flow).step).toBe('badge');
    expect(get(flow).problem?.text).toBe('Too many wrong PINs: try again at 14:35.');
  });

  it('Identify says the badge is locked (LockedUntil) without asking for the PIN', async () => {
    const { flow, api } = setup({
      identify: () => Promise.resolve({ person: max, needsPin: true, lockedUntil: 1_000_000 + 4 * 60000 }),
    });
    await flow.identify('B-9');
    expect(get(flow).step).toBe('badge');
    expect(get(flow).problem?.code).toBe('locked');
    expect(get(flow).problem?.text).toMatch(/Max Weber is locked .* \(in 4 min\)/);
    expect(api.signIn).not.toHaveBeenCalled();
  });

  it('unknown, inactive and PIN-not-set badges show the Go sentence at the badge', async () => {
    for (const [code, message] of [
      ['unknown_badge', 'Badge “X” is not known at this site.'],
      ['inactive', 'Ana Lima is no longer active at this site.'],
      ['pin_not_set', 'Managers need a PIN: ask a manager to set yours.'],
    ]) {
      const { flow } = setup({ identify: () => Promise.reject({ code, message }) });
      await flow.identify('X');
      expect(get(flow).problem).toEqual({ code, text: message, step: 'badge' });
      expect(get(flow).badge).toBe('');
    }
  });

  it('Escape or Back leaves the pad; an empty badge does nothing', async () => {
    const { flow, api } = setup();
    await flow.identify('   ');
    expect(api.identify).not.toHaveBeenCalled();
    await flow.pick(max);
    flow.key('5');
    expect(flow.key('Escape')).toBe(true);
    expect(get(flow)).toMatchObject({ step: 'badge', person: null, pin: '' });
  });

  it('lists the people to pick from, or says why not', async () => {
    const { flow } = setup();
    await flow.loadPeople();
    expect(get(flow).people.map((p) => p.displayName)).toEqual(['Ana Lima', 'Max Weber']);
    const bad = setup({ people: () => Promise.reject(new ApiError('timeout', 'The local database took too long to answer. Try again.')) });
    await bad.flow.loadPeople();
    expect(get(bad.flow).peopleError?.message).toMatch(/too long/);
  });
});
