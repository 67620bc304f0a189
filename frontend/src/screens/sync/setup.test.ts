import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import SetupScreen from './SetupScreen.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { syncSettings } from '../../stores/sync';
import { siteData } from '../../stores/site';

const settings = () => ({
  fields: [
    { field: 'server_url', value: '', source: 'default', locked: false, secret: false },
    { field: 'enrollment_code', value: '', source: 'default', locked: false, secret: true },
  ],
  configError: '',
  codeConfigured: false,
  autoEnrolling: false,
  autoEnrollError: '',
});

// The sentence SyncService.Enroll answers for plain http:// (app/config.go).
const refusal =
  "This address uses plain http://, so the computer's key would be sent to the server unencrypted. Use the https:// address of the sync server, or ask IT to allow http:// (allow_insecure_http in the managed configuration).";

beforeEach(() => localStorage.clear());
afterEach(() => {
  cleanup();
  removeBackend();
});

describe('SetupScreen and plain http://', () => {
  it('says up front that the address must be https://, and shows the Go refusal under the address', async () => {
    const enroll = vi.fn(() => Promise.reject({ code: 'invalid_value', field: 'server_url', message: refusal }));
    installBackend({ SyncService: { Settings: () => Promise.resolve(settings()), Enroll: enroll } });
    await syncSettings.refresh();
    render(SetupScreen);
    expect(screen.getByTestId('setup-https').textContent).toContain('https://');
    const url = screen.getByLabelText('Server address') as HTMLInputElement;
    await fireEvent.input(url, { target: { value: 'http://sync.plant1.example.com' } });
    await fireEvent.input(screen.getByLabelText('Enrollment code'), { target: { value: 'ABCD-EFGH' } });
    await fireEvent.click(screen.getByTestId('enroll-submit'));
    await vi.waitFor(() => expect(screen.getByText(refusal)).toBeTruthy());
    expect(url.getAttribute('aria-invalid')).toBe('true');
    expect(enroll).toHaveBeenCalledWith('http://sync.plant1.example.com', 'ABCD-EFGH');
  });
});

// The site's lists as SiteService.Get answers them.
const site = (lines: { code: string; name: string; area: string; active: boolean }[]) => ({
  lines,
  products: [],
  people: [],
  settings: {},
  canEdit: false,
  editBlocked: '',
});

describe('SetupScreen and working offline (issue 20)', () => {
  it('does not offer "Work offline" to a terminal that never received its site\'s people and products', async () => {
    installBackend({
      SyncService: { Settings: () => Promise.resolve(settings()) },
      SiteService: { Get: () => Promise.resolve(site([])) },
    });
    await syncSettings.refresh();
    await siteData.load();
    render(SetupScreen);
    expect(screen.queryByTestId('setup-skip')).toBeNull();
    expect(screen.queryByText(/Work offline/)).toBeNull();
    const why = screen.getByTestId('setup-first-connection').textContent ?? '';
    expect(why).toContain('must reach the sync server once before anyone records');
    expect(why).toContain('people, products and lines');
    expect(screen.getByTestId('enroll-submit')).toBeTruthy();
  });

  it("offers it once the site's data is on the terminal (kept after a disconnect), with sign-in", async () => {
    installBackend({
      SyncService: { Settings: () => Promise.resolve(settings()) },
      SiteService: { Get: () => Promise.resolve(site([{ code: 'L1', name: 'Line one', area: '', active: true }])) },
      PrefsService: { SkipSetup: vi.fn(() => Promise.resolve({ setupSkipped: true })) },
    });
    await syncSettings.refresh();
    await siteData.load();
    render(SetupScreen);
    expect(screen.getByTestId('setup-skip').textContent).toContain('Work offline for now');
    expect(screen.getByTestId('setup-offline').textContent).toContain('sign in and record offline');
    expect(screen.queryByTestId('setup-first-connection')).toBeNull();
  });
});
