import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { get } from 'svelte/store';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import EntryForm from './records/EntryForm.svelte';
import LineConfigForm from './lines/LineConfigForm.svelte';
import FailureScreen from './status/FailureScreen.svelte';
import { installBackend, removeBackend } from '../test/fakeBackend';
import { setLocale } from '../i18n';
import { prefs } from '../stores/prefs';
import { session, noSession } from '../stores/session';
import { siteData as siteStore } from '../stores/site';
import { siteData } from '../test/siteFixtures';

const noop = () => {};

beforeEach(() => {
  localStorage.clear();
  prefs.set({ theme: 'dark', lastLine: '', lastOperator: '', setupSkipped: false, dashboardShifts: '', scanSoundOff: false });
});
afterEach(() => {
  cleanup();
  removeBackend();
  session.set(noSession);
});

describe('EntryForm', () => {
  it('shows a sentence next to each empty field on save', async () => {
    render(EntryForm, { onsaved: noop, oncancel: noop, ondelete: noop });
    await fireEvent.click(screen.getByTestId('save-record'));
    expect(screen.getByTestId('error-f-line').textContent).toBe('Line is required.');
    expect(screen.getByTestId('error-f-product').textContent).toBe('Product is required.');
    expect(screen.getByTestId('error-f-quantity').textContent).toBe('Quantity is required.');
    expect(screen.getByLabelText('Line').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText('Line').getAttribute('aria-describedby')).toBe('f-line-error');
  });

  it('Enter after a scan moves to the next empty field, then saves', async () => {
    const create = vi.fn((r: unknown) => Promise.resolve({ id: 'n1', createdAt: 1, updatedAt: 1, pending: true, ...(r as object) }));
    installBackend({ RecordService: { Create: create } });
    prefs.remember('L3', 'op-7');
    const onsaved = vi.fn();
    render(EntryForm, { onsaved, oncancel: noop, ondelete: noop });
    // A fresh form with a remembered line and operator waits on Product.
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('f-product'));
    const product = screen.getByLabelText('Product') as HTMLInputElement;
    await fireEvent.input(product, { target: { value: 'P-100' } });
    await fireEvent.keyDown(product, { key: 'Enter' });
    expect(document.activeElement?.id).toBe('f-quantity');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(create).not.toHaveBeenCalled();
    const qty = screen.getByLabelText('Quantity') as HTMLInputElement;
    await fireEvent.input(qty, { target: { value: '12' } });
    await fireEvent.keyDown(qty, { key: 'Enter' });
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalled());
    expect(create).toHaveBeenCalledWith({ lineId: 'L3', productId: 'P-100', operatorId: 'op-7', quantity: 12 });
    // Ready for the next scan: line and operator kept, product and quantity cleared.
    expect((screen.getByLabelText('Line') as HTMLInputElement).value).toBe('L3');
    expect(product.value).toBe('');
    expect(qty.value).toBe('');
  });

  it('puts the store’s validation error next to its field', async () => {
    installBackend({
      RecordService: {
        Create: () =>
          Promise.reject({ code: 'too_long', message: 'Operator is 200 characters long; the limit is 128.', field: 'operator_id' }),
      },
    });
    render(EntryForm, { onsaved: noop, oncancel: noop, ondelete: noop });
    await fireEvent.input(screen.getByLabelText('Line'), { target: { value: 'L1' } });
    await fireEvent.input(screen.getByLabelText('Product'), { target: { value: 'P' } });
    await fireEvent.input(screen.getByLabelText('Operator'), { target: { value: 'op' } });
    await fireEvent.input(screen.getByLabelText('Quantity'), { target: { value: '1' } });
    await fireEvent.click(screen.getByTestId('save-record'));
    await vi.waitFor(() => expect(screen.getByTestId('error-f-operator').textContent).toMatch(/limit is 128/));
  });

  it('steps the quantity with the big buttons and the keyboard', async () => {
    render(EntryForm, { onsaved: noop, oncancel: noop, ondelete: noop });
    const qty = screen.getByLabelText('Quantity') as HTMLInputElement;
    await fireEvent.click(screen.getByLabelText('Increase by 1'));
    await fireEvent.click(screen.getByText('+50'));
    expect(qty.value).toBe('51');
    await fireEvent.keyDown(qty, { key: 'PageDown' });
    expect(qty.value).toBe('41');
    await fireEvent.click(screen.getByLabelText('Decrease by 1'));
    expect(qty.value).toBe('40');
  });
});

