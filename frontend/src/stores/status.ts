// The app status shown by the status screen and the status bar: refreshed on
// a timer and after every write.
import { writable, type Readable } from 'svelte/store';
import { status as statusApi, type Status, ApiError, toApiError } from '../lib/api';

export type StatusState =
  | { phase: 'loading' }
  | { phase: 'ready'; status: Status }
  | { phase: 'error'; error: ApiError };

export interface StatusStore extends Readable<StatusState> {
  refresh(): Promise<void>;
  /** start polls every intervalMs until the returned stop is called. */
  start(intervalMs?: number): () => void;
}

/** createStatusStore returns a store fed by get (the bound StatusService.Get). */
export function createStatusStore(get: () => Promise<Status> = statusApi.get): StatusStore {
  const { subscribe, set } = writable<StatusState>({ phase: 'loading' });
  let inflight: Promise<void> | null = null;

  async function refresh(): Promise<void> {
    if (inflight) return inflight;
    inflight = (async () => {
      try {
        set({ phase: 'ready', status: await get() });
      } catch (e) {
        set({ phase: 'error', error: toApiError(e) });
      } finally {
        inflight = null;
      }
    })();
    return inflight;
  }

  function start(intervalMs = 5000): () => void {
    void refresh();
    const t = setInterval(() => void refresh(), intervalMs);
    return () => clearInterval(t);
  }

  return { subscribe, refresh, start };
}

export const appStatus = createStatusStore();
