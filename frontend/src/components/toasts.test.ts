import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import Toasts from './Toasts.svelte';
import { toasts, toastTimes } from '../stores/toasts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  toasts.clear();
  cleanup();
  vi.useRealTimers();
});

describe('Toasts', () => {
  it('a success leaves by itself after a few seconds; an error stays until dismissed', async () => {
    render(Toasts);
    toasts.success('Product P-400 added.');
    toasts.error('The record was not saved.');
    await tick();
    expect(screen.getByRole('status').textContent).toContain('Product P-400 added.');
    expect(screen.getByRole('alert').textContent).toContain('The record was not saved.');
    vi.advanceTimersByTime(toastTimes.successMs);
    await tick();
    expect(screen.queryByText('Product P-400 added.')).toBeNull();
    vi.advanceTimersByTime(10 * 60_000);
    await tick();
    expect(screen.getByRole('alert').textContent).toContain('The record was not saved.');
    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('an Undo notice runs its action once and goes', async () => {
    render(Toasts);
    const run = vi.fn();
    toasts.info('Deleted: 5 × P-100 on L1.', { label: 'Undo', run });
    await tick();
    await fireEvent.click(screen.getByRole('button', { name: 'Undo' }));
    expect(run).toHaveBeenCalledTimes(1);
    expect(screen.queryByText('Deleted: 5 × P-100 on L1.')).toBeNull();
  });
});