describe('EntryForm with site data and people', () => {
  const ana = { badgeId: 'B-1', displayName: 'Ana Lima', role: 'operator', needsPin: false };

  it('takes the operator from the signed-in person, read-only', async () => {
    const create = vi.fn((r: unknown) =>
      Promise.resolve({ id: 'n1', createdAt: 1, updatedAt: 1, pending: true, operatorName: 'Ana Lima', ...(r as object) }),
    );
    installBackend({ RecordService: { Create: create } });
    prefs.remember('L1', 'typed-before');
    session.set({ ...noSession, required: true, signedIn: true, person: ana });
    const onsaved = vi.fn();
    render(EntryForm, { onsaved, oncancel: noop, ondelete: noop });
    const op = screen.getByLabelText('Operator') as HTMLInputElement;
    expect(op.readOnly).toBe(true);
    expect(op.value).toBe('Ana Lima');
    expect(screen.getByText('Badge B-1 · signed in')).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('Product'), { target: { value: 'P-100' } });
    await fireEvent.input(screen.getByLabelText('Quantity'), { target: { value: '5' } });
    await fireEvent.click(screen.getByTestId('save-record'));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalled());
    expect(create).toHaveBeenCalledWith({ lineId: 'L1', productId: 'P-100', operatorId: 'B-1', quantity: 5 });
    // The typed operator of before sign-in is kept for when the site has no people.
    expect(get(prefs).lastOperator).toBe('typed-before');
  });

  it('offers the active codes and shows the Go sentence for an unknown product next to the field', async () => {
    installBackend({
      SiteService: { Get: () => Promise.resolve(siteData()) },
      RecordService: {
        Create: () =>
          Promise.reject({ code: 'unknown_code', field: 'product_id', message: 'Product "P9" is not in this site\'s list of products.' }),
      },
    });
    await siteStore.load();
    session.set({ ...noSession, required: true, signedIn: true, person: ana });
    render(EntryForm, { onsaved: noop, oncancel: noop, ondelete: noop });
    const product = screen.getByLabelText('Product') as HTMLInputElement;
    // Suggestions while typing (issue 20: no <datalist>; records/suggest.test.ts).
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('f-line'));
    const offered = () => screen.queryAllByRole('option').map((o) => o.querySelector('.code')?.textContent);
    await fireEvent.input(screen.getByLabelText('Line'), { target: { value: 'L' } });
    expect(offered()).toEqual(['L1', 'L2', 'L10']);
    product.focus();
    await fireEvent.input(product, { target: { value: 'P' } });
    expect(offered()).toEqual(['P-100']); // inactive P-OLD not offered
    await fireEvent.input(screen.getByLabelText('Line'), { target: { value: 'L2' } });
    expect(document.getElementById('f-line-hint')?.textContent).toBe('Line L2'); // the line's name as a hint
    await fireEvent.input(product, { target: { value: 'P9' } });
    await fireEvent.input(screen.getByLabelText('Quantity'), { target: { value: '3' } });
    await fireEvent.click(screen.getByTestId('save-record'));
    await vi.waitFor(() =>
      expect(screen.getByTestId('error-f-product').textContent).toBe('Product "P9" is not in this site\'s list of products.'),
    );
    expect(product.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(product);
  });
});

describe('LineConfigForm', () => {
  it('validates fields on leaving them, next to the field', async () => {
    render(LineConfigForm, { config: null, onsaved: noop, oncancel: noop, ondelete: noop });
    const speed = screen.getByLabelText('Speed (rpm)');
    await fireEvent.input(speed, { target: { value: '12.5' } });
    await fireEvent.blur(speed);
    expect(screen.getByTestId('error-lc-speed').textContent).toBe('Speed must be a whole number.');
    await fireEvent.input(speed, { target: { value: '1200' } });
    await fireEvent.blur(speed);
    expect(screen.queryByTestId('error-lc-speed')).toBeNull();
  });

  it('sends optional blanks as absent and numbers as numbers', async () => {
    const create = vi.fn((c: unknown) => Promise.resolve({ id: 'c1', createdAt: 1, updatedAt: 1, pending: true, ...(c as object) }));
    installBackend({ LineConfigService: { Create: create } });
    const onsaved = vi.fn();
    render(LineConfigForm, { config: null, onsaved, oncancel: noop, ondelete: noop });
    await fireEvent.input(screen.getByLabelText('Line'), { target: { value: 'L4' } });
    await fireEvent.input(screen.getByLabelText('Recipe'), { target: { value: 'R-9' } });
    await fireEvent.input(screen.getByLabelText('Temperature (°C)'), { target: { value: '180,5' } });
    await fireEvent.click(screen.getByTestId('save-line'));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalled());
    expect(create.mock.calls[0][0]).toEqual({ lineId: 'L4', recipe: 'R-9', temperatureC: 180.5 });
  });
});

describe('FailureScreen', () => {
  it('says what is wrong and what to do', () => {
    render(FailureScreen, {
      failure: { code: 'key_missing', title: 'The database key is missing', message: 'Call IT.', detail: 'database key missing: …' },
    });
    expect(screen.getByRole('heading').textContent).toBe('The database key is missing');
    expect(screen.getByTestId('failure-message').textContent).toBe('Call IT.');
    expect(screen.getByText(/has not been changed/)).toBeTruthy();
  });

  it('says it in the terminal’s language, from the failure’s code', () => {
    setLocale('de');
    try {
      render(FailureScreen, {
        failure: { code: 'key_missing', title: 'The database key is missing', message: 'Call IT.', detail: 'database key missing: …' },
      });
      expect(screen.getByRole('heading').textContent).toBe('Der Datenbankschlüssel fehlt');
      expect(screen.getByTestId('failure-message').textContent).toMatch(/Schlüsselbund/);
    } finally {
      setLocale(null);
    }
  });
});
