// The records list: filter and sort state plus a page cache for the windowed
// list. Only the pages a person scrolls to are fetched, so 100k rows cost no
// more than the rows on screen.
import { get, writable, type Readable } from 'svelte/store';
import { onEvent, records as recordsApi, toApiError, type ApiError, type Record, type RecordFilter, type RecordPage } from '../lib/api';
import { dayEnd, dayStart } from '../lib/format';

export type SortKey = 'updated_at' | 'created_at' | 'line_id' | 'product_id' | 'operator_id' | 'quantity';

/** Filters as the filter bar holds them (dates as "YYYY-MM-DD"). */
export interface Filters {
  line: string;
  product: string;
  operator: string;
  from: string;
  to: string;
  /** an exact time window "fromMs/toMs" (a dashboard bar); it replaces
   * the dates while set */
  window?: string;
}

/** parseWindow reads Filters.window; [0, 0] when unset or malformed. */
export function parseWindow(w: string | undefined): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(w ?? '');
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export const emptyFilters: Filters = { line: '', product: '', operator: '', from: '', to: '' };

export interface ListState {
  filters: Filters;
  sort: SortKey;
  desc: boolean;
  /** total matches of the current query; -1 before the first answer */
  total: number;
  /** pages by page index; absent = not fetched */
  pages: Map<number, Record[]>;
  loading: boolean;
  error: ApiError | null;
  /** bumps on every new query, so views can reset their scroll */
  generation: number;
}

/** toFilter converts the filter bar's state into the bound call's argument.
 * The "to" date is inclusive for people: the query runs to the next midnight. */
export function toFilter(f: Filters, sort: SortKey, desc: boolean, offset: number, limit: number): Partial<RecordFilter> {
  const [wFrom, wTo] = parseWindow(f.window);
  return {
    lineId: f.line.trim(),
    productId: f.product.trim(),
    operatorId: f.operator.trim(),
    from: wTo ? wFrom : dayStart(f.from),
    to: wTo ? wTo : dayEnd(f.to),
    sort,
    desc,
    offset,
    limit,
  };
}

export interface RecordList extends Readable<ListState> {
  pageSize: number;
  /** row returns the record at index, or undefined while its page loads. */
  row(state: ListState, index: number): Record | undefined;
  /** ensure fetches the pages covering rows [start, end). */
  ensure(start: number, end: number): Promise<void>;
  setFilters(f: Filters): Promise<void>;
  setSort(key: SortKey): Promise<void>;
  /** reload drops the cache and fetches the first page again (after a write). */
  reload(): Promise<void>;
  /** patch replaces a cached record in place (after an edit). */
  patch(r: Record): void;
  /** refresh reads the pages in view (the rows ensure last asked for) of
   * the current query again, keeping its generation (the view's scroll),
   * and drops the other cached pages; a burst of calls while one runs
   * costs one more read, not one each. */
  refresh(): Promise<void>;
  /** follow refreshes the list on every "data:changed" (records written
   * here or pulled from the server); it returns the stop function. */
  follow(): () => void;
}

const maxCachedPages = 40;

