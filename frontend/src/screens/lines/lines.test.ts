import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen as dom } from '@testing-library/svelte';
import { get } from 'svelte/store';
import LinesScreen from './LinesScreen.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { lines } from '../../stores/lines';
import { screen } from '../../stores/nav';
import { conflictNav } from '../../lib/conflictnav.svelte';

const config = (id: string, lineId: string) => ({ id, lineId, recipe: 'R', targetRatePerHour: 60, pending: false, syncState: 'clean', createdAt: 1, updatedAt: 1, version: 1 });

afterEach(() => {
  cleanup();
  removeBackend();
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
});
