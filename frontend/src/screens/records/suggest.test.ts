// The entry form's product suggestions (issue 20): in the real window
// (WebKitGTK) a <datalist> dropped a list of bare codes over the Operator
// field as soon as Product got the focus. Now nothing drops down on focus
// (the operator is about to scan); typing shows "P-300 · Flour" matches by
// code or name, in the form's flow (the fields below move down, none is
// covered), and a suggestion is taken only by a tap or ↓ then Enter: a
// scanner's Enter never picks one, so a scan cannot become another product.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import EntryForm from './EntryForm.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { siteData as siteStore } from '../../stores/site';
import { line, product, siteData } from '../../test/siteFixtures';
import { suggestCodes } from './suggest';

const noop = () => {};
const products = [
  product('P-300', { name: 'Flour', unit: 'kg' }),
  product('P-310', { name: 'Sugar', unit: 'kg' }),
  product('P-100', { name: 'Bracket 40 mm' }),
  product('P-OLD', { name: 'Old flour', active: false }),
];

afterEach(() => {
  cleanup();
  removeBackend();
});

async function setup() {
  const create = vi.fn((r: unknown) => Promise.resolve({ id: 'n1', createdAt: 1, updatedAt: 1, pending: true, ...(r as object) }));
  installBackend({
    SiteService: { Get: () => Promise.resolve(siteData({ products, lines: [line('L1', { name: 'Mixing' })] })) },
    RecordService: { Create: create },
  });
  await siteStore.load();
  render(EntryForm, { onsaved: noop, oncancel: noop, ondelete: noop });
  // The form puts the focus in its first empty field when it opens.
  await vi.waitFor(() => expect(document.activeElement?.id).toBe('f-line'));
  return { create, product: screen.getByLabelText('Product') as HTMLInputElement };
}

const type = (el: HTMLElement, value: string) => fireEvent.input(el, { target: { value } });
const options = () => screen.queryAllByRole('option').map((o) => o.textContent?.replace(/\s+/g, ' ').trim());

describe('suggestCodes', () => {
  const opts = [
    { code: 'P-300', name: 'Flour' },
    { code: 'P-310', name: 'Sugar' },
    { code: 'P-100', name: 'Bracket 40 mm' },
  ];
  it('matches codes by prefix first, then codes and names containing the text, any case', () => {
    expect(suggestCodes(opts, 'p-3').map((o) => o.code)).toEqual(['P-300', 'P-310']);
    expect(suggestCodes(opts, 'FLO').map((o) => o.code)).toEqual(['P-300']);
    expect(suggestCodes(opts, '0').map((o) => o.code)).toEqual(['P-300', 'P-310', 'P-100']);
    expect(suggestCodes(opts, '40').map((o) => o.code)).toEqual(['P-100']);
  });
  it('offers nothing for an empty field or a code typed (or scanned) whole', () => {
    expect(suggestCodes(opts, '')).toEqual([]);
    expect(suggestCodes(opts, '  ')).toEqual([]);
    expect(suggestCodes(opts, 'P-300')).toEqual([]);
  });
  it('offers at most max', () => {
    expect(suggestCodes(opts, 'p', 2)).toHaveLength(2);
  });
});

describe('the product field’s suggestions', () => {
  it('uses no <datalist> and shows nothing when Product gets the focus', async () => {
    const { product } = await setup();
    product.focus();
    await fireEvent.focus(product);
    expect(document.querySelector('datalist')).toBeNull();
    expect(product.hasAttribute('list')).toBe(false);
    expect(screen.queryByRole('listbox')).toBeNull();
    expect(product.getAttribute('aria-expanded')).toBe('false');
  });

  it('shows names beside codes while typing, found by name too, active products only', async () => {
    const { product } = await setup();
    product.focus();
    await type(product, 'flo');
    expect(options()).toEqual(['P-300 · Flour']);
    await type(product, 'P-3');
    expect(options()).toEqual(['P-300 · Flour', 'P-310 · Sugar']);
    expect(product.getAttribute('aria-expanded')).toBe('true');
    // In the form's flow, before Operator: it moves the next field down instead of covering it.
    const list = screen.getByRole('listbox');
    const operator = screen.getByLabelText('Operator');
    expect(list.compareDocumentPosition(operator) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(list.closest('form')).toBe(product.closest('form'));
    // A code typed whole: the list goes, the name is the hint below.
    await type(product, 'P-300');
    expect(screen.queryByRole('listbox')).toBeNull();
    expect(screen.getByText('Flour')).toBeTruthy();
  });

  it('a tap takes the code and moves on to the next empty field', async () => {
    const { product } = await setup();
    product.focus();
    await type(screen.getByLabelText('Line'), 'L1');
    product.focus();
    await type(product, 'sug');
    await fireEvent.click(within(screen.getByRole('listbox')).getByText('Sugar'));
    expect(product.value).toBe('P-310');
    expect(screen.queryByRole('listbox')).toBeNull();
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('f-operator'));
  });

  it('↓ then Enter takes a suggestion; a scanner’s Enter never does', async () => {
    const { product, create } = await setup();
    await type(screen.getByLabelText('Line'), 'L1');
    product.focus();
    await type(product, 'P-3');
    await fireEvent.keyDown(product, { key: 'Enter' });
    // The scan's Enter: the text stays what was scanned, and nothing is saved.
    expect(product.value).toBe('P-3');
    expect(create).not.toHaveBeenCalled();

    product.focus();
    await type(product, 'P-3');
    await fireEvent.keyDown(product, { key: 'ArrowDown' });
    await fireEvent.keyDown(product, { key: 'ArrowDown' });
    const active = product.getAttribute('aria-activedescendant');
    expect(document.getElementById(active!)?.textContent).toContain('Sugar');
    await fireEvent.keyDown(product, { key: 'Enter' });
    expect(product.value).toBe('P-310');
    expect(screen.queryByRole('listbox')).toBeNull();
    expect(create).not.toHaveBeenCalled();
  });

  it('Escape closes the list first and keeps the text', async () => {
    const { product } = await setup();
    product.focus();
    await type(product, 'P-3');
    await fireEvent.keyDown(product, { key: 'Escape' });
    expect(screen.queryByRole('listbox')).toBeNull();
    expect(product.value).toBe('P-3');
  });
});

describe('the line field’s suggestions', () => {
  it('show the line’s name beside its code, and no <datalist> over Product', async () => {
    await setup();
    const lineField = screen.getByLabelText('Line') as HTMLInputElement;
    await type(lineField, 'mix');
    expect(options()).toEqual(['L1 · Mixing']);
    await fireEvent.keyDown(lineField, { key: 'ArrowDown' });
    await fireEvent.keyDown(lineField, { key: 'Enter' });
    expect(lineField.value).toBe('L1');
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('f-product'));
    expect(screen.queryByRole('listbox')).toBeNull();
  });
});
