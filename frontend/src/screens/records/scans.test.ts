// Scans cannot write wrong data (issue 20, item 2): an existing record opens
// read-only until an explicit Edit, and a quantity that looks like a barcode
// is refused, one above the plausible maximum needs a click to confirm.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import EntryForm from './EntryForm.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import type { Record } from '../../lib/api';
import { get } from 'svelte/store';
import SignInScreen from '../signin/SignInScreen.svelte';
import { createSignInFlow, noSession, session } from '../../stores/session';
import { siteData as siteStore } from '../../stores/site';
import { switchBadge } from '../../stores/badgeswitch';
import { siteData } from '../../test/siteFixtures';

const noop = () => {};
const rec = {
  id: 'r1',
  lineId: 'L1',
  productId: 'P-100',
  operatorId: 'op-7',
  quantity: 40,
  createdAt: 1,
  updatedAt: 1,
  pending: false,
} as unknown as Record;

afterEach(() => {
  cleanup();
  removeBackend();
});

function type(el: HTMLElement, value: string) {
  return fireEvent.input(el, { target: { value } });
}

describe('EntryForm and scans', () => {
  it('opens an existing record read-only: a scan and Enter change nothing until Edit', async () => {
    const update = vi.fn((id: unknown, r: unknown) => Promise.resolve({ ...rec, ...(r as object), id: id as string }));
    installBackend({ RecordService: { Update: update } });
    const onsaved = vi.fn();
    render(EntryForm, { editing: rec, onsaved, oncancel: noop, ondelete: noop });
    const qty = screen.getByLabelText('Quantity') as HTMLInputElement;
    await new Promise((r) => setTimeout(r, 20));
    expect(document.activeElement).not.toBe(qty);
    for (const label of ['Line', 'Product', 'Operator', 'Quantity']) {
      expect((screen.getByLabelText(label) as HTMLInputElement).readOnly, label).toBe(true);
    }
    expect(screen.queryByTestId('save-record')).toBeNull();
    await fireEvent.keyDown(qty, { key: 'Enter' });
    expect(update).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByTestId('edit-record'));
    await vi.waitFor(() => expect(document.activeElement).toBe(qty));
    expect(qty.readOnly).toBe(false);
    await type(qty, '45');
    await fireEvent.keyDown(qty, { key: 'Enter' });
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalled());
    expect(update).toHaveBeenCalledWith('r1', { lineId: 'L1', productId: 'P-100', operatorId: 'op-7', quantity: 45 });
  });

  it('Alt+E is the keyboard Edit, from anywhere (the tapped row keeps the focus)', async () => {
    render(EntryForm, { editing: rec, onsaved: noop, oncancel: noop, ondelete: noop });
    expect((screen.getByLabelText('Quantity') as HTMLInputElement).readOnly).toBe(true);
    await fireEvent.keyDown(window, { key: 'e', altKey: true });
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('f-quantity'));
    expect((screen.getByLabelText('Quantity') as HTMLInputElement).readOnly).toBe(false);
  });

  it('refuses a quantity that looks like a scanned barcode', async () => {
    const create = vi.fn();
    installBackend({ RecordService: { Create: create } });
    render(EntryForm, { onsaved: noop, oncancel: noop, ondelete: noop });
    await type(screen.getByLabelText('Line'), 'L1');
    await type(screen.getByLabelText('Product'), 'P-300');
    await type(screen.getByLabelText('Operator'), 'op-7');
    const qty = screen.getByLabelText('Quantity') as HTMLInputElement;
    await type(qty, '40063813');
    await fireEvent.keyDown(qty, { key: 'Enter' });
    await fireEvent.keyDown(qty, { key: 'Enter' });
    expect(screen.getByTestId('error-f-quantity').textContent).toBe(
      '40063813 looks like a scanned barcode, not a quantity. Type the quantity.',
    );
    expect(create).not.toHaveBeenCalled();
    expect(screen.queryByTestId('confirm-quantity')).toBeNull();
  });

  it('a quantity above the plausible maximum needs a click to confirm; Enter does not confirm', async () => {
    const create = vi.fn((r: unknown) => Promise.resolve({ ...rec, ...(r as object), id: 'n1' }));
    installBackend({ RecordService: { Create: create } });
    const onsaved = vi.fn();
    render(EntryForm, { onsaved, oncancel: noop, ondelete: noop });
    await type(screen.getByLabelText('Line'), 'L1');
    await type(screen.getByLabelText('Product'), 'P-300');
    await type(screen.getByLabelText('Operator'), 'op-7');
    const qty = screen.getByLabelText('Quantity') as HTMLInputElement;
    await type(qty, '25000');
    await fireEvent.keyDown(qty, { key: 'Enter' });
    await fireEvent.keyDown(qty, { key: 'Enter' });
    expect(screen.getByTestId('error-f-quantity').textContent).toBe(
      '25,000 is more than the usual maximum of 10,000. Check it; if it is right, press “Save 25,000”.',
    );
    expect(create).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('confirm-quantity'));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalled());
    expect(create).toHaveBeenCalledWith({ lineId: 'L1', productId: 'P-300', operatorId: 'op-7', quantity: 25000 });
  });
});

