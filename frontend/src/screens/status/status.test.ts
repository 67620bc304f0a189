import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import StatusScreen from './StatusScreen.svelte';
import StatusBar from '../../components/StatusBar.svelte';
import { syncStatus } from '../../stores/sync';
import { syncStatusOf } from '../../test/syncFixtures';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { appStatus as appStatusStore } from '../../stores/status';

const appStatus = {
  version: '1.0.0',
  storeOpen: true,
  encrypted: true,
  cipherVersion: '4.6.1',
  dbPath: '/x',
  keySource: 'Secret Service',
  counts: { records: 0, deletedRecords: 0, lineConfigs: 0, pending: 0 },
  sync: '',
};
const at = new Date(2026, 11, 7, 14, 2).getTime();
const verified = (over: object = {}) =>
  syncStatusOf({
    verify: { at, cursor: 88, tables: { production_records: 1200, lines: 3 }, problem: '', repaired: 0, unresolved: 0, ...over },
  } as never);

afterEach(() => {
  cleanup();
  removeBackend();
});

describe('verification on the Status screen', () => {
  it('shows per table the rows and the time of the last verification', () => {
    syncStatus.set(verified());
    render(StatusScreen, { props: { status: appStatus as never } });
    expect(screen.getByTestId('verification-state').textContent).toBe('Verified with the server at 14:02');
    expect(screen.getByTestId('verified-production_records').textContent).toContain('Production records');
    expect(screen.getByTestId('verified-production_records').textContent).toContain('1,200');
    expect(screen.getByTestId('verified-lines').textContent).toContain('14:02');
  });
  it('says why not when the last sync did not verify', () => {
    syncStatus.set(verified({ problem: 'cannot verify: the sync server does not send checksums (an older version)' }));
    render(StatusScreen, { props: { status: appStatus as never } });
    expect(screen.getByTestId('verification-state').textContent).toBe(
      'Cannot verify: the sync server does not send checksums (an older version)',
    );
  });
});

describe('verification in the status bar', () => {
  it('sits beside the sync state', async () => {
    installBackend({ StatusService: { Get: () => Promise.resolve(appStatus) } });
    await appStatusStore.refresh();
    syncStatus.set(verified({ problem: '3 rows differ; repairing' }));
    render(StatusBar);
    expect(screen.getByTestId('verified').textContent).toBe('3 rows differ; repairing');
  });
});

// Issue 20, item 6: the Sync line said "offline / no server configured" (a
// constant of the Go side) while online.
describe('the Sync line of the Status screen', () => {
  const old = { ...appStatus, sync: 'offline / no server configured' };
  it('says online and names the server when connected', () => {
    syncStatus.set(syncStatusOf({ online: true, serverUrl: 'https://sync.example.com', siteId: 'demo' }));
    render(StatusScreen, { props: { status: old as never } });
    expect(screen.getByTestId('sync-state').textContent).toBe('Online · https://sync.example.com · site demo');
  });
  it('says offline when the server cannot be reached', () => {
    syncStatus.set(syncStatusOf({ online: false }));
    render(StatusScreen, { props: { status: old as never } });
    expect(screen.getByTestId('sync-state').textContent).toBe('Offline · https://sync.example.com · site demo');
  });
  it('says when this computer is not connected to a sync server', () => {
    syncStatus.set(syncStatusOf({ enrolled: false, online: false, serverUrl: '', siteId: '' }));
    render(StatusScreen, { props: { status: old as never } });
    expect(screen.getByTestId('sync-state').textContent).toBe('Not connected to a sync server: work stays on this computer');
  });
});
