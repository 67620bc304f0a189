import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen as dom } from '@testing-library/svelte';
import { get } from 'svelte/store';
import LinesScreen from './LinesScreen.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { lines } from '../../stores/lines';
import { screen } from '../../stores/nav';
import { conflictNav } from '../../lib/conflictnav.svelte';
import { syncStatus } from '../../stores/sync';
import { syncStatusOf } from '../../test/syncFixtures';

const config = (id: string, lineId: string) => ({
  id,
  lineId,
  recipe: 'R',
  targetRatePerHour: 60,
  pending: false,
  syncState: 'clean',
  createdAt: 1,
  updatedAt: 1,
  version: 1,
});

afterEach(() => {
  cleanup();
  removeBackend();
  vi.useRealTimers();
});

describe('LinesScreen (issue 20)', () => {
  it('flags the configuration with an open conflict and leads to it', async () => {
    installBackend({
      LineConfigService: { List: () => Promise.resolve([config('a', 'L1'), config('b', 'L2')]) },
      ConflictService: {
        List: () =>
          Promise.resolve([
            { id: 'c1', table: 'line_configs', rowId: 'b', status: 'open' },
            { id: 'c2', table: 'line_configs', rowId: 'a', status: 'resolved' },
          ]),
      },
    });
    await lines.load();
    render(LinesScreen);
    const flag = await dom.findByTestId('line-conflict');
    expect(flag.closest('li')!.querySelector('[data-testid="line-L2"]')).toBeTruthy();
    expect(dom.getAllByTestId('line-conflict')).toHaveLength(1);
    await fireEvent.click(dom.getByTestId('line-conflict-open'));
    expect(get(screen)).toBe('conflicts');
    expect(conflictNav.wantedRow).toBe('b');
  });

  it('flags a conflict the pull brings once the sync:status says so, without polling (issue 18)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    syncStatus.set(syncStatusOf({ openConflicts: 0, lastSync: 1 }));
    let open: object[] = [];
    const List = vi.fn(() => Promise.resolve(open));
    installBackend({ LineConfigService: { List: () => Promise.resolve([config('a', 'L1')]) }, ConflictService: { List } });
    await lines.load();
    render(LinesScreen);
    await vi.waitFor(() => expect(List).toHaveBeenCalledTimes(1));
    vi.advanceTimersByTime(60_000);
    expect(List).toHaveBeenCalledTimes(1);
    open = [{ id: 'c1', table: 'line_configs', rowId: 'a', status: 'open' }];
    syncStatus.set(syncStatusOf({ openConflicts: 1, lastSync: 2 }));
    expect(await dom.findByTestId('line-conflict')).toBeTruthy();
    expect(List).toHaveBeenCalledTimes(2);
  });
});
