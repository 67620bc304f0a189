import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRawSnippet, flushSync } from 'svelte';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import SiteForm from './SiteForm.svelte';
import { FormState } from '../../lib/formstate.svelte';

afterEach(cleanup);

const fieldsSnippet = createRawSnippet(() => ({ render: () => '<input id="x-name" aria-label="Name" />' }));
const badge = createRawSnippet(() => ({ render: () => '<span data-testid="x-badge">PIN set</span>' }));

function setup(over: Record<string, unknown> = {}) {
  const form = new FormState({ ids: { name: 'x-name' }, order: ['name'], aliases: {} });
  const onsave = vi.fn();
  const oncancel = vi.fn();
  render(SiteForm, {
    form,
    titleId: 'x-title',
    title: 'New thing',
    testid: 'thing-form',
    canEdit: true,
    saveLabel: 'Add thing',
    closeLabel: 'Close',
    onsave,
    oncancel,
    children: fieldsSnippet,
    ...over,
  });
  return { form, onsave, oncancel };
}

describe('SiteForm', () => {
  it('is a form named by its title, with the fields, saving on Enter and cancelling on Escape', async () => {
    const { onsave, oncancel } = setup({ head: badge, changed: { updatedAt: Date.UTC(2025, 0, 2), updatedBy: 'B-1', pending: true } });
    const form = screen.getByRole('form', { name: 'New thing' });
    expect(form.dataset.testid).toBe('thing-form');
    expect(form.hasAttribute('novalidate')).toBe(true);
    expect(form.getAttribute('class')).toBe('site-form card');
    expect(screen.getByTestId('x-badge')).toBeTruthy();
    expect(screen.getByTestId('site-last-changed').textContent).toContain('by B-1');
    expect(screen.getByTestId('site-save').textContent).toBe('Add thing');
    await fireEvent.submit(form);
    expect(onsave).toHaveBeenCalledTimes(1);
    await fireEvent.keyDown(screen.getByLabelText('Name'), { key: 'Escape' });
    expect(oncancel).toHaveBeenCalledTimes(1);
    await fireEvent.click(screen.getByTestId('site-cancel'));
    expect(oncancel).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId('site-cancel').textContent).toBe('Cancel');
  });

  it('shows the form-level error and disables save while saving', async () => {
    const { form } = setup();
    expect(screen.queryByTestId('site-form-error')).toBeNull();
    form.errors = { '': 'The local database is not open.' };
    form.saving = true;
    flushSync();
    expect(screen.getByTestId('site-form-error').textContent).toBe('The local database is not open.');
    expect((screen.getByTestId('site-save') as HTMLButtonElement).disabled).toBe(true);
  });

  it('read-only: the fields are disabled, no save, Enter does nothing, cancel says Close', async () => {
    const { onsave } = setup({ canEdit: false });
    expect((screen.getByLabelText('Name') as HTMLInputElement).closest('fieldset')!.disabled).toBe(true);
    expect(screen.queryByTestId('site-save')).toBeNull();
    await fireEvent.submit(screen.getByRole('form', { name: 'New thing' }));
    expect(onsave).not.toHaveBeenCalled();
    expect(screen.getByTestId('site-cancel').textContent).toBe('Close');
  });

  it('without closeLabel a read-only form has no buttons; cancel can be disabled and renamed', () => {
    setup({ canEdit: false, closeLabel: '' });
    expect(screen.queryByTestId('site-cancel')).toBeNull();
    cleanup();
    setup({ cancelLabel: 'Undo changes', cancelDisabled: true, class: 'settings' });
    const cancel = screen.getByTestId('site-cancel') as HTMLButtonElement;
    expect(cancel.textContent).toBe('Undo changes');
    expect(cancel.disabled).toBe(true);
    expect(screen.getByTestId('thing-form').getAttribute('class')).toBe('site-form card settings');
  });
});
