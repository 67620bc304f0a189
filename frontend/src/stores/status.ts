// The app status shown by the status screen and the status bar: read at
// the start, after every write here, and again when the Go side announces
// a change of what it counts (issue 18: it was polled every 5 s):
// "data:changed" for production records written or pulled, "sync:status"
// for the pending count and what a sync brought.
import { writable, type Readable } from 'svelte/store';
import { status as statusApi, onEvent, type Status, type SyncStatus, ApiError, toApiError } from '../lib/api';
import { dataMark } from '../lib/sync';

export type StatusState = { phase: 'loading' } | { phase: 'ready'; status: Status } | { phase: 'error'; error: ApiError };

type On = (name: string, cb: (data: unknown) => void) => () => void;

export interface StatusStore extends Readable<StatusState> {
  refresh(): Promise<void>;
  /** start reads the status and follows the events that say it changed;
   * while a read fails it reads again every retryMs (no event says the
   * store came up), and with pollMs it also reads every pollMs. It returns
   * the stop function. */
  start(pollMs?: number, retryMs?: number): () => void;
}

/** createStatusStore returns a store fed by get (the bound StatusService.Get)
 * and the events of on. */
export function createStatusStore(get: () => Promise<Status> = statusApi.get, on: On = onEvent): StatusStore {
  const { subscribe, set } = writable<StatusState>({ phase: 'loading' });
  let inflight: Promise<void> | null = null;
  let failed = false;

  async function refresh(): Promise<void> {
    if (inflight) return inflight;
    inflight = (async () => {
      try {
        set({ phase: 'ready', status: await get() });
        failed = false;
      } catch (e) {
        set({ phase: 'error', error: toApiError(e) });
        failed = true;
      } finally {
        inflight = null;
      }
    })();
    return inflight;
  }

  function start(pollMs = 0, retryMs = 5000): () => void {
    // The first status refreshes too: it may say more than the first read.
    let mark = '';
    const offs = [
      on('data:changed', () => void refresh()),
      on('sync:status', (s) => {
        const m = dataMark(s as SyncStatus);
        if (m !== mark) void refresh();
        mark = m;
      }),
    ];
    void refresh();
    const timers = [setInterval(() => failed && void refresh(), retryMs)];
    if (pollMs > 0) timers.push(setInterval(() => void refresh(), pollMs));
    return () => {
      for (const off of offs) off();
      for (const t of timers) clearInterval(t);
    };
  }

  return { subscribe, refresh, start };
}

export const appStatus = createStatusStore();
