import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/svelte';
import RecordTable from './RecordTable.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { recordList } from '../../stores/records';

afterEach(() => {
  cleanup();
  removeBackend();
});

const rec = (id: string, operatorId: string, operatorName: string, pending = false) => ({
  id,
  lineId: 'L1',
  productId: 'P-100',
  quantity: 5,
  operatorId,
  operatorName,
  createdAt: 1,
  updatedAt: 1,
  pending,
});

describe('RecordTable', () => {
  it('shows the operator’s name with the badge id beside it, or the id alone when unknown', async () => {
    installBackend({
      RecordService: {
        List: () => Promise.resolve({ records: [rec('a', 'B-1', 'Ana Lima'), rec('b', 'op-7', '')], total: 2, offset: 0 }),
      },
    });
    await recordList.reload();
    render(RecordTable, { onedit: () => {}, ondelete: () => {} });
    const rows = await screen.findAllByRole('row');
    const named = rows.find((r) => r.id === 'rec-row-0')!;
    const cell = within(named).getByText('Ana Lima').closest('[role="gridcell"]')!;
    expect(cell.textContent?.replace(/\s+/g, ' ').trim()).toBe('Ana Lima B-1');
    expect(cell.getAttribute('title')).toBe('Ana Lima · badge B-1');
    const plain = rows.find((r) => r.id === 'rec-row-1')!;
    expect(within(plain).getByText('op-7')).toBeTruthy();
  });
});

describe('pending and synced rows (issue 20 item 7)', () => {
  it('differ by an icon and words, not a dot colour alone', async () => {
    installBackend({
      RecordService: {
        List: () => Promise.resolve({ records: [rec('a', 'B-1', '', true), rec('b', 'B-1', '', false)], total: 2, offset: 0 }),
      },
    });
    await recordList.reload();
    render(RecordTable, { onedit: () => {}, ondelete: () => {} });
    const rows = await screen.findAllByRole('row');
    const pending = rows.find((r) => r.id === 'rec-row-0')!;
    const synced = rows.find((r) => r.id === 'rec-row-1')!;
    expect(within(pending).getByTestId('row-pending').textContent).toContain('Not yet synced');
    expect(within(synced).getByTestId('row-synced').textContent).toContain('Synced');
    expect(pending.querySelector('svg path')?.getAttribute('d')).not.toBe(synced.querySelector('svg path')?.getAttribute('d'));
    // The header row is inside the grid (axe aria-required-parent).
    expect(screen.getByRole('grid').querySelector('[role="columnheader"]')).toBeTruthy();
  });
});
