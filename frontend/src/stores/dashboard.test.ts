// @vitest-environment node
import { describe, expect, it, vi } from 'vitest';
import { get } from 'svelte/store';
import { createDashboard } from './dashboard';
import type { Dashboard, DataChanged, DashboardQuery } from '../lib/api';

function answer(rev: number, from = 0, to = 100): Dashboard {
  return {
    from,
    to,
    now: 50,
    granularity: 'hour',
    timeZone: 'UTC',
    shifts: [],
    buckets: [],
    totals: [],
    lines: [],
    topProducts: [],
    topOperators: [],
    rev,
  } as unknown as Dashboard;
}

describe('dashboard store', () => {
  it('re-reads only for changes inside the shown range', async () => {
    let rev = 1;
    const get_ = vi.fn<(q: Partial<DashboardQuery>) => Promise<Dashboard>>(async () => answer(rev));
    let emit: (c: DataChanged) => void = () => {};
    const s = createDashboard({ get: get_, changes: async () => ({ rev, from: 0, to: 0 }) as DataChanged }, (fn) => {
      emit = fn;
      return () => {};
    });
    const stop = s.start(1_000_000);
    await s.load();
    expect(get_).toHaveBeenCalledTimes(1);
    rev = 2;
    await s.changed({ rev: 2, from: 200, to: 300 } as DataChanged); // outside
    expect(get_).toHaveBeenCalledTimes(1);
    expect(get(s).data?.rev).toBe(2);
    rev = 3;
    emit({ rev: 3, from: 90, to: 190 } as DataChanged); // inside
    await vi.waitFor(() => expect(get_).toHaveBeenCalledTimes(2));
    expect(get(s).refreshes).toBe(1);
    await s.changed({ rev: 3, from: 0, to: 100 } as DataChanged); // already shown
    expect(get_).toHaveBeenCalledTimes(2);
    stop();
  });

  it('keeps the old numbers while reloading and drops stale answers', async () => {
    const resolvers: ((d: Dashboard) => void)[] = [];
    const s = createDashboard(
      { get: () => new Promise<Dashboard>((r) => resolvers.push(r)), changes: async () => ({ rev: 0, from: 0, to: 0 }) as DataChanged },
      () => () => {},
    );
    const first = s.load();
    resolvers[0](answer(1));
    await first;
    const a = s.setQuery({ preset: '7d' });
    const b = s.setQuery({ preset: 'shift' });
    expect(get(s).data?.rev).toBe(1); // still shown while loading
    expect(get(s).loading).toBe(true);
    resolvers[2](answer(3));
    await b;
    resolvers[1](answer(2)); // the older query answers last
    await a;
    expect(get(s).data?.rev).toBe(3);
    expect(get(s).query.preset).toBe('shift');
  });
});
