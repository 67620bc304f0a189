// The live sync state for the status bar and the sync screen: read once at
// the start, then fed by the Go side's "sync:status" events, which it sends
// on every change (issue 18: it was also polled every 5 s). Subscribed
// before the first read, so nothing is missed while the window loads; read
// again only while reading fails.
import { writable, type Readable } from 'svelte/store';
import { sync as syncApi, type SyncSettings, type SyncStatus, ApiError, toApiError } from '../lib/api';
import { EventsOn } from '../../wailsjs/runtime/runtime';
import { managedLanguage } from '../lib/sync';
import { setManagedDefault } from '../i18n';
export { ago, progressOf } from '../lib/sync';

export type SyncState = { phase: 'loading' } | { phase: 'ready'; status: SyncStatus } | { phase: 'error'; error: ApiError };

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
  /** start follows the "sync:status" events and reads the status once;
   * while a read fails it reads again every retryMs. It returns stop. */
  start(retryMs?: number): () => void;
}

/** createSyncStore returns a store fed by get (SyncService.Status) and the
 * "sync:status" events of on. */
export function createSyncStore(get: () => Promise<SyncStatus> = syncApi.status, on: On = safeOn): SyncStore {
  const { subscribe, set: put } = writable<SyncState>({ phase: 'loading' });
  // Bumped by every status that arrives: an answer to a read started
  // before a newer status arrived is stale and dropped.
  let seq = 0;
  let failed = false;
  const set = (s: SyncStatus) => {
    seq++;
    failed = false;
    put({ phase: 'ready', status: s });
  };
  async function refresh() {
    const my = ++seq;
    try {
      const s = await get();
      if (my === seq) set(s);
    } catch (e) {
      if (my !== seq) return;
      failed = true;
      put({ phase: 'error', error: toApiError(e) });
    }
  }
  return {
    subscribe,
    refresh,
    set,
    start(retryMs = 5000) {
      const off = on('sync:status', (s) => set(s as SyncStatus));
      void refresh();
      // No event says the store came up after a failed read.
      const t = setInterval(() => {
        if (failed) void refresh();
      }, retryMs);
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