describe('a badge scanned while someone is signed in', () => {
  it('switches operator instead of landing in Product', async () => {
    const create = vi.fn();
    const signOut = vi.fn(() => Promise.resolve({ ...noSession, required: true }));
    installBackend({
      SiteService: { Get: () => Promise.resolve(siteData()) },
      RecordService: { Create: create },
      SessionService: { SignOut: signOut },
    });
    await siteStore.load();
    session.set({
      ...noSession,
      required: true,
      signedIn: true,
      person: { badgeId: 'B-1', displayName: 'Ana Lima', role: 'operator', needsPin: false },
    });
    render(EntryForm, { onsaved: noop, oncancel: noop, ondelete: noop });
    await type(screen.getByLabelText('Line'), 'L1');
    const product = screen.getByLabelText('Product') as HTMLInputElement;
    product.focus();
    await type(product, 'B-9');
    await fireEvent.keyDown(product, { key: 'Enter' });
    await vi.waitFor(() => expect(signOut).toHaveBeenCalled());
    expect(get(switchBadge)).toBe('B-9');
    expect(product.value).toBe('');
    expect(create).not.toHaveBeenCalled();
    session.set(noSession);
    switchBadge.set('');
  });

  it('the sign-in screen takes the switched-to badge at once', async () => {
    const identify = vi.fn(() => new Promise<never>(() => {}));
    switchBadge.set('B-9');
    render(SignInScreen, { flow: createSignInFlow({ people: () => Promise.resolve([]), identify, signIn: vi.fn() } as never, noop) });
    await vi.waitFor(() => expect(identify).toHaveBeenCalledWith('B-9'));
    expect(get(switchBadge)).toBe('');
  });
});

describe('a product with a unit and a plausible range (issue 20)', () => {
  it('shows the unit beside Quantity and asks to confirm a quantity outside the range, with a refusal flash', async () => {
    const create = vi.fn((r: unknown) => Promise.resolve({ ...rec, ...(r as object), id: 'n2' }));
    const flour = { ...siteData().products[0], id: 'p3', code: 'P-300', name: 'Flour', unit: 'kg', minQuantity: 5, maxQuantity: 500 };
    installBackend({ SiteService: { Get: () => Promise.resolve(siteData({ products: [flour] })) }, RecordService: { Create: create } });
    await siteStore.load();
    const seen: string[] = [];
    const listen = (e: Event) => seen.push((e as CustomEvent).detail.kind);
    window.addEventListener('outpost:feedback', listen);
    const onsaved = vi.fn();
    render(EntryForm, { onsaved, oncancel: noop, ondelete: noop });
    await type(screen.getByLabelText('Line'), 'L1');
    await type(screen.getByLabelText('Product'), 'P-300');
    await type(screen.getByLabelText('Operator'), 'op-7');
    expect(screen.getByTestId('f-quantity-unit').textContent).toBe('in kg');
    const qty = screen.getByLabelText('Quantity') as HTMLInputElement;
    await type(qty, '900');
    await fireEvent.keyDown(qty, { key: 'Enter' });
    expect(screen.getByTestId('error-f-quantity').textContent).toBe(
      '900 kg is more than the usual maximum of 500 kg for P-300. Check it; if it is right, press “Save 900”.',
    );
    expect(create).not.toHaveBeenCalled();
    await type(qty, '120');
    await fireEvent.keyDown(qty, { key: 'Enter' });
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalled());
    expect(create).toHaveBeenCalledWith({ lineId: 'L1', productId: 'P-300', operatorId: 'op-7', quantity: 120 });
    expect(seen).toEqual(['refuse', 'accept']);
    window.removeEventListener('outpost:feedback', listen);
  });
});
