// @vitest-environment node
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import {
  captureKey,
  cleanBadge,
  createThrottle,
  initials,
  lockedProblem,
  lockedSentence,
  personLanguage,
  pinKey,
  signInProblem,
} from './signin';
import { setLocale } from '../i18n';
import { noSession } from '../stores/session';

describe('pinKey', () => {
  it('appends digits, deletes, clears and submits a PIN of 4 digits or more', () => {
    let pin = '';
    for (const k of ['1', '2', '3']) pin = pinKey(pin, k).pin;
    expect(pin).toBe('123');
    expect(pinKey(pin, 'Enter')).toEqual({ pin: '123', submit: false, handled: true });
    pin = pinKey(pin, '4').pin;
    expect(pinKey(pin, 'Enter')).toEqual({ pin: '1234', submit: true, handled: true });
    expect(pinKey(pin, 'Backspace').pin).toBe('123');
    expect(pinKey(pin, 'Clear').pin).toBe('');
    expect(pinKey(pin, 'Delete').pin).toBe('');
    expect(pinKey('', 'Backspace')).toEqual({ pin: '', submit: false, handled: true });
  });

  it('ignores other keys (the caller lets them through) and stops at 32 digits', () => {
    expect(pinKey('12', 'a')).toEqual({ pin: '12', submit: false, handled: false });
    expect(pinKey('12', 'Tab').handled).toBe(false);
    expect(pinKey('12', 'F5').handled).toBe(false);
    const full = '1'.repeat(32);
    expect(pinKey(full, '2').pin).toBe(full);
  });
});

describe('captureKey (a scanner typing while the focus is elsewhere)', () => {
  it('collects fast keys and submits on Enter', () => {
    let v = '';
    let last = 0;
    let t = 1000;
    for (const key of 'B-0042') {
      const r = captureKey(v, { key }, last, t);
      expect(r.handled).toBe(true);
      v = r.value;
      last = t;
      t += 8;
    }
    expect(v).toBe('B-0042');
    expect(captureKey(v, { key: 'Enter' }, last, t)).toEqual({ value: 'B-0042', submit: true, handled: true });
  });

  it('starts a new badge after a pause, and leaves shortcuts and lone Enter alone', () => {
    expect(captureKey('x', { key: '7' }, 1000, 5000).value).toBe('7');
    expect(captureKey('x', { key: '7' }, 0, 5000).value).toBe('7');
    expect(captureKey('', { key: 'Enter' }, 0, 5000)).toEqual({ value: '', submit: false, handled: false });
    expect(captureKey('ab', { key: 'c', ctrlKey: true }, 1000, 1010).handled).toBe(false);
    expect(captureKey('ab', { key: '1', altKey: true }, 1000, 1010).handled).toBe(false);
    expect(captureKey('ab', { key: 'Shift' }, 1000, 1010)).toEqual({ value: 'ab', submit: false, handled: false });
    expect(captureKey('ab', { key: 'Backspace' }, 1000, 1010).value).toBe('a');
  });

  it('cleanBadge drops what scanners add around the code', () => {
    expect(cleanBadge('  B-0042\r\n')).toBe('B-0042');
    expect(cleanBadge('\tB 7\u0000')).toBe('B 7');
  });
});

