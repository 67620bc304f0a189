import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { get } from 'svelte/store';
import SetupScreen from './SetupScreen.svelte';
import SyncScreen from './SyncScreen.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { syncStatusOf } from '../../test/syncFixtures';
import { prefs } from '../../stores/prefs';
import { syncSettings, syncStatus } from '../../stores/sync';
import { session, noSession } from '../../stores/session';
import { siteData } from '../../stores/site';
import { managerWithPinReason, discardReason } from './permissions';
import { setLocale } from '../../i18n';
import de from '../../i18n/errors/de.json';

const status = (over: object = {}) =>
  syncStatusOf({ enrolled: false, serverUrl: '', siteId: '', role: '', deviceId: '', online: false, ...over });
const settings = (over: object = {}) => ({
  fields: [
    { field: 'server_url', value: 'https://sync.plant1.example.com', source: 'managed', locked: true, secret: false },
    { field: 'enrollment_code', value: '', source: 'default', locked: false, secret: true },
  ],
  configError: '',
  codeConfigured: false,
  autoEnrolling: false,
  autoEnrollError: '',
  ...over,
});

beforeEach(() => {
  localStorage.clear();
  prefs.set({ theme: 'dark', lastLine: '', lastOperator: '', setupSkipped: false, dashboardShifts: '', scanSoundOff: false });
});
afterEach(() => {
  cleanup();
  removeBackend();
  session.set(noSession);
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

  it("can be skipped once the site's data is on this computer: the app works offline", async () => {
    installBackend({
      SyncService: { Settings: () => Promise.resolve(settings()) },
      SiteService: {
        Get: () =>
          Promise.resolve({
            lines: [],
            products: [{ code: 'P1', name: 'Bolts', unit: 'pcs', active: true }],
            people: [],
            settings: {},
            canEdit: false,
            editBlocked: '',
          }),
      },
    });
    await siteData.load();
    render(SetupScreen);
    await fireEvent.click(screen.getByTestId('setup-skip'));
    expect(get(prefs).setupSkipped).toBe(true);
  });
});

describe('SyncScreen unenroll', () => {
  afterEach(() => setLocale(null));
  const refusal = {
    code: 'unsettled',
    message:
      'Some of your work is not on the server yet: 2 pending, 0 being sent, 1 awaiting a manager’s review, 0 rejected would be lost. Connect to the server and sync first, or confirm to unenroll anyway and lose it.',
  };
  const disconnect = async () => {
    const unenroll = vi.fn((force: unknown) => (force ? Promise.resolve(status()) : Promise.reject(refusal)));
    installBackend({
      SyncService: {
        Settings: () => Promise.resolve(settings()),
        Quarantine: () => Promise.resolve([]),
        Unenroll: unenroll,
      },
    });
    syncStatus.set(
      status({
        enrolled: true,
        online: true,
        serverUrl: 'https://s',
        siteId: 'demo',
        role: 'operator',
        pending: 2,
        awaitingReview: 1,
      }) as never,
    );
    render(SyncScreen);
    await fireEvent.click(screen.getByTestId('unenroll'));
    await vi.waitFor(() => screen.getByTestId('unenroll-warning'));
    expect(unenroll).toHaveBeenCalledWith(false);
    return unenroll;
  };

  // Issue 15: a computer connected again to the same site sends all of it
  // then (backend/store SetEnrollment); only another site, or never
  // connecting again, keeps it from this site's server. Go's English
  // sentence still says "lose it", so the dictionary's is shown.
  it('says what is not on the server yet and what becomes of it, and asks again before disconnecting', async () => {
    const unenroll = await disconnect();
    const warning = screen.getByTestId('unenroll-warning').textContent ?? '';
    expect(warning).toContain('2 changes not yet sent, 1 change awaiting a manager’s review');
    expect(warning).toContain('connect this computer to this site again');
    expect(warning).toContain('nothing is lost');
    expect(warning).toContain('another site');
    expect(warning).not.toMatch(/lose it|unenroll/);
    const force = screen.getByTestId('unenroll-force');
    expect(force.textContent).toBe('Disconnect anyway');
    await fireEvent.click(force);
    await vi.waitFor(() => expect(unenroll).toHaveBeenCalledWith(true));
  });

  it('says it in the language shown', async () => {
    setLocale('de');
    await disconnect();
    const warning = screen.getByTestId('unenroll-warning').textContent ?? '';
    expect(warning).toContain(de['errors.unsettled']);
    expect(warning).toContain('2 Änderungen noch nicht gesendet');
    expect(screen.getByTestId('unenroll-force').textContent).toBe('Trotzdem trennen');
  });
});

