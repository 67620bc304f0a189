// Review of fd178eb: the conflicts screen says a queued decision waits
// because "headquarters cannot be reached from this site" from
// headquartersDown alone, which looks neither at whether this terminal is
// online nor whether it is still enrolled. The Go side keeps the hub's last
// word (Status.Upstream {up: false}) when the terminal goes offline, is
// moved to headquarters or is disconnected (review_hubstatus_test.go); the
// status bar's label checks online/enrolled, the conflicts screen does not.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import ConflictsScreen from './ConflictsScreen.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { syncStatusOf } from '../../test/syncFixtures';
import { syncStatus } from '../../stores/sync';
import type { SyncStatus } from '../../lib/api';

const row = { id: 'r1', line_id: 'L1', product_id: 'P-100', quantity: 5, operator_id: 'B-1', deleted_at: null };
const conflict = (over: object = {}) => ({
  id: 'c1',
  table: 'production_records',
  rowId: 'r1',
  status: 'open',
  base: row,
  mine: { ...row, quantity: 7 },
  theirs: { ...row, quantity: 9, operator_id: 'B-2' },
  winner: '',
  fields: ['quantity'],
  deviceId: 'aaaabbbbccccdddd',
  createdAt: 1_700_000_000_000,
  resolvedAt: 0,
  resolvedBy: '',
  resolvedByPerson: '',
  resolvedByName: '',
  mineBy: 'B-1',
  mineByName: 'Ana Lima',
  reason: '',
  theirsVersion: 3,
  decision: 'queued',
  decisionError: '',
  staleRow: null,
  staleVersion: 0,
  ...over,
});

afterEach(() => {
  cleanup();
  removeBackend();
  syncStatus.set(syncStatusOf());
});

describe('review: why a decision waits, when the hub itself is not reached', () => {
  it('an offline terminal (the hub not reached) says the usual words, not a stale "headquarters cannot be reached from this site"', async () => {
    // The hub said its link was down at the last sync that worked; then
    // this terminal lost the hub (offline). Whatever headquarters does, the
    // decision waits for this terminal's link to the hub.
    syncStatus.set(
      syncStatusOf({
        role: 'manager',
        openConflicts: 1,
        online: false,
        lastError: 'server unreachable',
        headquarters: { up: false, lastSync: 1, waiting: 0 },
      } as unknown as Partial<SyncStatus>),
    );
    installBackend({ ConflictService: { List: () => Promise.resolve([conflict()]) } });
    render(ConflictsScreen);
    const queued = await screen.findByTestId('queued');
    expect(queued.textContent).toContain('sent when the server can be reached');
    expect(queued.textContent).not.toContain('Headquarters');
  });
});
