// The dashboard: its query, the last answer, and live refresh. A change
// the Go side announces ("data:changed", with the hours it touched) re-reads
// the dashboard only when it overlaps the shown range; the old numbers stay
// on screen until the new ones arrive, so nothing flickers.
import { get, writable, type Readable } from 'svelte/store';
import {
  dashboard as dashboardApi,
  onEvent,
  toApiError,
  type ApiError,
  type Dashboard,
  type DashboardQuery,
  type DataChanged,
} from '../lib/api';
import { overlaps } from '../lib/dashboard';
import { prefs } from './prefs';

export interface DashState {
  query: Partial<DashboardQuery>;
  data: Dashboard | null;
  loading: boolean;
  error: ApiError | null;
  /** how many refreshes a change triggered (for tests and the live dot) */
  refreshes: number;
}

export interface DashboardStore extends Readable<DashState> {
  setQuery(q: Partial<DashboardQuery>): Promise<void>;
  load(): Promise<void>;
  /** changed handles a data:changed event. */
  changed(c: DataChanged): Promise<void>;
  /** start listens for data:changed (and polls every pollMs as a safety
   * net); it returns the stop function. */
  start(pollMs?: number): () => void;
}

/** savedShifts are the shift starts this terminal last typed ('' = the
 * site's), kept by the Go side with the other preferences (stores/prefs),
 * not in localStorage. */
export function savedShifts(): string {
  return get(prefs).dashboardShifts;
}

export function saveShifts(s: string) {
  prefs.setDashboardShifts(s);
}

export function createDashboard(
  api: { get: (q: Partial<DashboardQuery>) => Promise<Dashboard>; changes: (rev: number) => Promise<DataChanged> } = dashboardApi,
  subscribe: (fn: (c: DataChanged) => void) => () => void = (fn) => onEvent<DataChanged>('data:changed', fn),
): DashboardStore {
  const state = writable<DashState>({
    query: { preset: 'today', granularity: '', lineId: '', shifts: savedShifts() },
    data: null,
    loading: false,
    error: null,
    refreshes: 0,
  });
  let seq = 0;

  async function load() {
    const my = ++seq;
    const q = get(state).query;
    state.update((s) => ({ ...s, loading: true }));
    try {
      const d = await api.get(q);
      if (my !== seq) return; // a newer query answered or will
      state.update((s) => ({ ...s, data: d, loading: false, error: null }));
    } catch (e) {
      if (my !== seq) return;
      state.update((s) => ({ ...s, loading: false, error: toApiError(e) }));
    }
  }

  async function changed(c: DataChanged) {
    const s = get(state);
    if (s.data && c.rev <= s.data.rev) return; // already shown
    if (!overlaps(s.data, c)) {
      // Outside the range: remember the revision, read nothing.
      if (s.data) state.update((x) => (x.data ? { ...x, data: { ...x.data, rev: Math.max(x.data.rev, c.rev) } as Dashboard } : x));
      return;
    }
    state.update((x) => ({ ...x, refreshes: x.refreshes + 1 }));
    await load();
  }

  return {
    subscribe: state.subscribe,
    load,
    changed,
    async setQuery(q) {
      state.update((s) => ({ ...s, query: { ...s.query, ...q } }));
      await load();
    },
    start(pollMs = 10_000) {
      const off = subscribe((c) => void changed(c));
      // Safety net: an event lost while the window slept.
      const t = setInterval(async () => {
        const d = get(state).data;
        if (!d) return;
        try {
          const c = await api.changes(d.rev);
          if (c.rev !== d.rev) await changed(c);
        } catch {
          /* the next tick retries */
        }
      }, pollMs);
      return () => {
        off();
        clearInterval(t);
      };
    },
  };
}

export const dashboardState = createDashboard();
