// The live sync state for the status bar and the sync screen: fed by the Go
// side's "sync:status" events, and polled as a safety net (an event can be
// missed while the window loads).
import { writable, type Readable } from 'svelte/store';
import { sync as syncApi, type SyncSettings, type SyncStatus, ApiError, toApiError } from '../lib/api';
import { EventsOn } from '../../wailsjs/runtime/runtime';
import { managedLanguage } from '../lib/sync';
import { setManagedDefault } from '../i18n';
export { ago, progressOf } from '../lib/sync';

export type SyncState =
  | { phase: 'loading' }
  | { phase: 'ready'; status: SyncStatus }
  | { phase: 'error'; error: ApiError };

type On = (name: string, cb: (...data: unknown[]) => void) => () => void;

/** safeOn subscribes to a Wails event, or does nothing without the runtime
 * (tests, a plain browser). */
const safeOn: On = (name, cb) => {
  const w = globalThis as unknown as { runtime?: { EventsOnMultiple?: unknown } };
  if (!w.runtime || typeof w.runtime.EventsOnMultiple !== 'function') return () => {};
  return EventsOn(name, cb);
};

export interface SyncStore extends Readable<SyncState> {
  refresh(): Promise<void>;
  set(s: SyncStatus): void;
  start(intervalMs?: number): () => void;
}

/** createSyncStore returns a store fed by get (SyncService.Status) and the
 * "sync:status" events of on. */
export function createSyncStore(get: () => Promise<SyncStatus> = syncApi.status, on: On = safeOn): SyncStore {
  const { subscribe, set } = writable<SyncState>({ phase: 'loading' });
  async function refresh() {
    try {
      set({ phase: 'ready', status: await get() });
    } catch (e) {
      set({ phase: 'error', error: toApiError(e) });
    }
  }
  return {
    subscribe,
    refresh,
    set: (s) => set({ phase: 'ready', status: s }),
    start(intervalMs = 5000) {
      const off = on('sync:status', (s) => set({ phase: 'ready', status: s as SyncStatus }));
      void refresh();
      const t = setInterval(() => void refresh(), intervalMs);
      return () => {
        off();
        clearInterval(t);
      };
    },
  };
}

export const syncStatus = createSyncStore();

/** syncSettings holds what the setup and settings screens show (locks,
 * configuration error, automatic enrollment). */
function createSettingsStore(get: () => Promise<SyncSettings> = syncApi.settings) {
  const { subscribe, set } = writable<SyncSettings | null>(null);
  return {
    subscribe,
    async refresh() {
      try {
        const s = await get();
        set(s);
        // IT's default language: the terminal's until someone chooses (issue 21).
        setManagedDefault(managedLanguage(s));
      } catch {
        /* the store is not open: the failure screen says why */
      }
    },
  };
}

export const syncSettings = createSettingsStore();
