// The status bar after reconnecting (issue 20 item 6): "3 changes not
// synced" lingered for seconds after they were sent, until the next 5 s
// poll. While a sync sends them it says so, and the count is read again as
// soon as the sync ends.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import StatusBar from './StatusBar.svelte';
import { installBackend, removeBackend } from '../test/fakeBackend';
import { syncStatusOf } from '../test/syncFixtures';
import { appStatus } from '../stores/status';
import { syncStatus } from '../stores/sync';

afterEach(() => {
  cleanup();
  removeBackend();
});

const status = (pending: number) => ({
  version: '1.0.0',
  storeOpen: true,
  encrypted: true,
  cipherVersion: '4.6.1',
  dbPath: '/x',
  keySource: 'Secret Service',
  counts: { records: 3, deletedRecords: 0, lineConfigs: 0, pending },
  sync: '',
});

describe('StatusBar pending count', () => {
  it('says the changes are being sent, and reads the count again when the sync ends', async () => {
    let pending = 3;
    const get = vi.fn(() => Promise.resolve(status(pending)));
    installBackend({ StatusService: { Get: get } });
    await appStatus.refresh();
    syncStatus.set(syncStatusOf({ online: true, syncing: false, lastSync: 1 }));
    render(StatusBar);
    const item = screen.getByTestId('pending');
    expect(item.textContent?.replace(/\s+/g, ' ').trim()).toBe('3 changes not synced');

    syncStatus.set(syncStatusOf({ online: true, syncing: true, lastSync: 1 }));
    await vi.waitFor(() => expect(item.textContent?.replace(/\s+/g, ' ').trim()).toBe('3 changes being sent…'));

    pending = 0;
    const calls = get.mock.calls.length;
    syncStatus.set(syncStatusOf({ online: true, syncing: false, lastSync: 2 }));
    await vi.waitFor(() => expect(get.mock.calls.length).toBeGreaterThan(calls));
    await vi.waitFor(() => expect(item.textContent?.replace(/\s+/g, ' ').trim()).toBe('0 changes not synced'));
  });
});
