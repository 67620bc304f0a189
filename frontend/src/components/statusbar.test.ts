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

// A terminal on a site hub (docs/hubs.md): the hub answers it, so it is
// online, but headquarters may be cut off for days. The status bar says so,
// with how many of the site's changes wait on the hub; nothing when the
// link is up or the server is headquarters itself (found in the real
// window, .ci/e2e-hub: "Online" beside "sent when the server can be
// reached").
describe('StatusBar on a site hub', () => {
  const hq = () => screen.queryByTestId('headquarters')?.textContent?.replace(/\s+/g, ' ').trim();
  const since = new Date(2026, 10, 3, 14, 2).getTime(); // another day than today

  it('says since when headquarters is cut off and what waits for it', async () => {
    installBackend({ StatusService: { Get: () => Promise.resolve(status(0)) } });
    await appStatus.refresh();
    syncStatus.set(syncStatusOf({ headquarters: { up: false, lastSync: since, waiting: 3 } } as never));
    render(StatusBar);
    const today = Date.now() - 60_000;
    syncStatus.set(syncStatusOf({ headquarters: { up: false, lastSync: today, waiting: 3 } } as never));
    await vi.waitFor(() => expect(hq()).toMatch(/^Headquarters not reached since \d\d:\d\d · 3 changes wait on site$/));
    syncStatus.set(syncStatusOf({ headquarters: { up: false, lastSync: since, waiting: 3 } } as never));
    // Another day: its date too.
    await vi.waitFor(() => expect(hq()).toMatch(/^Headquarters not reached since \S.*\d.*14:02 · 3 changes wait on site$/));
    expect(hq()).not.toMatch(/since 14:02/);
    expect(screen.getByTestId('headquarters').getAttribute('title')).toMatch(/keeps working/);

    syncStatus.set(syncStatusOf({ headquarters: { up: false, lastSync: 0, waiting: 1 } } as never));
    await vi.waitFor(() => expect(hq()).toBe('Headquarters not reached yet · 1 change waits on site'));
  });

  it('says nothing when the link is up, with headquarters itself, or offline', async () => {
    installBackend({ StatusService: { Get: () => Promise.resolve(status(0)) } });
    await appStatus.refresh();
    syncStatus.set(syncStatusOf({ headquarters: { up: true, lastSync: since, waiting: 0 } } as never));
    render(StatusBar);
    await vi.waitFor(() => expect(screen.getByTestId('sync-state')).toBeTruthy());
    expect(hq()).toBeUndefined();
    syncStatus.set(syncStatusOf({}));
    await Promise.resolve();
    expect(hq()).toBeUndefined();
    syncStatus.set(syncStatusOf({ online: false, headquarters: { up: false, lastSync: since, waiting: 2 } } as never));
    await Promise.resolve();
    expect(hq()).toBeUndefined();
  });
});