// Issue 17, hole 4: disconnecting, enrolling again and discarding need the
// right person once the site has people; the buttons say why not.
const ana = { badgeId: 'OP-100', displayName: 'Ana Lima', role: 'operator', needsPin: false };
const ben = { badgeId: 'OP-200', displayName: 'Ben Ott', role: 'operator', needsPin: false };
const max = { badgeId: 'MGR-1', displayName: 'Max Weber', role: 'manager', needsPin: true };
const noPin = { badgeId: 'MGR-2', displayName: 'Mo Manager', role: 'manager', needsPin: false };
const sam = { badgeId: 'SUP-1', displayName: 'Sam Supervisor', role: 'supervisor', needsPin: true };
const signedIn = (person: typeof ana | null) => ({ ...noSession, required: true, signedIn: !!person, person });

describe('permissions', () => {
  it('a manager with a PIN, once the site has people', () => {
    const what = 'disconnect' as const;
    expect(managerWithPinReason(noSession, what)).toBe('');
    expect(managerWithPinReason(signedIn(null), what)).toBe('Sign in as a manager to disconnect this computer from the server.');
    expect(managerWithPinReason(signedIn(ana), what)).toBe(
      'Only a manager can disconnect this computer from the server; Ana Lima is signed in as Operator.',
    );
    expect(managerWithPinReason(signedIn(noPin), what)).toContain('Only a manager who signs in with a PIN');
    expect(managerWithPinReason(signedIn(max), what)).toBe('');
  });
  it('discard: who made the change, a supervisor or a manager', () => {
    const rec = { operator_id: 'OP-100', updated_by: null };
    expect(discardReason(noSession, 'production_records', rec)).toBe('');
    expect(discardReason(signedIn(null), 'production_records', rec)).toContain('Sign in to discard');
    expect(discardReason(signedIn(ana), 'production_records', rec)).toBe('');
    expect(discardReason(signedIn(ben), 'production_records', rec)).toBe(
      'Only OP-100, who made this change, a supervisor or a manager can discard it.',
    );
    expect(discardReason(signedIn(ben), 'line_configs', { updated_by: 'OP-200' })).toBe('');
    expect(discardReason(signedIn(sam), 'line_configs', { updated_by: 'OP-100' })).toBe('');
    expect(discardReason(signedIn(max), 'lines', {})).toBe('');
  });
});

describe('SyncScreen with people', () => {
  const refused = {
    table: 'production_records',
    id: 'r1',
    reason: 'invalid_value: quantity',
    since: 1,
    row: { id: 'r1', line_id: 'L1', product_id: 'P', quantity: 5, operator_id: 'OP-100' },
    serverVersion: 0,
  };
  const backend = (over: object = {}) =>
    installBackend({
      SyncService: { Settings: () => Promise.resolve(settings()), Quarantine: () => Promise.resolve([refused]), ...over },
    });
  const enrolled = () =>
    syncStatus.set(status({ enrolled: true, online: true, serverUrl: 'https://s', siteId: 'demo', role: 'manager', rejected: 1 }) as never);

  it("an operator sees Disconnect and another's Discard disabled, with the reason", async () => {
    backend();
    enrolled();
    session.set(signedIn(ben));
    render(SyncScreen);
    await screen.findByTestId('discard');
    expect((screen.getByTestId('unenroll') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('unenroll-blocked').textContent).toBe(
      'Only a manager can disconnect this computer from the server; Ben Ott is signed in as Operator.',
    );
    expect((screen.getByTestId('discard') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('discard-blocked').textContent).toContain('Only OP-100, who made this change');
    // The author may discard their own change.
    session.set(signedIn(ana));
    await vi.waitFor(() => expect((screen.getByTestId('discard') as HTMLButtonElement).disabled).toBe(false));
    expect(screen.queryByTestId('discard-blocked')).toBeNull();
  });

  it("shows the Go side's refusal", async () => {
    const unenroll = vi.fn(() =>
      Promise.reject({
        code: 'forbidden',
        message: 'Only a manager can disconnect this computer from the server; Max Weber is signed in as operator.',
      }),
    );
    backend({ Unenroll: unenroll });
    enrolled();
    session.set(signedIn(max));
    render(SyncScreen);
    expect(screen.queryByTestId('unenroll-blocked')).toBeNull();
    await fireEvent.click(screen.getByTestId('unenroll'));
    await vi.waitFor(() => expect(screen.getByTestId('sync-screen-error').textContent).toContain('Only a manager can disconnect'));
  });

  it('enrolling again after a disconnect needs a manager with a PIN', async () => {
    backend();
    syncStatus.set(status() as never);
    session.set(signedIn(ana));
    render(SyncScreen);
    expect((await screen.findByTestId('enroll-blocked')).textContent).toBe(
      'Only a manager can connect this computer to a server again; Ana Lima is signed in as Operator.',
    );
    expect((screen.getByTestId('enroll-submit') as HTMLButtonElement).disabled).toBe(true);
    session.set(signedIn(max));
    await vi.waitFor(() => expect((screen.getByTestId('enroll-submit') as HTMLButtonElement).disabled).toBe(false));
  });
});
