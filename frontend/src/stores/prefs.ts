// Preferences of this terminal, kept in localStorage: the theme and the line
// and operator last used in the entry form (a shift enters many records for
// the same line and operator).
import { writable, type Writable } from 'svelte/store';

export type Theme = 'dark' | 'light';

export interface Prefs {
  theme: Theme;
  lastLine: string;
  lastOperator: string;
  /** setupSkipped: the operator chose to work offline instead of connecting
   * at first start; the sync screen still offers to connect. */
  setupSkipped: boolean;
}

const KEY = 'outpost.prefs.v1';

function defaults(): Prefs {
  const light =
    typeof window !== 'undefined' &&
    typeof window.matchMedia === 'function' &&
    window.matchMedia('(prefers-color-scheme: light)').matches;
  return { theme: light ? 'light' : 'dark', lastLine: '', lastOperator: '', setupSkipped: false };
}

/** loadPrefs reads the saved preferences, falling back to defaults for
 * anything missing or malformed. */
export function loadPrefs(storage: Storage | undefined = globalThis.localStorage): Prefs {
  const d = defaults();
  if (!storage) return d;
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return d;
    const p = JSON.parse(raw) as Partial<Prefs>;
    return {
      theme: p.theme === 'light' || p.theme === 'dark' ? p.theme : d.theme,
      lastLine: typeof p.lastLine === 'string' ? p.lastLine : '',
      lastOperator: typeof p.lastOperator === 'string' ? p.lastOperator : '',
      setupSkipped: p.setupSkipped === true,
    };
  } catch {
    return d;
  }
}

/** createPrefs returns a store that saves every change to storage. */
export function createPrefs(storage: Storage | undefined = globalThis.localStorage): Writable<Prefs> & {
  toggleTheme(): void;
  remember(line: string, operator: string): void;
  skipSetup(skipped: boolean): void;
} {
  const store = writable<Prefs>(loadPrefs(storage));
  store.subscribe((p) => {
    try {
      storage?.setItem(KEY, JSON.stringify(p));
    } catch {
      /* storage full or disabled: preferences are a convenience */
    }
  });
  return {
    ...store,
    toggleTheme: () => store.update((p) => ({ ...p, theme: p.theme === 'dark' ? 'light' : 'dark' })),
    remember: (line, operator) => store.update((p) => ({ ...p, lastLine: line, lastOperator: operator })),
    skipSetup: (skipped) => store.update((p) => ({ ...p, setupSkipped: skipped })),
  };
}

export const prefs = createPrefs();
