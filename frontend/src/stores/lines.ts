// Line configurations, loaded once and refreshed after each write; the entry
// form and the filters also use the known line ids as suggestions.
import { derived, writable } from 'svelte/store';
import { lineConfigs as api, toApiError, type ApiError, type LineConfig } from '../lib/api';

export interface LinesState {
  items: LineConfig[];
  loaded: boolean;
  error: ApiError | null;
}

export function createLines(list: () => Promise<LineConfig[]> = api.list) {
  const state = writable<LinesState>({ items: [], loaded: false, error: null });
  async function load() {
    try {
      const items = await list();
      items.sort((a, b) => a.lineId.localeCompare(b.lineId, undefined, { numeric: true }) || a.recipe.localeCompare(b.recipe));
      state.set({ items, loaded: true, error: null });
    } catch (e) {
      state.update((s) => ({ ...s, loaded: true, error: toApiError(e) }));
    }
  }
  const lineIds = derived(state, (s) => [...new Set(s.items.map((c) => c.lineId))]);
  return { subscribe: state.subscribe, load, lineIds };
}

export const lines = createLines();
