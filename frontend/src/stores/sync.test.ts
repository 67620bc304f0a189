// @vitest-environment node
import { get } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSyncStore, ago, progressOf } from './sync';
import type { SyncStatus } from '../lib/api';
import { syncStatusOf } from '../test/syncFixtures';

const status = (over: Partial<SyncStatus> = {}): SyncStatus => syncStatusOf({ siteId: 's', role: 'operator', ...over });

describe('sync store', () => {
  it('takes the polled status, then pushed events', async () => {
    let emit: ((...d: unknown[]) => void) | null = null;
    const s = createSyncStore(
      () => Promise.resolve(status({ pending: 2 })),
      (name, cb) => {
        expect(name).toBe('sync:status');
        emit = cb;
        return () => (emit = null);
      },
    );
    expect(get(s).phase).toBe('loading');
    const stop = s.start(60_000);
    await s.refresh();
    const a = get(s);
    expect(a.phase === 'ready' && a.status.pending).toBe(2);
    emit!(status({ pending: 0, syncing: true }));
    const b = get(s);
    expect(b.phase === 'ready' && b.status.syncing).toBe(true);
    stop();
    expect(emit).toBeNull();
  });

  describe('without polling (issue 18)', () => {
    afterEach(() => vi.useRealTimers());
    const events = () => {
      let emit: (...d: unknown[]) => void = () => {};
      return { on: (_: string, cb: (...d: unknown[]) => void) => ((emit = cb), () => (emit = () => {})), emit: (s: SyncStatus) => emit(s) };
    };

    it('reads once, then follows the events', async () => {
      vi.useFakeTimers();
      const get1 = vi.fn(() => Promise.resolve(status({ pending: 2 })));
      const ev = events();
      const s = createSyncStore(get1, ev.on);
      const stop = s.start();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(get1).toHaveBeenCalledTimes(1);
      ev.emit(status({ pending: 3 }));
      const v = get(s);
      expect(v.phase === 'ready' && v.status.pending).toBe(3);
      stop();
    });

    it('drops an answer older than an event', async () => {
      let answer: (s: SyncStatus) => void = () => {};
      const ev = events();
      const s = createSyncStore(() => new Promise<SyncStatus>((r) => (answer = r)), ev.on);
      const stop = s.start();
      ev.emit(status({ syncing: true }));
      answer(status({ syncing: false }));
      await Promise.resolve();
      await Promise.resolve();
      const v = get(s);
      expect(v.phase === 'ready' && v.status.syncing).toBe(true);
      stop();
    });

    it('reads again while the read fails (nothing announces the store coming up)', async () => {
      vi.useFakeTimers();
      let fail = true;
      const get1 = vi.fn(() =>
        fail ? Promise.reject({ code: 'timeout', message: 'The local database is still opening.' }) : Promise.resolve(status()),
      );
      const s = createSyncStore(get1, events().on);
      const stop = s.start(5000);
      await vi.advanceTimersByTimeAsync(0);
      expect(get(s).phase).toBe('error');
      await vi.advanceTimersByTimeAsync(5000);
      expect(get1).toHaveBeenCalledTimes(2);
      fail = false;
      await vi.advanceTimersByTimeAsync(5000);
      expect(get(s).phase).toBe('ready');
      await vi.advanceTimersByTimeAsync(60_000);
      expect(get1).toHaveBeenCalledTimes(3);
      stop();
    });
  });

  it('holds the error sentence when the backend fails', async () => {
    const s = createSyncStore(() => Promise.reject({ code: 'store_unavailable', message: 'The database is not open.' }));
    await s.refresh();
    const v = get(s);
    expect(v.phase === 'error' && v.error.message).toBe('The database is not open.');
  });
});

describe('ago', () => {
  it.each([
    [0, 'never'],
    [1000, 'just now'],
    [30_000, '30 s ago'],
    [5 * 60_000, '5 min ago'],
    [3 * 3600_000, '3 h ago'],
    [72 * 3600_000, '3 days ago'],
  ])('%d ms ago → %s', (d, want) => {
    const now = 1_800_000_000_000;
    expect(ago(d === 0 ? 0 : now - d, now)).toBe(want);
  });
});

describe('progressOf', () => {
  it('is the pulled share of the announced target while pulling', () => {
    expect(progressOf(status({ syncing: true, progress: { phase: 'pull', pushed: 0, pulled: 500, cursor: 250, target: 1000 } }))).toBe(
      0.25,
    );
    expect(progressOf(status({ syncing: false, progress: { phase: 'pull', pushed: 0, pulled: 5, cursor: 5, target: 10 } }))).toBeNull();
    expect(progressOf(status({ syncing: true, progress: { phase: 'push', pushed: 5, pulled: 0, cursor: 0, target: 10 } }))).toBeNull();
  });
});
