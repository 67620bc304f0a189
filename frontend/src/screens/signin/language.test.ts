// A shared terminal speaks the language of whoever signs in, and its own
// again at sign-out and idle sign-out, without a restart (issue 21).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import SignInScreen from './SignInScreen.svelte';
import { createSession, createSignInFlow, noSession } from '../../stores/session';
import type { PersonChoice, Session } from '../../lib/api';
import { applyPersonLanguage, currentLocale, setLocale, setManagedDefault, t } from '../../i18n';
import { untranslated } from '../../test/untranslated';

type Person = PersonChoice;
const dora: Person = { badgeId: 'B-DE', displayName: 'Dora Deutsch', role: 'operator', needsPin: false, language: 'de' };
const wei: Person = { badgeId: 'B-ZH', displayName: 'Zhang Wei', role: 'operator', needsPin: false, language: 'zh-CN' };
const erin: Person = { badgeId: 'B-EN', displayName: 'Erin', role: 'operator', needsPin: false, language: '' };
const signedIn = (p: Person): Session => ({ ...noSession, required: true, signedIn: true, person: p, idleSeconds: 300, expiresAt: 1 });
const signedOut: Session = { ...noSession, required: true };

function events() {
  let emit: ((s: Session) => void) | null = null;
  return {
    subscribe: (fn: (s: Session) => void) => {
      emit = fn;
      return () => (emit = null);
    },
    emit: (s: Session) => emit?.(s),
  };
}

afterEach(() => {
  cleanup();
  setLocale(null);
  setManagedDefault(null);
  applyPersonLanguage(null);
});

describe('the language of whoever signs in', () => {
  it('switches at sign-in and back at sign-out and idle sign-out', async () => {
    setManagedDefault('fr'); // IT's default for this terminal
    const ev = events();
    let answer: Session = signedOut;
    const api = {
      current: vi.fn(() => Promise.resolve(answer)),
      signOut: vi.fn(() => Promise.resolve(signedOut)),
      touch: vi.fn(() => Promise.resolve(answer)),
    };
    const s = createSession(api, ev.subscribe, 0);
    s.start(null);
    await vi.waitFor(() => expect(api.current).toHaveBeenCalled());
    expect(currentLocale()).toBe('fr');

    ev.emit(signedIn(dora));
    expect(currentLocale()).toBe('de');
    expect(t('signin.title')).toBe('Anmelden');

    // A person without a language: the terminal's.
    ev.emit(signedIn(erin));
    expect(currentLocale()).toBe('fr');

    answer = signedIn(wei);
    ev.emit(answer);
    expect(currentLocale()).toBe('zh-CN');
    // Picked on the terminal during the session: the next Touch keeps it.
    setLocale('pl');
    s.activity();
    await vi.waitFor(() => expect(api.touch).toHaveBeenCalled());
    await Promise.resolve();
    expect(currentLocale()).toBe('pl');

    // Idle sign-out on the Go side: the terminal's language (now Polish,
    // picked here) again.
    ev.emit(signedOut);
    expect(currentLocale()).toBe('pl');
    setLocale(null);
    ev.emit(signedIn(dora));
    expect(currentLocale()).toBe('de');
    ev.emit(signedOut);
    expect(currentLocale()).toBe('fr');

    // Sign-out on this terminal switches back at once.
    ev.emit(signedIn(wei));
    expect(currentLocale()).toBe('zh-CN');
    await s.signOut();
    expect(currentLocale()).toBe('fr');
  });

  it('re-renders the screen in the language of the person who signed in, without a restart', async () => {
    const ev = events();
    const s = createSession({ current: () => Promise.resolve(signedOut), signOut: vi.fn(), touch: vi.fn() }, ev.subscribe, 0);
    s.start(null);
    const flow = createSignInFlow(
      {
        people: () => Promise.resolve([dora]),
        identify: () => Promise.resolve({ person: dora, needsPin: false, lockedUntil: 0 }),
        signIn: () => Promise.resolve(signedIn(dora)),
      },
      (x) => s.set(x),
    );
    render(SignInScreen, { flow });
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Sign in');
    await fireEvent.click(await screen.findByTestId('person-B-DE'));
    await vi.waitFor(() => expect(currentLocale()).toBe('de'));
    flushSync();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Anmelden');
    ev.emit(signedOut);
    flushSync();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Sign in');
  });

  it('in the pseudo-locale every word of the badge and PIN steps comes from the message files', async () => {
    const max: Person = { badgeId: 'B-9', displayName: 'Max Weber', role: 'manager', needsPin: true };
    const flow = createSignInFlow(
      {
        people: () => Promise.resolve([dora, max]),
        identify: (b) =>
          b === 'B-9'
            ? Promise.resolve({ person: max, needsPin: true, lockedUntil: 0 })
            : Promise.reject({
                code: 'unknown_badge',
                message: 'No one at this site has the badge "X". Scan it again or pick your name.',
                params: { badge: 'X' },
              }),
        signIn: () =>
          Promise.reject({
            code: 'wrong_pin',
            field: 'pin',
            message: 'Wrong PIN. 3 more tries before this badge is locked for a while.',
            params: { field: 'pin', tries_left: 3 },
          }),
      },
      vi.fn(),
    );
    setLocale('en-XA');
    render(SignInScreen, { flow });
    await screen.findByTestId('person-B-9');
    const data = ['Dora Deutsch', 'Max Weber', 'PIN'];
    await flow.identify('X');
    flushSync();
    expect(screen.getByTestId('signin-error').textContent).toContain('X');
    expect(untranslated(document.body, data)).toEqual([]);
    await flow.pick(max);
    flushSync();
    for (const k of '1234') flow.key(k);
    flow.key('Enter');
    await vi.waitFor(() => expect(screen.getByTestId('signin-error')).toBeTruthy());
    expect(untranslated(document.body, data)).toEqual([]);
  });
});
