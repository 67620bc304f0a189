import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import App from './App.svelte';
import { installBackend, removeBackend } from './test/fakeBackend';
import { installRuntime, removeRuntime } from './test/fakeRuntime';
import { siteData } from './test/siteFixtures';
import { syncStatusOf } from './test/syncFixtures';
import { prefs } from './stores/prefs';
import { screen as nav } from './stores/nav';
import { session, noSession } from './stores/session';
import { toasts } from './stores/toasts';
import type { Session } from './lib/api';
import { get } from 'svelte/store';

const appStatus = {
  version: '1.0.0',
  storeOpen: true,
  encrypted: true,
  cipherVersion: '4.6.1',
  dbPath: '/x',
  keySource: 'Secret Service',
  counts: { records: 0, deletedRecords: 0, lineConfigs: 0, pending: 0 },
  sync: '',
};
const syncStatus = (enrolled: boolean) => syncStatusOf({ enrolled, serverUrl: 'https://s', role: 'operator', lastSync: 1 });
const ana = { badgeId: 'B-1', displayName: 'Ana Lima', role: 'operator', needsPin: false };
const required: Session = { ...noSession, required: true, deviceRole: 'operator' };
const anaIn: Session = { ...required, signedIn: true, person: ana, idleSeconds: 300, expiresAt: 1 };

function backend(opts: { enrolled?: boolean; current?: Session } = {}) {
  const signIn = vi.fn(() => Promise.resolve(anaIn));
  const signOut = vi.fn(() => Promise.resolve(required));
  installBackend({
    StatusService: { Get: () => Promise.resolve(appStatus) },
    SyncService: {
      Status: () => Promise.resolve(syncStatus(opts.enrolled ?? true)),
      Settings: () => Promise.resolve({ fields: [], configError: '', codeConfigured: false, autoEnrolling: false, autoEnrollError: '' }),
    },
    SessionService: {
      Current: () => Promise.resolve(opts.current ?? required),
      People: () => Promise.resolve([ana]),
      Identify: () => Promise.resolve({ person: ana, needsPin: false, lockedUntil: 0 }),
      SignIn: signIn,
      SignOut: signOut,
      Touch: () => Promise.resolve(anaIn),
    },
    SiteService: { Get: () => Promise.resolve(siteData({ canEdit: false, editBlocked: 'Only a manager computer edits site data.' })) },
    LineConfigService: { List: () => Promise.resolve([]) },
    SchemaService: { Fields: () => Promise.resolve([]) },
    RecordService: { List: () => Promise.resolve({ records: [], total: 0, offset: 0 }) },
  });
  return { signIn, signOut };
}

let rt: ReturnType<typeof installRuntime>;
beforeEach(() => {
  localStorage.clear();
  prefs.set({ theme: 'dark', lastLine: '', lastOperator: '', setupSkipped: false, dashboardShifts: '', scanSoundOff: false });
  nav.set('records');
  session.set(noSession);
  rt = installRuntime();
});
afterEach(() => {
  cleanup();
  removeBackend();
  removeRuntime();
});

