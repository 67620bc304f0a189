// Review of f52738b (the records list follows data:changed). The Go side
// says "data:changed" once a second while records change (app.WatchData
// polls the rollup's revision every second): during a 100k-row first sync,
// every second of it. Each one reads again every cached page of the
// current query, up to 40 pages of 200 rows (8000 rows and 40 counts of
// the whole query), all at once, while the person looks at one or two
// pages: the sync's writes and the list's reads contend for the local
// database for the whole pull.
import { describe, expect, it, vi } from 'vitest';
import { get } from 'svelte/store';
import { createRecordList } from './records';
import type { Record, RecordFilter, RecordPage } from '../lib/api';

function fakeRecords(n: number): Record[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `id-${i}`,
    lineId: `L${i % 5}`,
    productId: `P-${i}`,
    quantity: i,
    operatorId: 'op',
    createdAt: i,
    updatedAt: i,
    pending: false,
  })) as Record[];
}

describe('review: the records list following data:changed', () => {
  it('reads again the pages in view, not every page the scroll went through', async () => {
    const all = fakeRecords(100_000);
    const calls: Partial<RecordFilter>[] = [];
    const list = (f: Partial<RecordFilter>): Promise<RecordPage> => {
      calls.push(f);
      return Promise.resolve({ records: all.slice(f.offset!, f.offset! + f.limit!), total: all.length, offset: f.offset! } as RecordPage);
    };
    let emit: (() => void) | undefined;
    const l = createRecordList(list, 200, (fn) => {
      emit = () => fn({ rev: 2, from: 0, to: 0 });
      return () => (emit = undefined);
    });
    const stop = l.follow();
    await l.reload();
    // The person scrolls down through 8000 rows, looking at 50 at a time.
    for (let start = 0; start < 8000; start += 50) await l.ensure(start, start + 50);
    expect(get(l).pages.size).toBe(40);
    calls.length = 0;
    // One second of a first sync's pull.
    emit!();
    await vi.waitFor(() => expect(calls.length).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 20));
    const offsets = calls.map((c) => c.offset);
    expect(offsets.length, `one data:changed read ${offsets.length} pages: ${offsets.join(',')}`).toBeLessThanOrEqual(3);
    stop();
  });
});
