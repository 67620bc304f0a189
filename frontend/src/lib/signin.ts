// Pure pieces of signing in on a shared terminal: the PIN pad's keys, the
// keystrokes of a barcode scanner (a keyboard wedge: fast keys, then Enter),
// the throttle of activity reports and the sentences of sign-in errors.
// Tested with Vitest; the components only wire them to events.
import { errorText, toApiError, type Session } from './api';
import { formatTime } from './format';
import { t, type MessageKey } from '../i18n';

/** PIN length the Go side accepts (backend/pin.Check: 4–32 digits). */
export const pinMin = 4;
export const pinMax = 32;

export interface PinResult {
  pin: string;
  /** the key asks to sign in with pin */
  submit: boolean;
  /** the key was the pad's (the caller prevents its default) */
  handled: boolean;
}

/** pinKey applies one key (a keyboard key name or a pad button: "0"–"9",
 * "Backspace", "Clear", "Escape", "Enter") to the PIN typed so far. Enter
 * submits only a PIN of a length the Go side accepts. */
export function pinKey(pin: string, key: string): PinResult {
  if (/^[0-9]$/.test(key)) {
    return { pin: pin.length < pinMax ? pin + key : pin, submit: false, handled: true };
  }
  switch (key) {
    case 'Backspace':
      return { pin: pin.slice(0, -1), submit: false, handled: true };
    case 'Clear':
    case 'Delete':
      return { pin: '', submit: false, handled: true };
    case 'Enter':
      return { pin, submit: pin.length >= pinMin, handled: true };
    default:
      return { pin, submit: false, handled: false };
  }
}

/** KeyLike is the part of a KeyboardEvent the scanner capture reads. */
export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  altKey?: boolean;
  metaKey?: boolean;
}

export interface CaptureResult {
  value: string;
  /** Enter ended a badge: identify value */
  submit: boolean;
  handled: boolean;
}

/** captureKey collects a scanner's keystrokes that arrive while the focus is
 * not in a text field (after a tap on a name, say), so a scan never gets lost.
 * value is what was collected so far; keys more than resetMs apart start a
 * new badge (a stray key long ago is not part of the scan). */
export function captureKey(value: string, e: KeyLike, lastAt: number, now: number, resetMs = 1500): CaptureResult {
  if (e.ctrlKey || e.altKey || e.metaKey) return { value, submit: false, handled: false };
  const fresh = lastAt > 0 && now - lastAt <= resetMs ? value : '';
  if (e.key === 'Enter') {
    const v = fresh.trim();
    return { value: v, submit: v !== '', handled: v !== '' };
  }
  if (e.key === 'Backspace') return { value: fresh.slice(0, -1), submit: false, handled: fresh !== '' };
  if (e.key.length === 1 && e.key !== ' ') return { value: fresh + e.key, submit: false, handled: true };
  return { value, submit: false, handled: false };
}

/** cleanBadge trims what a scanner typed (scanners add spaces, tabs and
 * line ends) and drops control characters. */
export function cleanBadge(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is this regex's purpose
  return s.replace(/[\u0000-\u001f\u007f]/g, '').trim();
}

export interface Throttle {
  /** call runs fn now if the last run is intervalMs ago, else once at the
   * end of the interval (so the last activity is always reported). */
  call(): void;
  /** reset forgets the last run (a new person signed in) and drops a
   * pending run. */
  reset(): void;
}

/** createThrottle runs fn at most once per intervalMs. */
export function createThrottle(
  fn: () => void,
  intervalMs: number,
  now: () => number = Date.now,
  timer: { set: (f: () => void, ms: number) => unknown; clear: (t: unknown) => void } = {
    set: (f, ms) => setTimeout(f, ms),
    clear: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
  },
): Throttle {
  let last = -Infinity;
  let pending: unknown = null;
  function run() {
    pending = null;
    last = now();
    fn();
  }
  return {
    call() {
      const wait = last + intervalMs - now();
      if (wait <= 0) {
        if (pending !== null) timer.clear(pending);
        run();
      } else if (pending === null) {
        pending = timer.set(run, wait);
      }
    },
    reset() {
      if (pending !== null) timer.clear(pending);
      pending = null;
      last = -Infinity;
    },
  };
}

/** clock renders ms as the local time of day in the language shown
 * ("14:35"; 24-hour where the language writes it so). */
export function clock(ms: number): string {
  return formatTime(ms);
}

/** lockedSentence says until when signing in is locked, in the language
 * shown. */
export function lockedSentence(name: string, until: number, now: number = Date.now()): string {
  const minutes = Math.max(1, Math.ceil((until - now) / 60000));
  const values = { name, time: clock(until), minutes };
  return name ? t('signin.locked.named', values) : t('signin.locked.anonymous', values);
}

/** Where a sign-in error leaves the person: still at the PIN pad (a wrong
 * PIN: try again) or back at the badge (anything else). text is said in
 * the language shown when it is read, so a problem on screen follows a
 * change of language. */
export interface SignInProblem {
  code: string;
  readonly text: string;
  step: 'badge' | 'pin';
}

/** signInProblem maps an error of Identify or SignIn to the sentence shown
 * and the step to show it on: the error's code and values said by
 * errorText (tries left, the badge, the lock's end in the locale), Go's
 * own sentence in English. */
export function signInProblem(e: unknown): SignInProblem {
  const err = toApiError(e);
  const code = err.code;
  return {
    code,
    get text() {
      return code === 'internal' ? t('signin.problem.internal') : errorText(err);
    },
    step: code === 'wrong_pin' ? 'pin' : 'badge',
  };
}

/** lockedProblem is the problem of a badge found locked until until (ms)
 * when it was identified. */
export function lockedProblem(name: string, until: number, now: number): SignInProblem {
  return {
    code: 'locked',
    get text() {
      return lockedSentence(name, until, now);
    },
    step: 'badge',
  };
}

const roleKeys: { [role: string]: MessageKey } = {
  operator: 'role.operator',
  supervisor: 'role.supervisor',
  manager: 'role.manager',
};

/** roleLabel names a person's role for people in the language shown
 * ("manager" → "Manager", "Kierownik"). */
export function roleLabel(role: string): string {
  const k = roleKeys[role];
  return k ? t(k) : role;
}

/** personLanguage is the language of the person signed in (a tag of the
 * people list: "de", "pt-BR"), or null for nobody or a person without one
 * (the terminal's language then). */
export function personLanguage(s: Session): string | null {
  const p = s.signedIn ? s.person : null;
  return p?.language?.trim() || null;
}

/** initials of a display name for the name buttons ("Ana Lima" → "AL"). */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return '?';
  const first = [...parts[0]][0] ?? '';
  const last = parts.length > 1 ? ([...parts[parts.length - 1]][0] ?? '') : '';
  return (first + last).toUpperCase();
}
