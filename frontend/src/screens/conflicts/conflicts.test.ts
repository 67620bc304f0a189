import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import ConflictsScreen from './ConflictsScreen.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { syncStatus } from '../../stores/sync';
import { session, noSession } from '../../stores/session';
import type { SyncStatus } from '../../lib/api';

const status = (role: string) =>
  ({
    enrolled: true, server_url: 'https://s', site_id: 'demo', role, device_id: 'd', online: true, syncing: false,
    pending: 0, in_flight: 0, awaiting_review: 0, rejected: 0, open_conflicts: 1, last_sync: 1, last_error: '',
    clock_offset_ms: 0, clock_warning: false, progress: { phase: '', pushed: 0, pulled: 0, cursor: 0, target: 0 },
  }) as unknown as SyncStatus;

const row = { id: 'r1', line_id: 'L1', product_id: 'P-100', quantity: 5, operator_id: 'B-1', deleted_at: null };
const conflict = (over: object = {}) => ({
  id: 'c1', table: 'production_records', rowId: 'r1', status: 'open',
  base: row, mine: { ...row, quantity: 7 }, theirs: { ...row, quantity: 9, operator_id: 'B-2' },
  winner: '', fields: ['quantity'], deviceId: 'aaaabbbbccccdddd', createdAt: 1_700_000_000_000,
  resolvedAt: 0, resolvedBy: '', resolvedByPerson: '', resolvedByName: '', mineBy: 'B-1', mineByName: 'Ana Lima',
  reason: '', theirsVersion: 3, decision: '', decisionError: '', staleRow: null, staleVersion: 0, ...over,
});

const max = { badgeId: 'B-9', displayName: 'Max Weber', role: 'manager', needsPin: true };
const ana = { badgeId: 'B-1', displayName: 'Ana Lima', role: 'operator', needsPin: false };

beforeEach(() => syncStatus.set(status('manager')));
afterEach(() => {
  cleanup();
  removeBackend();
  session.set(noSession);
});

describe('ConflictsScreen with people', () => {
  it('names who made the change, who decided, and each version in the history', async () => {
    installBackend({
      ConflictService: {
        List: () => Promise.resolve([conflict({ status: 'resolved', resolvedAt: 1_700_000_100_000, resolvedBy: 'mgr-device-1', resolvedByPerson: 'B-9', resolvedByName: 'Max Weber', reason: 'Counted again' })]),
        History: () =>
          Promise.resolve([
            { version: 1, hlc: '1', device_id: 'aaaabbbbccccdddd', row, byName: 'Ana Lima' },
            { version: 2, hlc: '2', device_id: 'eeeeffff00001111', row: { ...row, quantity: 9 }, byName: '' },
          ]),
      },
    });
    session.set({ ...noSession, required: true, signedIn: true, person: max });
    render(ConflictsScreen);
    expect((await screen.findByTestId('conflict-mine-by')).textContent).toBe('Ana Lima');
    expect(screen.getByTestId('conflict-resolved-by').textContent).toBe('Max Weber');
    expect(screen.getByTestId('conflict-by').textContent).toContain('by Ana Lima');
    expect(screen.getByText('Mine (Ana Lima)')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('history'));
    const by = await screen.findAllByTestId('history-by');
    expect(by.map((b) => b.textContent)).toEqual(['Ana Lima', 'device eeeeffff']);
  });

  it('a manager computer with an operator signed in: the reason beside Resolve, and the Go refusal shown', async () => {
    const resolve = vi.fn(() => Promise.reject({ code: 'forbidden', message: 'Only a manager can resolve conflicts; Ana Lima is signed in as an operator.' }));
    installBackend({ ConflictService: { List: () => Promise.resolve([conflict()]), Resolve: resolve } });
    session.set({ ...noSession, required: true, signedIn: true, person: ana });
    render(ConflictsScreen);
    expect((await screen.findByTestId('resolve-blocked')).textContent).toContain('Signed in as Ana Lima (Operator): only a manager can resolve conflicts.');
    await fireEvent.click(screen.getByRole('button', { name: 'Theirs' })); // take all: theirs
    await fireEvent.input(screen.getByLabelText(/Reason/), { target: { value: 'Counted again' } });
    await fireEvent.click(screen.getByTestId('resolve'));
    await vi.waitFor(() =>
      expect(screen.getByTestId('resolve-notice').textContent).toBe('Only a manager can resolve conflicts; Ana Lima is signed in as an operator.'),
    );
    expect(resolve).toHaveBeenCalled();
  });

  it('no reason shown to a signed-in manager, nor when the site has no people', async () => {
    installBackend({ ConflictService: { List: () => Promise.resolve([conflict()]) } });
    session.set({ ...noSession, required: true, signedIn: true, person: max });
    render(ConflictsScreen);
    await screen.findByTestId('resolve');
    expect(screen.queryByTestId('resolve-blocked')).toBeNull();
    session.set(noSession);
    await Promise.resolve();
    expect(screen.queryByTestId('resolve-blocked')).toBeNull();
  });
});

describe('ConflictsScreen header', () => {
  it('has a space between when it was decided and who decided', async () => {
    installBackend({
      ConflictService: {
        List: () => Promise.resolve([conflict({ status: 'resolved', resolvedAt: 1_700_000_100_000, resolvedBy: 'mgr-device-1', resolvedByName: 'Max Weber' })]),
        History: () => Promise.resolve([]),
      },
    });
    render(ConflictsScreen);
    const by = await screen.findByTestId('conflict-resolved-by');
    const line = by.parentElement!.textContent!.replace(/\s+/g, ' ');
    expect(line).toMatch(/decided \S.* by Max Weber/);
    expect(line).not.toMatch(/\Sby Max Weber/);
  });
});

