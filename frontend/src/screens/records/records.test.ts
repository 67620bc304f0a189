import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/svelte';
import RecordTable from './RecordTable.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { recordList } from '../../stores/records';
import { siteData as siteStore } from '../../stores/site';
import { product, siteData } from '../../test/siteFixtures';
import { setLocale } from '../../i18n';

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

describe('products by name and unit (issue 20: the list showed codes only)', () => {
  afterEach(() => setLocale('en'));

  it('shows "P-300 · Flour" and the quantity in the product’s unit, in the locale’s numbers', async () => {
    const r = { ...rec('a', 'B-1', ''), productId: 'P-300', quantity: 1250 };
    const old = { ...rec('b', 'B-1', ''), productId: 'P-OLD', quantity: 3 };
    const unknown = { ...rec('c', 'B-1', ''), productId: 'P-999', quantity: 7 };
    installBackend({
      SiteService: {
        Get: () =>
          Promise.resolve(
            siteData({
              products: [product('P-300', { name: 'Flour', unit: 'kg' }), product('P-OLD', { name: 'Old clip', active: false })],
            }),
          ),
      },
      RecordService: { List: () => Promise.resolve({ records: [r, old, unknown], total: 3, offset: 0 }) },
    });
    await siteStore.load();
    await recordList.reload();
    render(RecordTable, { onedit: () => {}, ondelete: () => {} });
    const rows = await screen.findAllByRole('row');
    const cells = (id: string) =>
      [...rows.find((x) => x.id === id)!.querySelectorAll('[role="gridcell"]')].map((c) => c.textContent!.replace(/\s+/g, ' ').trim());
    const flour = rows.find((x) => x.id === 'rec-row-0')!;
    expect(cells('rec-row-0')[2]).toBe('P-300 · Flour');
    expect(cells('rec-row-0')[4]).toBe('1,250 kg');
    // The code stays its own text (what a scanner reads and a filter matches).
    expect(within(flour).getByText('P-300').classList.contains('mono')).toBe(true);
    expect(flour.querySelector('.c-product')?.getAttribute('title')).toBe('P-300 · Flour');
    // A retired product still has its name; a code the site does not know stays a code.
    expect(cells('rec-row-1')[2]).toBe('P-OLD · Old clip');
    expect(cells('rec-row-1')[4]).toBe('3 pcs');
    expect(cells('rec-row-2')[2]).toBe('P-999');
    expect(cells('rec-row-2')[4]).toBe('7');
    // Numbers as the language writes them.
    setLocale('de');
    await vi.waitFor(() => expect(cells('rec-row-0')[4]).toBe('1.250 kg'));
  });
});