describe('createThrottle', () => {
  afterEach(() => vi.useRealTimers());

  it('runs at once, then at most once per interval, reporting the last activity', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = createThrottle(fn, 15000);
    t.call();
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    t.call();
    t.call();
    vi.advanceTimersByTime(5000);
    t.call();
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(9000); // 15 s after the first run: the pending one runs
    expect(fn).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(60000);
    expect(fn).toHaveBeenCalledTimes(2); // no activity, no report
    t.call();
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('reset drops a pending run and lets the next activity report at once', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = createThrottle(fn, 15000);
    t.call();
    t.call();
    t.reset();
    vi.advanceTimersByTime(20000);
    expect(fn).toHaveBeenCalledTimes(1);
    t.call();
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe('sign-in sentences', () => {
  it('keeps the Go sentence and says where it is shown', () => {
    expect(signInProblem(new ApiError('wrong_pin', 'That PIN is not right. 3 attempts left.'))).toEqual({
      code: 'wrong_pin',
      text: 'That PIN is not right. 3 attempts left.',
      step: 'pin',
    });
    for (const code of ['locked', 'unknown_badge', 'inactive', 'pin_not_set']) {
      const p = signInProblem(new ApiError(code, `Sentence for ${code}.`));
      expect(p).toEqual({ code, text: `Sentence for ${code}.`, step: 'badge' });
    }
    expect(signInProblem(new Error('boom'))).toMatchObject({ code: 'internal', step: 'badge' });
  });

  it('says until when a badge is locked', () => {
    const now = new Date(2026, 0, 5, 14, 30, 0).getTime();
    expect(lockedSentence('Ana Lima', now + 5 * 60000, now)).toBe(
      'Signing in for Ana Lima is locked after too many wrong PINs. Try again at 14:35 (in 5 min), or ask a manager.',
    );
    expect(lockedSentence('', now + 10_000, now)).toMatch(/^Signing in is locked .* \(in 1 min\)/);
  });

  it('initials of names', () => {
    expect(initials('Ana Lima')).toBe('AL');
    expect(initials('  josé  da silva ')).toBe('JS');
    expect(initials('Øystein')).toBe('Ø');
    expect(initials('')).toBe('?');
  });
});

describe('sign-in in the language shown (issue 21)', () => {
  afterEach(() => setLocale(null));

  it('says a refusal from its code and values, and follows a change of language', () => {
    const p = signInProblem(
      new ApiError('wrong_pin', 'Wrong PIN. 2 more tries before this badge is locked for a while.', 'pin', { field: 'pin', tries_left: 2 }),
    );
    expect(p.text).toBe('Wrong PIN. 2 more tries before this badge is locked for a while.');
    setLocale('de');
    expect(p.text).toBe('Falsche PIN. Noch 2 Versuche, dann wird dieser Ausweis eine Zeit lang gesperrt.');
    setLocale('pl');
    expect(p.text).toMatch(/^Błędny PIN\. Zostały 2 próby/);
    expect(signInProblem(new ApiError('wrong_pin', 'Enter your PIN.', 'pin', { rule: 'empty' })).text).toBe('Wpisz swój PIN.');
    expect(
      signInProblem(new ApiError('inactive', 'Old Timer is no longer active at this site. Ask a manager.', 'badge', { name: 'Old Timer' }))
        .text,
    ).toContain('Old Timer');
    expect(signInProblem(new Error('boom')).text).toBe('Logowanie się nie udało. Spróbuj ponownie; jeśli to się powtarza, zgłoś to do IT.');
    // A Go lockout: until a time in the locale.
    const until = new Date(2026, 0, 5, 14, 35).getTime();
    setLocale('fr');
    const locked = signInProblem(
      new ApiError(
        'locked',
        'Too many wrong PINs: this badge is locked on this computer for 5 minutes. Try again later or ask a manager.',
        'pin',
        { until: new Date(until).toISOString(), minutes: 5 },
      ),
    );
    expect(locked.text).toContain('14:35');
    expect(locked.text).toMatch(/^Trop de codes PIN incorrects/);
  });

  it('says until when a badge is locked, with the locale’s plural and time', () => {
    const now = new Date(2026, 0, 5, 14, 30, 0).getTime();
    setLocale('de');
    expect(lockedSentence('Ana Lima', now + 5 * 60000, now)).toBe(
      'Die Anmeldung für Ana Lima ist nach zu vielen falschen PINs gesperrt. Um 14:35 Uhr erneut versuchen (in 5 Min.) oder den Betriebsleiter fragen.',
    );
    const p = lockedProblem('', now + 60000, now);
    setLocale('zh-CN');
    expect(p.text).toBe('PIN 错误次数过多，登录已锁定。请在 14:31（1 分钟后）再试，或联系主管。');
  });

  it('reads the language of the person signed in', () => {
    const person = { badgeId: 'B-1', displayName: 'Ana', role: 'operator', needsPin: false, language: ' pt-BR ' };
    expect(personLanguage({ ...noSession, signedIn: true, person })).toBe('pt-BR');
    expect(personLanguage({ ...noSession, signedIn: false, person })).toBeNull();
    expect(personLanguage({ ...noSession, signedIn: true, person: { ...person, language: '' } })).toBeNull();
  });
});
