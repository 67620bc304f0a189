// @vitest-environment node
import { get } from 'svelte/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStatusStore } from './status';
import { createToasts, toastTimes } from './toasts';
import { createRecordList, toFilter, emptyFilters } from './records';
import { createLines } from './lines';
import { ApiError, type Record, type RecordFilter, type RecordPage, type Status } from '../lib/api';

const status = (pending: number): Status =>
  ({
    version: '1.2.3',
    storeOpen: true,
    encrypted: true,
    cipherVersion: '4.4.2',
    dbPath: '/x/outpost.db',
    keySource: 'Secret Service',
    counts: { records: 3, deletedRecords: 0, lineConfigs: 1, pending },
    sync: 'offline / no server configured',
  }) as Status;

describe('status store', () => {
  it('starts loading, then holds the answer', async () => {
    const s = createStatusStore(() => Promise.resolve(status(2)));
    expect(get(s).phase).toBe('loading');
    await s.refresh();
    const v = get(s);
    expect(v.phase === 'ready' && v.status.counts.pending).toBe(2);
  });

  it('holds a sentence when the call fails', async () => {
    const s = createStatusStore(() =>
      Promise.reject({ code: 'timeout', message: 'The local database took too long to answer. Try again.' }),
    );
    await s.refresh();
    const v = get(s);
    expect(v.phase).toBe('error');
    expect(v.phase === 'error' && v.error.message).toMatch(/took too long/);
  });

  it('shares one call between overlapping refreshes', async () => {
    const fn = vi.fn(() => Promise.resolve(status(0)));
    const s = createStatusStore(fn);
    await Promise.all([s.refresh(), s.refresh(), s.refresh()]);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('polls until stopped', async () => {
    vi.useFakeTimers();
    const fn = vi.fn(() => Promise.resolve(status(0)));
    const s = createStatusStore(fn);
    const stop = s.start(1000);
    await vi.advanceTimersByTimeAsync(3100);
    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(fn).toHaveBeenCalledTimes(4);
    vi.useRealTimers();
  });
});

describe('status store without polling (issue 18)', () => {
  afterEach(() => vi.useRealTimers());
  const events = () => {
    const subs = new Map<string, (d: unknown) => void>();
    return {
      on: (name: string, cb: (d: unknown) => void) => (subs.set(name, cb), () => subs.delete(name)),
      emit: (name: string, d: unknown) => subs.get(name)?.(d),
      subs,
    };
  };
  const sync = (over: object = {}) => ({
    enrolled: true,
    role: 'operator',
    syncing: false,
    lastSync: 1,
    pending: 0,
    inFlight: 0,
    awaitingReview: 0,
    rejected: 0,
    openConflicts: 0,
    online: true,
    ...over,
  });

  it('reads once, then again on data:changed and on a sync:status that changes the counts, not on a progress tick', async () => {
    vi.useFakeTimers();
    const fn = vi.fn(() => Promise.resolve(status(0)));
    const ev = events();
    const s = createStatusStore(fn, ev.on);
    const stop = s.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fn).toHaveBeenCalledTimes(1);
    ev.emit('data:changed', { rev: 2, from: 0, to: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(2);
    ev.emit('sync:status', sync());
    await vi.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(3);
    ev.emit('sync:status', sync({ online: false, progress: { phase: 'pull', pulled: 3 } }));
    await vi.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(3);
    ev.emit('sync:status', sync({ pending: 1 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(4);
    stop();
    expect(ev.subs.size).toBe(0);
  });

  it('reads again while the read fails', async () => {
    vi.useFakeTimers();
    let fail = true;
    const fn = vi.fn(() =>
      fail ? Promise.reject({ code: 'timeout', message: 'The local database took too long to answer.' }) : Promise.resolve(status(0)),
    );
    const s = createStatusStore(fn, events().on);
    const stop = s.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(fn).toHaveBeenCalledTimes(2);
    fail = false;
    await vi.advanceTimersByTimeAsync(5000);
    expect(get(s).phase).toBe('ready');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fn).toHaveBeenCalledTimes(3);
    stop();
  });
});

describe('toasts', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('drops notices after their time but keeps errors', () => {
    const t = createToasts({ successMs: 1000, infoMs: 3000 });
    t.success('Saved.');
    t.info('Deleted.', { label: 'Undo', run: () => {} });
    t.error('Not saved.');
    expect(get(t)).toHaveLength(3);
    vi.advanceTimersByTime(1500);
    expect(get(t).map((x) => x.kind)).toEqual(['info', 'error']);
    vi.advanceTimersByTime(2000);
    expect(get(t).map((x) => x.kind)).toEqual(['error']);
    vi.advanceTimersByTime(60_000);
    expect(get(t).map((x) => x.text)).toEqual(['Not saved.']);
  });

  it('a success goes by itself within a few seconds by default', () => {
    const t = createToasts();
    t.success('Saved: 77 × P-300 on L2.');
    vi.advanceTimersByTime(toastTimes.successMs - 1);
    expect(get(t)).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(get(t)).toHaveLength(0);
    expect(toastTimes.successMs).toBeLessThanOrEqual(5000);
  });

  it('keeps three at most; clear drops all, errors too', () => {
    const t = createToasts();
    for (const n of [1, 2, 3, 4]) t.success(`Saved ${n}.`);
    expect(get(t).map((x) => x.text)).toEqual(['Saved 2.', 'Saved 3.', 'Saved 4.']);
    t.error('Not saved.');
    t.clear();
    expect(get(t)).toEqual([]);
    vi.advanceTimersByTime(60_000);
    expect(get(t)).toEqual([]);
  });

  it('carries an undo action', async () => {
    const t = createToasts();
    const run = vi.fn();
    t.info('Deleted.', { label: 'Undo', run });
    await get(t)[0].action!.run();
    expect(run).toHaveBeenCalled();
  });
});

function fakeRecords(n: number): Record[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `id-${i}`,
    lineId: `L${i % 5}`,
    productId: `P-${i}`,
    quantity: i,
    operatorId: 'op',
    createdAt: i,
    updatedAt: i,
    pending: true,
  })) as Record[];
}

function pager(all: Record[]) {
  const calls: Partial<RecordFilter>[] = [];
  const list = (f: Partial<RecordFilter>): Promise<RecordPage> => {
    calls.push(f);
    const rows = all.filter((r) => !f.lineId || r.lineId === f.lineId);
    return Promise.resolve({ records: rows.slice(f.offset!, f.offset! + f.limit!), total: rows.length, offset: f.offset! } as RecordPage);
  };
  return { list, calls };
}

describe('record list', () => {
  it('fetches only the pages in view, 100k rows or not', async () => {
    const { list, calls } = pager(fakeRecords(100_000));
    const l = createRecordList(list, 200);
    await l.reload();
    expect(get(l).total).toBe(100_000);
    await l.ensure(50_000, 50_030);
    expect(calls.map((c) => c.offset)).toEqual([0, 50_000]);
    const s = get(l);
    expect(l.row(s, 50_010)?.id).toBe('id-50010');
    expect(l.row(s, 70_000)).toBeUndefined();
    await l.ensure(50_000, 50_030); // cached: no new call
    expect(calls).toHaveLength(2);
  });

  it('keeps the cache bounded while scrolling far', async () => {
    const { list } = pager(fakeRecords(100_000));
    const l = createRecordList(list, 100);
    await l.reload();
    for (let i = 0; i < 100; i++) await l.ensure(i * 1000, i * 1000 + 10);
    expect(get(l).pages.size).toBeLessThanOrEqual(40);
  });

  it('requeries on a filter change and drops answers to the old query', async () => {
    let release: (() => void) | undefined;
    const all = fakeRecords(1000);
    const calls: Partial<RecordFilter>[] = [];
    const list = (f: Partial<RecordFilter>): Promise<RecordPage> => {
      calls.push(f);
      const rows = all.filter((r) => !f.lineId || r.lineId === f.lineId);
      const page = { records: rows.slice(f.offset!, f.offset! + f.limit!), total: rows.length, offset: f.offset! } as RecordPage;
      if (!f.lineId && calls.length === 2) return new Promise((res) => (release = () => res(page)));
      return Promise.resolve(page);
    };
    const l = createRecordList(list, 50);
    await l.reload();
    const slow = l.ensure(500, 510); // hangs until released
    await l.setFilters({ ...emptyFilters, line: 'L1' });
    release!();
    await slow;
    const s = get(l);
    expect(s.total).toBe(200);
    expect(s.filters.line).toBe('L1');
    expect([...s.pages.keys()]).toEqual([0]);
    expect(l.row(s, 0)?.lineId).toBe('L1');
  });

  it('flips the direction on a second click and starts text columns ascending', async () => {
    const { list, calls } = pager(fakeRecords(10));
    const l = createRecordList(list);
    await l.setSort('line_id');
    expect(calls.at(-1)).toMatchObject({ sort: 'line_id', desc: false });
    await l.setSort('line_id');
    expect(calls.at(-1)).toMatchObject({ sort: 'line_id', desc: true });
    await l.setSort('quantity');
    expect(calls.at(-1)).toMatchObject({ sort: 'quantity', desc: true });
  });

  it('follows records written or pulled elsewhere, keeping the scroll', async () => {
    // A colleague's record arrives through sync while the list is open and
    // scrolled: the Go side says "data:changed", the page in view is read
    // again, and the query's generation (the view's scroll) stays as it
    // was.
    const all = fakeRecords(500).reverse();
    const { list, calls } = pager(all);
    let emit: (() => void) | undefined;
    const l = createRecordList(list, 100, (fn) => {
      emit = () => fn({ rev: 2, from: 0, to: 0 });
      return () => (emit = undefined);
    });
    const stop = l.follow();
    await l.reload();
    await l.ensure(100, 150);
    const generation = get(l).generation;
    all.unshift({ ...all[0], id: 'from-the-hub', productId: 'P-HUB-HQ' });
    calls.length = 0;
    emit!();
    await vi.waitFor(() => expect(get(l).total).toBe(501));
    // The page in view is read again; the others are dropped, and read
    // when scrolled back to.
    await vi.waitFor(() => expect(calls.map((c) => c.offset)).toEqual([100]));
    expect(get(l).generation).toBe(generation);
    expect(l.row(get(l), 0)).toBeUndefined();
    await l.ensure(0, 10);
    expect(l.row(get(l), 0)?.productId).toBe('P-HUB-HQ');
    stop();
    expect(emit).toBeUndefined();
  });

  it('reads a burst of changes once more, not once each', async () => {
    let release: (() => void) | undefined;
    const all = fakeRecords(10);
    let n = 0;
    const list = (f: Partial<RecordFilter>): Promise<RecordPage> => {
      n++;
      const page = { records: all.slice(f.offset!, f.offset! + f.limit!), total: all.length, offset: f.offset! } as RecordPage;
      if (n === 2) return new Promise((res) => (release = () => res(page)));
      return Promise.resolve(page);
    };
    const l = createRecordList(list, 100);
    await l.reload();
    const first = l.refresh(); // hangs until released
    const rest = [l.refresh(), l.refresh(), l.refresh()];
    release!();
    await Promise.all([first, ...rest]);
    expect(n).toBe(3); // the load, the first refresh, one more for the burst
  });

  it('holds the error sentence when a page fails', async () => {
    const l = createRecordList(() => Promise.reject({ code: 'store_unavailable', message: 'The local database is not open.' }));
    await l.reload();
    expect(get(l).error).toBeInstanceOf(ApiError);
    expect(get(l).error?.message).toBe('The local database is not open.');
  });

  it('patches an edited record in place', async () => {
    const { list } = pager(fakeRecords(10));
    const l = createRecordList(list);
    await l.reload();
    const r = { ...l.row(get(l), 3)!, quantity: 999 } as Record;
    l.patch(r);
    expect(l.row(get(l), 3)?.quantity).toBe(999);
  });

  it('turns the filter bar into the call: trimmed, dates as a half-open range', () => {
    const f = toFilter({ line: ' L1 ', product: '', operator: 'op ', from: '2026-01-02', to: '2026-01-02' }, 'created_at', true, 0, 200);
    expect(f.lineId).toBe('L1');
    expect(f.operatorId).toBe('op');
    expect(f.to! - f.from!).toBe(24 * 3600 * 1000);
  });
});

describe('lines store', () => {
  it('sorts by line (numeric aware) and lists distinct line ids', async () => {
    const l = createLines(() =>
      Promise.resolve([
        { id: '1', lineId: 'L10', recipe: 'a' },
        { id: '2', lineId: 'L2', recipe: 'b' },
        { id: '3', lineId: 'L2', recipe: 'a' },
      ] as never),
    );
    await l.load();
    expect(get(l).items.map((c) => c.id)).toEqual(['3', '2', '1']);
    expect(get(l.lineIds)).toEqual(['L2', 'L10']);
  });
});
