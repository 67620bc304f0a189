// Preferences of this terminal. Only the theme is kept in the WebView's
// localStorage (a plaintext file in the data directory); the line and
// operator last used in the entry form (a shift enters many records for the
// same line and operator), the setup choice and the dashboard's shift starts
// are kept by the Go side in the encrypted database (PrefsService), because
// the operator is a badge id, personal data.
import { writable, type Writable } from 'svelte/store';
import { prefs as prefsApi } from '../lib/api';

export type Theme = 'dark' | 'light';

/** TerminalPrefs is what PrefsService keeps. */
export interface TerminalPrefs {
  lastLine: string;
  lastOperator: string;
  /** setupSkipped: the operator chose to work offline instead of connecting
   * at first start; the sync screen still offers to connect. */
  setupSkipped: boolean;
  /** dashboardShifts: shift starts typed on the dashboard ('' = the site's). */
  dashboardShifts: string;
  /** scanSoundOff: scan feedback by the flash only, no beep (issue 20). */
  scanSoundOff: boolean;
}

export interface Prefs extends TerminalPrefs {
  theme: Theme;
}

/** PrefsBackend is PrefsService as the store calls it (tests pass a fake). */
export interface PrefsBackend {
  get(): Promise<TerminalPrefs>;
  remember(line: string, operator: string): Promise<TerminalPrefs>;
  skipSetup(skipped: boolean): Promise<TerminalPrefs>;
  setDashboardShifts(shifts: string): Promise<TerminalPrefs>;
  setScanSound(on: boolean): Promise<TerminalPrefs>;
}

const KEY = 'outpost.prefs.v1';
/** SHIFTS_KEY held the dashboard's shift starts before 2026-12. */
const SHIFTS_KEY = 'outpost.dashboard.shifts';

function defaults(): Prefs {
  const light =
    typeof window !== 'undefined' && typeof window.matchMedia === 'function' && window.matchMedia('(prefers-color-scheme: light)').matches;
  return { theme: light ? 'light' : 'dark', lastLine: '', lastOperator: '', setupSkipped: false, dashboardShifts: '', scanSoundOff: false };
}

function readSaved(storage: Storage | undefined): Record<string, unknown> | null {
  try {
    const raw = storage?.getItem(KEY);
    const p: unknown = raw ? JSON.parse(raw) : null;
    return p && typeof p === 'object' ? (p as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** loadPrefs reads the theme saved in storage (the rest comes from Go),
 * falling back to defaults for anything missing or malformed. */
export function loadPrefs(storage: Storage | undefined = globalThis.localStorage): Prefs {
  const d = defaults();
  const p = readSaved(storage);
  return { ...d, theme: p?.theme === 'light' || p?.theme === 'dark' ? p.theme : d.theme };
}

/** takeLegacy returns what versions before 2026-12 kept in localStorage
 * beside the theme (null when nothing), and rewrites the saved preferences
 * with the theme alone: the badge id must not stay in the plaintext file. */
function takeLegacy(storage: Storage | undefined): Partial<TerminalPrefs> | null {
  let shifts: string | null = null;
  try {
    shifts = storage?.getItem(SHIFTS_KEY) ?? null;
    if (shifts !== null) storage?.removeItem(SHIFTS_KEY);
  } catch {
    /* storage disabled */
  }
  const p = readSaved(storage);
  if ((!p || Object.keys(p).every((k) => k === 'theme')) && !shifts) return null;
  const legacy: Partial<TerminalPrefs> = {};
  if (shifts) legacy.dashboardShifts = shifts;
  if (!p || Object.keys(p).every((k) => k === 'theme')) return legacy;
  if (typeof p.lastLine === 'string' && p.lastLine) legacy.lastLine = p.lastLine;
  if (typeof p.lastOperator === 'string' && p.lastOperator) legacy.lastOperator = p.lastOperator;
  if (p.setupSkipped === true) legacy.setupSkipped = true;
  try {
    storage?.setItem(KEY, JSON.stringify({ theme: loadPrefs(storage).theme }));
  } catch {
    storage?.removeItem?.(KEY);
  }
  return legacy;
}

const ignore = () => {};

/** createPrefs returns the preferences store: the theme is saved to storage
 * on every change, the rest is sent to Go. Old keys are dropped from storage
 * at once; load() reads Go's values and hands it the old ones when it has
 * none yet. */
export function createPrefs(
  storage: Storage | undefined = globalThis.localStorage,
  backend: PrefsBackend = prefsApi,
): Writable<Prefs> & {
  toggleTheme(): void;
  remember(line: string, operator: string): void;
  skipSetup(skipped: boolean): void;
  setDashboardShifts(shifts: string): void;
  setScanSound(on: boolean): void;
  load(): Promise<void>;
} {
  const legacy = takeLegacy(storage);
  const store = writable<Prefs>(loadPrefs(storage));
  store.subscribe((p) => {
    try {
      storage?.setItem(KEY, JSON.stringify({ theme: p.theme }));
    } catch {
      /* storage full or disabled: preferences are a convenience */
    }
  });
  const call = (f: () => Promise<unknown>) => {
    try {
      f().catch(ignore);
    } catch {
      /* no backend: preferences are a convenience */
    }
  };
  return {
    ...store,
    toggleTheme: () => store.update((p) => ({ ...p, theme: p.theme === 'dark' ? 'light' : 'dark' })),
    remember: (line, operator) => {
      store.update((p) => ({ ...p, lastLine: line, lastOperator: operator }));
      call(() => backend.remember(line, operator));
    },
    skipSetup: (skipped) => {
      store.update((p) => ({ ...p, setupSkipped: skipped }));
      call(() => backend.skipSetup(skipped));
    },
    setDashboardShifts: (shifts) => {
      store.update((p) => ({ ...p, dashboardShifts: shifts }));
      call(() => backend.setDashboardShifts(shifts));
    },
    setScanSound: (on) => {
      store.update((p) => ({ ...p, scanSoundOff: !on }));
      call(() => backend.setScanSound(on));
    },
    load: async () => {
      try {
        let kept = await backend.get();
        if (legacy && !kept.lastLine && !kept.lastOperator && (legacy.lastLine || legacy.lastOperator)) {
          kept = await backend.remember(legacy.lastLine ?? '', legacy.lastOperator ?? '');
        }
        if (legacy?.setupSkipped && !kept.setupSkipped) kept = await backend.skipSetup(true);
        if (legacy?.dashboardShifts && !kept.dashboardShifts) kept = await backend.setDashboardShifts(legacy.dashboardShifts);
        store.update((p) => ({
          ...p,
          lastLine: kept.lastLine ?? '',
          lastOperator: kept.lastOperator ?? '',
          setupSkipped: kept.setupSkipped === true,
          dashboardShifts: kept.dashboardShifts ?? '',
          scanSoundOff: kept.scanSoundOff === true,
        }));
      } catch {
        /* no backend or no store: keep what is in memory */
      } finally {
        prefsLoaded.set(true);
      }
    },
  };
}

/** prefsLoaded turns true once load() has answered (or failed): the setup
 * screen waits for it, so a terminal that chose to work offline does not
 * see it flash at start. */
export const prefsLoaded = writable(false);

export const prefs = createPrefs();