export function createRecordList(
  list: (f: Partial<RecordFilter>) => Promise<RecordPage> = recordsApi.list,
  pageSize = 200,
  subscribe: (fn: (c: unknown) => void) => () => void = (fn) => onEvent('data:changed', fn),
): RecordList {
  const state = writable<ListState>({
    filters: { ...emptyFilters },
    sort: 'updated_at',
    desc: true,
    total: -1,
    pages: new Map(),
    loading: false,
    error: null,
    generation: 0,
  });
  const inflight = new Map<string, Promise<void>>();

  async function fetchPage(page: number): Promise<void> {
    const s = get(state);
    const key = `${s.generation}:${page}`;
    const running = inflight.get(key);
    if (running) return running;
    const gen = s.generation;
    const p = (async () => {
      state.update((x) => ({ ...x, loading: true }));
      try {
        const res = await list(toFilter(s.filters, s.sort, s.desc, page * pageSize, pageSize));
        state.update((x) => {
          if (x.generation !== gen) return x; // an answer to an old query
          const pages = new Map(x.pages);
          pages.set(page, res.records ?? []);
          evict(pages, page);
          return { ...x, pages, total: res.total, loading: false, error: null };
        });
      } catch (e) {
        state.update((x) => (x.generation !== gen ? x : { ...x, loading: false, error: toApiError(e) }));
      } finally {
        inflight.delete(key);
      }
    })();
    inflight.set(key, p);
    return p;
  }

  function evict(pages: Map<number, Record[]>, keep: number) {
    if (pages.size <= maxCachedPages) return;
    const far = [...pages.keys()].sort((a, b) => Math.abs(b - keep) - Math.abs(a - keep));
    for (const p of far.slice(0, pages.size - maxCachedPages)) pages.delete(p);
  }

  // The cached pages read again under the current query; an answer that
  // comes after a new query began is dropped, and a failed read leaves
  // what the list shows (the next change or query reads again).
  // The pages covering rows [from, to): what ensure fetches.
  function pagesOf(from: number, to: number, total: number): number[] {
    const last = total >= 0 ? Math.min(to, total) : to;
    const out: number[] = [];
    for (let p = Math.floor(Math.max(0, from) / pageSize); p * pageSize < Math.max(last, 1); p++) out.push(p);
    return out;
  }

  // The rows the view last asked for (ensure): what a refresh reads again.
  let inView: [number, number] = [0, 1];

  async function refetchCached(): Promise<void> {
    const s = get(state);
    const gen = s.generation;
    const wanted = pagesOf(inView[0], inView[1], s.total);
    let pages: [number, RecordPage][];
    try {
      pages = await Promise.all(
        wanted.map(async (p): Promise<[number, RecordPage]> => [
          p,
          await list(toFilter(s.filters, s.sort, s.desc, p * pageSize, pageSize)),
        ]),
      );
    } catch {
      return;
    }
    state.update((x) => {
      if (x.generation !== gen) return x;
      // Only the pages in view are read again; the others are dropped
      // and read when scrolled to (the list changed under them).
      const next = new Map<number, Record[]>();
      for (const [p, res] of pages) next.set(p, res.records ?? []);
      return { ...x, pages: next, total: pages[pages.length - 1][1].total, error: null };
    });
  }

  let refreshing: Promise<void> | null = null;
  let again = false;
  function refresh(): Promise<void> {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        again = false;
        await refetchCached();
      } while (again);
    })().finally(() => (refreshing = null));
    return refreshing;
  }

  async function requery(change: Partial<ListState>) {
    inView = [0, 1];
    state.update((x) => ({ ...x, ...change, pages: new Map(), generation: x.generation + 1, error: null }));
    await fetchPage(0);
  }

  return {
    subscribe: state.subscribe,
    pageSize,
    row(s, index) {
      return s.pages.get(Math.floor(index / pageSize))?.[index % pageSize];
    },
    async ensure(start, end) {
      const s = get(state);
      inView = [start, end];
      await Promise.all(
        pagesOf(start, end, s.total)
          .filter((p) => !s.pages.has(p))
          .map((p) => fetchPage(p)),
      );
    },
    setFilters: (filters) => requery({ filters: { ...filters } }),
    setSort(key) {
      const s = get(state);
      // A second click on the same column flips the direction; text columns
      // start ascending, times and quantities newest/largest first.
      const desc = s.sort === key ? !s.desc : !['line_id', 'product_id', 'operator_id'].includes(key);
      return requery({ sort: key, desc });
    },
    reload: () => requery({}),
    refresh,
    follow: () => subscribe(() => void refresh()),
    patch(r) {
      state.update((x) => {
        const pages = new Map(x.pages);
        for (const [i, rows] of pages) {
          const j = rows.findIndex((y) => y.id === r.id);
          if (j >= 0) {
            const copy = rows.slice();
            copy[j] = r;
            pages.set(i, copy);
          }
        }
        return { ...x, pages };
      });
    },
  };
}

export const recordList = createRecordList();
