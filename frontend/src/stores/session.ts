// Who is signed in on this terminal (app.SessionService). The Go side owns
// the session and its idle timer; this store follows it: Current() at start,
// every "session:changed" event (sign in, sign out, idle sign-out), and the
// answers of the calls made here. Activity (a key or a tap anywhere) is
// reported with Touch(), at most every 15 s, so the idle sign-out only
// happens to a terminal nobody uses.
import { derived, get, writable, type Readable } from 'svelte/store';
import { session as sessionApi, onEvent, toApiError, type ApiError, type PersonChoice, type Session } from '../lib/api';
import { cleanBadge, createThrottle, lockedProblem, personLanguage, signInProblem, type SignInProblem, pinKey } from '../lib/signin';
import { applyPersonLanguage } from '../i18n';

export const noSession: Session = { required: false, signedIn: false, person: null, idleSeconds: 0, expiresAt: 0, deviceRole: '' };

export interface SessionState {
  /** loading until the first answer; error when Current() failed (an older
   * backend without SessionService: the app works as before) */
  phase: 'loading' | 'ready' | 'error';
  session: Session;
  error: ApiError | null;
}

export interface SessionApi {
  current: () => Promise<Session>;
  signOut: () => Promise<Session>;
  touch: () => Promise<Session>;
}

export interface SessionStore extends Readable<SessionState> {
  refresh(): Promise<void>;
  /** set takes a session the Go side answered or announced. */
  set(s: Session): void;
  /** activity reports a key or tap (throttled Touch while signed in). */
  activity(): void;
  /** signOut signs out at once on screen, then on the Go side. */
  signOut(): Promise<void>;
  /** start follows "session:changed" and reports activity on target; it
   * returns the stop function. */
  start(target?: EventTarget | null): () => void;
}

type Subscribe = (fn: (s: Session) => void) => () => void;

function normalize(s: Session | null | undefined): Session {
  const v = { ...noSession, ...(s ?? {}) };
  if (!v.person || !v.signedIn) v.person = v.signedIn ? (v.person ?? null) : null;
  return v;
}

export function createSession(
  api: SessionApi = sessionApi,
  subscribe: Subscribe = (fn) => onEvent<Session>('session:changed', fn),
  touchEveryMs = 15000,
  showLanguage: (tag: string | null) => void = applyPersonLanguage,
): SessionStore {
  const state = writable<SessionState>({ phase: 'loading', session: noSession, error: null });
  // Bumped by every session that arrives; an answer to a call started
  // before a newer session arrived is stale and dropped.
  let seq = 0;
  // Whose language is shown (badge and language; "" for nobody): a shared
  // terminal switches to the language of whoever signs in and back at
  // sign-out or idle sign-out (issue 21). Only a change of person or of
  // their language switches, so a language picked on the terminal during a
  // session is not undone by the next Touch.
  let shown: string | null = null;

  function set(s: Session) {
    seq++;
    const before = get(state).session;
    const next = normalize(s);
    if (before.person?.badgeId !== next.person?.badgeId) throttle.reset();
    const lang = personLanguage(next);
    const who = next.signedIn && next.person ? `${next.person.badgeId}\u0000${lang ?? ''}` : '';
    if (who !== shown) {
      shown = who;
      showLanguage(lang);
    }
    state.set({ phase: 'ready', session: next, error: null });
  }

  async function refresh() {
    const my = ++seq;
    try {
      const s = await api.current();
      if (my === seq) set(s);
    } catch (e) {
      if (my === seq) state.update((x) => ({ ...x, phase: x.phase === 'ready' ? 'ready' : 'error', error: toApiError(e) }));
    }
  }

  const throttle = createThrottle(() => {
    const my = seq;
    api.touch().then(
      (s) => {
        if (my === seq) set(s);
      },
      (e) => {
        // The session ended meanwhile (idle sign-out): follow the Go side.
        if (toApiError(e).code === 'sign_in_required') void refresh();
      },
    );
  }, touchEveryMs);

  function activity() {
    if (get(state).session.signedIn) throttle.call();
  }

  return {
    subscribe: state.subscribe,
    refresh,
    set,
    activity,
    async signOut() {
      const cur = get(state).session;
      set({ ...cur, signedIn: false, person: null, expiresAt: 0 });
      const my = seq;
      try {
        const s = await api.signOut();
        if (my === seq) set(s);
      } catch {
        await refresh();
      }
    },
    start(target: EventTarget | null = typeof window === 'undefined' ? null : window) {
      const off = subscribe(set);
      void refresh();
      const onActivity = () => activity();
      const opts: AddEventListenerOptions = { capture: true, passive: true };
      target?.addEventListener('keydown', onActivity, opts);
      target?.addEventListener('pointerdown', onActivity, opts);
      return () => {
        off();
        throttle.reset();
        target?.removeEventListener('keydown', onActivity, opts);
        target?.removeEventListener('pointerdown', onActivity, opts);
      };
    },
  };
}

