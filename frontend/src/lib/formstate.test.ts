import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import { FormState } from './formstate.svelte';

const fields = {
  ids: { code: 'x-code', name: 'x-name' },
  order: ['code', 'name'],
  aliases: { code: 'code', display_name: 'name' },
};

function inputs() {
  document.body.innerHTML = '<input id="x-code" /><input id="x-name" />';
}

afterEach(() => {
  document.body.innerHTML = '';
});

describe('FormState', () => {
  it('stops at the form’s own checks and focuses the first field in order', async () => {
    inputs();
    const f = new FormState(fields);
    const save = vi.fn(() => Promise.resolve('x'));
    const ok = await f.submit({ check: () => ({ name: 'Name is required.', code: 'Code is required.' }), save });
    expect(ok).toBe(false);
    expect(save).not.toHaveBeenCalled();
    expect(f.errors).toEqual({ name: 'Name is required.', code: 'Code is required.' });
    expect(f.saving).toBe(false);
    expect(document.activeElement?.id).toBe('x-code');
    expect(f.describedBy('code')).toBe('x-code-error');
    expect(f.describedBy('other')).toBeUndefined();
  });

  it('saves once at a time, clears the errors, then hands over the result', async () => {
    const f = new FormState(fields);
    f.errors = { name: 'old' };
    let done!: (v: string) => void;
    const save = vi.fn(() => new Promise<string>((r) => (done = r)));
    const saved = vi.fn((r: string) =>
      expect({ r, errors: { ...f.errors }, saving: f.saving }).toEqual({ r: 'L1', errors: {}, saving: true }),
    );
    const first = f.submit({ check: () => ({}), save, saved });
    expect(f.saving).toBe(true);
    expect(await f.submit({ check: () => ({}), save })).toBe(false);
    expect(save).toHaveBeenCalledTimes(1);
    done('L1');
    expect(await first).toBe(true);
    expect(saved).toHaveBeenCalledWith('L1');
    expect(f.saving).toBe(false);
    expect(f.describedBy('name')).toBeUndefined();
  });

  it('places a refused save beside its field (aliases), calls failed, focuses it', async () => {
    inputs();
    const f = new FormState(fields);
    const failed = vi.fn(() => expect(f.errors).toEqual({ name: 'Name is too long.' }));
    const ok = await f.submit({
      check: () => ({}),
      save: () => Promise.reject(new ApiError('invalid_value', 'Name is too long.', 'display_name')),
      saved: () => {
        throw new Error('not saved');
      },
      failed,
    });
    expect(ok).toBe(false);
    expect(failed).toHaveBeenCalledTimes(1);
    expect(f.saving).toBe(false);
    expect(document.activeElement?.id).toBe('x-name');
  });

  it('an error about no known field goes under "" and moves no focus', async () => {
    inputs();
    const f = new FormState(fields);
    await f.submit({ check: () => ({}), save: () => Promise.reject(new Error('The local database is not open.')) });
    expect(f.errors).toEqual({ '': 'The local database is not open.' });
    expect(document.activeElement).toBe(document.body);
  });
});