describe('App and sign-in', () => {
  it('shows the sign-in screen instead of the screens, with the status bar; a scan signs in', async () => {
    const { signIn } = backend();
    render(App);
    await screen.findByTestId('signin-screen');
    expect(screen.getByRole('contentinfo', { name: 'Status' })).toBeTruthy();
    expect(screen.queryByRole('tab', { name: 'Records' })).toBeNull();
    expect(screen.queryByTestId('save-record')).toBeNull();
    // Alt+1 does not get around it.
    await fireEvent.keyDown(window, { key: '1', altKey: true });
    expect(screen.getByTestId('signin-screen')).toBeTruthy();
    const badge = screen.getByLabelText('Badge');
    await fireEvent.input(badge, { target: { value: 'B-1' } });
    await fireEvent.keyDown(badge, { key: 'Enter' });
    await screen.findByTestId('save-record');
    expect(signIn).toHaveBeenCalledWith('B-1', '');
    expect(screen.getByTestId('signed-in-as').textContent?.replace(/\s+/g, ' ').trim()).toBe('Signed in as Ana Lima · Operator');
    expect((document.getElementById('f-operator') as HTMLInputElement).value).toBe('Ana Lima');
  });

  it('follows session:changed (idle sign-out on the Go side) and Switch operator', async () => {
    const { signOut } = backend({ current: anaIn });
    render(App);
    await screen.findByTestId('save-record');
    rt.emit('session:changed', required);
    await screen.findByTestId('signin-screen');
    rt.emit('session:changed', anaIn);
    await screen.findByTestId('save-record');
    await fireEvent.click(screen.getByRole('button', { name: 'Switch operator' }));
    expect(screen.getByTestId('signin-screen')).toBeTruthy(); // at once, before the Go side answers
    expect(signOut).toHaveBeenCalled();
  });

  it('the setup screen keeps priority over sign-in', async () => {
    backend({ enrolled: false });
    render(App);
    await screen.findByTestId('setup-screen');
    expect(screen.queryByTestId('signin-screen')).toBeNull();
  });

  // Issue 20 item 3: the Setup screen replaces every screen until the
  // terminal is connected (or works offline), so the tabs, which would lead
  // nowhere, are gone as on Sign in; Alt+1…7 do nothing either, the status
  // bar still says the sync state (plain words, not a link to a screen that
  // cannot open) and the keyboard goes from the header to the form.
  it('the setup screen hides the tabs, ignores Alt+1…7 and keeps the sync state in the status bar', async () => {
    backend({ enrolled: false, current: anaIn });
    render(App);
    await screen.findByTestId('setup-screen');
    expect(screen.queryAllByRole('tab')).toHaveLength(0);
    expect(screen.queryByRole('tablist')).toBeNull();
    await fireEvent.keyDown(window, { key: '5', altKey: true });
    expect(get(nav)).toBe('records');
    expect(screen.getByTestId('setup-screen')).toBeTruthy();
    const state = screen.getByTestId('sync-state');
    expect(state.textContent?.trim()).toBe('Not connected to a sync server');
    expect(state.querySelector('button, a')).toBeNull();
    // Tab order: nothing hidden is focusable; the theme and the form are.
    const focusable = [...document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [tabindex]')].filter(
      (el) => !el.closest('[hidden]') && el.tabIndex >= 0 && !(el as HTMLButtonElement).disabled,
    );
    expect(focusable.some((el) => el.getAttribute('role') === 'tab')).toBe(false);
    expect(focusable.some((el) => el.closest('[data-testid="setup-screen"]'))).toBe(true);
    // Once connected, the tabs are back.
    rt.emit('sync:status', syncStatus(true));
    await screen.findByTestId('save-record');
    expect(screen.getAllByRole('tab')).toHaveLength(7);
  });

  // Issue 20 item 2: Alt+Q signs out from anywhere, like Alt+1…7 and Alt+T,
  // even with the focus in a field; the Sign out button says so.
  it('Alt+Q signs out; the Sign out button shows the shortcut', async () => {
    const { signOut } = backend({ current: anaIn });
    render(App);
    await screen.findByTestId('save-record');
    const button = screen.getByTestId('sign-out');
    expect(button.getAttribute('aria-keyshortcuts')).toBe('Alt+Q');
    expect(button.getAttribute('title')).toBe('Sign out (Alt+Q)');
    await fireEvent.keyDown(document.getElementById('f-product') as HTMLElement, { key: 'q', altKey: true });
    expect(screen.getByTestId('signin-screen')).toBeTruthy();
    expect(signOut).toHaveBeenCalledTimes(1);
    // Nobody signed in: nothing more to sign out.
    await fireEvent.keyDown(window, { key: 'q', altKey: true });
    expect(signOut).toHaveBeenCalledTimes(1);
    // Ctrl+Alt+Q (AltGr+Q is "@" on a German keyboard) is not the shortcut.
    rt.emit('session:changed', anaIn);
    await screen.findByTestId('save-record');
    await fireEvent.keyDown(window, { key: 'q', altKey: true, ctrlKey: true });
    expect(signOut).toHaveBeenCalledTimes(1);
  });

  it('a site without people works as before: no sign-in, operator typed', async () => {
    backend({ current: { ...noSession, deviceRole: 'operator' } });
    render(App);
    await screen.findByTestId('save-record');
    expect(screen.queryByTestId('signed-in-as')).toBeNull();
    expect((document.getElementById('f-operator') as HTMLInputElement).readOnly).toBe(false);
  });

  it('Alt+7 opens the site screen, read-only here with the reason', async () => {
    backend({ current: anaIn });
    render(App);
    await screen.findByTestId('save-record');
    await fireEvent.keyDown(window, { key: '7', altKey: true });
    expect((await screen.findByTestId('site-readonly')).textContent).toContain('Only a manager computer edits site data.');
    expect(screen.getByRole('tab', { name: 'Site' }).getAttribute('aria-selected')).toBe('true');
  });

  it('the next person starts at Records; the same person comes back where they were', async () => {
    backend({ current: anaIn });
    render(App);
    await screen.findByTestId('save-record');
    await fireEvent.keyDown(window, { key: '7', altKey: true });
    await screen.findByTestId('site-screen');
    rt.emit('session:changed', required); // idle sign-out
    await screen.findByTestId('signin-screen');
    rt.emit('session:changed', anaIn);
    await screen.findByTestId('site-screen');
    rt.emit('session:changed', required);
    await screen.findByTestId('signin-screen');
    rt.emit('session:changed', { ...anaIn, person: { badgeId: 'B-2', displayName: 'Jonas Becker', role: 'operator', needsPin: false } });
    await screen.findByTestId('save-record');
  });
  it('signing out takes the last person’s notices along (no Undo of their delete for the next one)', async () => {
    backend({ current: anaIn });
    render(App);
    await screen.findByTestId('save-record');
    toasts.info('Deleted: 5 × P-100 on L1.', { label: 'Undo', run: () => {} });
    toasts.error('Not saved.');
    expect(await screen.findByText('Deleted: 5 × P-100 on L1.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Switch operator' }));
    await screen.findByTestId('signin-screen');
    expect(screen.queryByText('Deleted: 5 × P-100 on L1.')).toBeNull();
    expect(screen.queryByText('Not saved.')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Undo' })).toBeNull();
  });
});