export const session = createSession();

/** signInNeeded: the site has active people and nobody is signed in here. */
export const signInNeeded = derived(session, (s) => s.phase === 'ready' && s.session.required && !s.session.signedIn);

/** signedInPerson is the person signed in, or null. */
export const signedInPerson = derived(session, (s) => (s.session.signedIn ? (s.session.person ?? null) : null));

/** personMayResolve: nobody needs to sign in here, or a manager is
 * signed in (the server checks the device's role besides). */
export const personMayResolve = derived(
  session,
  (s) => !s.session.required || (s.session.signedIn && s.session.person?.role === 'manager'),
);

// ---------------------------------------------------------------------------
// The sign-in flow: badge (scanned or picked by name), then a PIN when needed.

export interface FlowState {
  step: 'badge' | 'pin';
  /** the badge field's text */
  badge: string;
  /** who is signing in (at the PIN step) */
  person: PersonChoice | null;
  pin: string;
  busy: boolean;
  problem: SignInProblem | null;
  people: PersonChoice[];
  peopleError: ApiError | null;
}

export interface FlowApi {
  people: () => Promise<PersonChoice[]>;
  identify: (badgeOrName: string) => Promise<{ person: PersonChoice; needsPin: boolean; lockedUntil: number }>;
  signIn: (badgeId: string, pin: string) => Promise<Session>;
}

const emptyFlow = (): FlowState => ({
  step: 'badge',
  badge: '',
  person: null,
  pin: '',
  busy: false,
  problem: null,
  people: [],
  peopleError: null,
});

export function createSignInFlow(
  api: FlowApi = sessionApi,
  onSignedIn: (s: Session) => void = (s) => session.set(s),
  now: () => number = Date.now,
) {
  const state = writable<FlowState>(emptyFlow());
  const patch = (p: Partial<FlowState>) => state.update((s) => ({ ...s, ...p }));

  async function loadPeople() {
    try {
      const people = await api.people();
      patch({ people: people ?? [], peopleError: null });
    } catch (e) {
      patch({ peopleError: toApiError(e) });
    }
  }

  async function signIn(person: PersonChoice, pin: string) {
    patch({ busy: true });
    try {
      const s = await api.signIn(person.badgeId, pin);
      state.update((x) => ({ ...emptyFlow(), people: x.people }));
      onSignedIn(s);
    } catch (e) {
      const p = signInProblem(e);
      if (p.step === 'pin') patch({ busy: false, pin: '', problem: p });
      else patch({ busy: false, step: 'badge', person: null, pin: '', badge: '', problem: p });
    }
  }

  /** identify looks up a scanned badge (or a picked name's badge id). */
  async function identify(value?: string) {
    const s = get(state);
    if (s.busy) return;
    const badge = cleanBadge(value ?? s.badge);
    if (!badge) return;
    patch({ busy: true, problem: null, badge });
    try {
      const step = await api.identify(badge);
      if (step.lockedUntil > now()) {
        patch({
          busy: false,
          badge: '',
          problem: lockedProblem(step.person?.displayName ?? '', step.lockedUntil, now()),
        });
      } else if (step.needsPin) {
        patch({ busy: false, step: 'pin', person: step.person, pin: '', badge: '' });
      } else {
        await signIn(step.person, '');
      }
    } catch (e) {
      patch({ busy: false, badge: '', problem: signInProblem(e) });
    }
  }

  return {
    subscribe: state.subscribe,
    loadPeople,
    identify,
    pick: (p: PersonChoice) => identify(p.badgeId),
    setBadge: (badge: string) => patch({ badge }),
    /** key applies a key of the PIN pad (or the keyboard) at the PIN step;
     * it returns whether the key was the pad's. */
    key(k: string): boolean {
      const s = get(state);
      if (s.step !== 'pin' || !s.person) return false;
      if (k === 'Escape') {
        patch({ step: 'badge', person: null, pin: '', problem: null });
        return true;
      }
      if (s.busy) return /^[0-9]$/.test(k) || k === 'Enter' || k === 'Backspace';
      const r = pinKey(s.pin, k);
      if (r.pin !== s.pin) patch({ pin: r.pin });
      if (r.submit) void signIn(s.person, r.pin);
      return r.handled;
    },
    back: () => patch({ step: 'badge', person: null, pin: '', problem: null }),
    reset: () => state.update((x) => ({ ...emptyFlow(), people: x.people })),
  };
}

export type SignInFlow = ReturnType<typeof createSignInFlow>;
