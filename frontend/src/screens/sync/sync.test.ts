import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { get } from 'svelte/store';
import SetupScreen from './SetupScreen.svelte';
import SyncScreen from './SyncScreen.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { syncStatusOf } from '../../test/syncFixtures';
import { prefs } from '../../stores/prefs';
import { syncSettings, syncStatus } from '../../stores/sync';

const status = (over: object = {}) =>
  syncStatusOf({ enrolled: false, server_url: '', site_id: '', role: '', device_id: '', online: false, ...over });
const settings = (over: object = {}) => ({
  fields: [
    { field: 'server_url', value: 'https://sync.plant1.example.com', source: 'managed', locked: true, secret: false },
    { field: 'enrollment_code', value: '', source: 'default', locked: false, secret: true },
  ],
  configError: '', codeConfigured: false, autoEnrolling: false, autoEnrollError: '', ...over,
});

beforeEach(() => {
  localStorage.clear();
  prefs.set({ theme: 'dark', lastLine: '', lastOperator: '', setupSkipped: false });
});
afterEach(() => {
  cleanup();
  removeBackend();
});

describe('SetupScreen', () => {
  it('pre-fills a server IT manages read-only, and shows a refused code next to its field', async () => {
    const enroll = vi.fn(() => Promise.reject({ code: 'invalid_code', field: 'code', message: 'The enrollment code was not accepted.' }));
    installBackend({ SyncService: { Settings: () => Promise.resolve(settings()), Enroll: enroll } });
    await syncSettings.refresh();
    render(SetupScreen);
    const url = screen.getByLabelText('Server address') as HTMLInputElement;
    await vi.waitFor(() => expect(url.value).toBe('https://sync.plant1.example.com'));
    expect(url.readOnly).toBe(true);
    await fireEvent.input(screen.getByLabelText('Enrollment code'), { target: { value: 'ABCD-EFGH' } });
    await fireEvent.click(screen.getByTestId('enroll-submit'));
    await vi.waitFor(() => expect(screen.getByTestId('enroll-error').textContent).toBe('The enrollment code was not accepted.'));
    expect(enroll).toHaveBeenCalledWith('https://sync.plant1.example.com', 'ABCD-EFGH');
    expect(screen.getByLabelText('Enrollment code').getAttribute('aria-invalid')).toBe('true');
  });

  it('can be skipped: the app works offline', async () => {
    installBackend({ SyncService: { Settings: () => Promise.resolve(settings()) } });
    render(SetupScreen);
    await fireEvent.click(screen.getByTestId('setup-skip'));
    expect(get(prefs).setupSkipped).toBe(true);
  });
});

describe('SyncScreen unenroll', () => {
  it('says exactly what would be lost and asks again before forcing', async () => {
    const unenroll = vi.fn((force: unknown) =>
      force
        ? Promise.resolve(status())
        : Promise.reject({ code: 'unsettled', message: 'Some of your work is not on the server yet: 2 pending, 0 being sent, 1 awaiting a manager’s review, 0 rejected would be lost.' }),
    );
    installBackend({
      SyncService: {
        Settings: () => Promise.resolve(settings()),
        Quarantine: () => Promise.resolve([]),
        Unenroll: unenroll,
      },
    });
    syncStatus.set(status({ enrolled: true, online: true, server_url: 'https://s', site_id: 'demo', role: 'operator', pending: 2, awaiting_review: 1 }) as never);
    render(SyncScreen);
    await fireEvent.click(screen.getByTestId('unenroll'));
    await vi.waitFor(() => expect(screen.getByTestId('unenroll-warning').textContent).toContain('2 pending'));
    expect(unenroll).toHaveBeenCalledWith(false);
    await fireEvent.click(screen.getByTestId('unenroll-force'));
    await vi.waitFor(() => expect(unenroll).toHaveBeenCalledWith(true));
  });
});
