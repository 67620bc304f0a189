// Issue 20, item 6: adding a product (or line) whose code exists silently
// renamed the existing one ("Product P-100 added"). Adding refuses it with a
// sentence; editing the open one still saves.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import CodeForm from './CodeForm.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { siteData as siteStore } from '../../stores/site';
import { siteData, product } from '../../test/siteFixtures';

afterEach(() => {
  cleanup();
  removeBackend();
});

async function setup() {
  const saveProduct = vi.fn((p: unknown) => Promise.resolve({ ...product('X'), ...(p as object) }));
  installBackend({ SiteService: { Get: () => Promise.resolve(siteData()), SaveProduct: saveProduct } });
  await siteStore.load();
  return saveProduct;
}

describe('CodeForm', () => {
  it('refuses to add a product whose code exists', async () => {
    const saveProduct = await setup();
    const existing = siteData().products[0];
    const onsaved = vi.fn();
    render(CodeForm, { kind: 'product', canEdit: true, onsaved, oncancel: () => {} });
    await fireEvent.input(screen.getByLabelText('Code'), { target: { value: ` ${existing.code} ` } });
    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'Something else' } });
    await fireEvent.click(screen.getByTestId('site-save'));
    await vi.waitFor(() =>
      expect(screen.getByTestId('error-sd-code').textContent).toBe(
        `Product ${existing.code} already exists (“${existing.name}”). Open it in the list to change it.`,
      ),
    );
    expect(saveProduct).not.toHaveBeenCalled();
    expect(onsaved).not.toHaveBeenCalled();
  });

  it('still saves the product that is open for editing', async () => {
    const saveProduct = await setup();
    const existing = siteData().products[0];
    const onsaved = vi.fn();
    render(CodeForm, { kind: 'product', item: existing, canEdit: true, onsaved, oncancel: () => {} });
    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'Renamed on purpose' } });
    await fireEvent.click(screen.getByTestId('site-save'));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalled());
    expect(saveProduct).toHaveBeenCalled();
  });
});
