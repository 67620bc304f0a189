// The Setup and Sync screens in the operator's language (issue 21): every
// sentence from the message files, the server's refusals and the sync
// client's state said from their codes, numbers and plurals in the locale.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import SetupScreen from './SetupScreen.svelte';
import SyncScreen from './SyncScreen.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { syncStatusOf } from '../../test/syncFixtures';
import { syncSettings, syncStatus } from '../../stores/sync';
import { siteData } from '../../stores/site';
import { session, noSession } from '../../stores/session';
import { currentLocale, setLocale, setManagedDefault } from '../../i18n';
import { untranslated } from '../../test/untranslated';

const settings = () => ({
  fields: [
    { field: 'server_url', value: 'https://sync.werk1.example.com', source: 'managed', locked: true, secret: false },
    { field: 'language', value: 'de', source: 'managed', locked: true, secret: false },
  ],
  configError: '',
  codeConfigured: false,
  autoEnrolling: false,
  autoEnrollError: '',
});

beforeEach(() => localStorage.clear());
afterEach(() => {
  cleanup();
  removeBackend();
  session.set(noSession);
  setLocale(null);
  setManagedDefault(null);
});

describe('IT’s default language (the managed configuration’s "language")', () => {
  it('is the terminal’s language until someone on it chooses', async () => {
    installBackend({ SyncService: { Settings: () => Promise.resolve(settings()) } });
    expect(currentLocale()).toBe('en');
    await syncSettings.refresh();
    expect(currentLocale()).toBe('de');
    setLocale('fr'); // picked on this terminal
    await syncSettings.refresh();
    expect(currentLocale()).toBe('fr');
    setLocale(null);
    expect(currentLocale()).toBe('de');
    installBackend({ SyncService: { Settings: () => Promise.resolve({ ...settings(), fields: [] }) } });
    await syncSettings.refresh();
    expect(currentLocale()).toBe('en');
  });
});

describe('Setup and Sync screens in German, Polish and Chinese', () => {
  it('the setup screen says a new terminal must reach the server once, with https:// in bold', async () => {
    installBackend({
      SyncService: { Settings: () => Promise.resolve(settings()) },
      SiteService: { Get: () => Promise.resolve({ lines: [], products: [], people: [], settings: {}, canEdit: false, editBlocked: '' }) },
    });
    await syncSettings.refresh();
    await siteData.load();
    setLocale('de');
    render(SetupScreen);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Diesen Computer mit Ihrem Werk verbinden');
    expect(screen.getByTestId('setup-first-connection').textContent).toMatch(/^Dieser Computer muss den Sync-Server einmal erreichen/);
    const https = screen.getByTestId('setup-https');
    expect(https.querySelector('strong')?.textContent).toBe('https://');
    expect(https.textContent?.trim()).toMatch(/^Die Adresse beginnt mit https:\/\/: Outpost schickt/);
    expect(screen.getByLabelText('Serveradresse')).toBeTruthy();
    expect(screen.getByTestId('enroll-submit').textContent?.trim()).toBe('Verbinden');
    setLocale('zh-CN');
    flushSync();
    expect(screen.getByTestId('setup-https').textContent?.trim()).toMatch(/^地址以 https:\/\/ 开头/);
  });

  it('says why connecting with IT’s code failed, from its code', async () => {
    installBackend({
      SyncService: {
        Settings: () =>
          Promise.resolve({
            ...settings(),
            autoEnrollError: 'The enrollment code was not accepted: it may be mistyped, used up or expired. Ask IT for a new one.',
            autoEnrollCode: 'invalid_code',
            autoEnrollParams: { field: 'code' },
          }),
      },
      SiteService: { Get: () => Promise.resolve({ lines: [], products: [], people: [], settings: {}, canEdit: false, editBlocked: '' }) },
    });
    await syncSettings.refresh();
    await siteData.load();
    setLocale('en');
    render(SetupScreen);
    expect(screen.getByTestId('setup-auto-enroll-error').textContent).toBe(
      'Connecting with the code IT configured did not work: The enrollment code was not accepted: it may be mistyped, used up or expired. Ask IT for a new one.',
    );
    setLocale('pt-BR');
    flushSync();
    expect(screen.getByTestId('setup-auto-enroll-error').textContent).toBe(
      'Não foi possível conectar com o código configurado pela TI: O código de cadastro não foi aceito: pode estar digitado errado, esgotado ou vencido. Peça um novo à TI.',
    );
  });

  it('the sync screen: state from the client’s sentence, refusals from their code with the registry’s limits, plurals', async () => {
    installBackend({
      SyncService: {
        Settings: () => Promise.resolve(settings()),
        Quarantine: () =>
          Promise.resolve([
            {
              table: 'line_configs',
              id: 'x1',
              reason: 'too_long: notes is 4012 characters long; the limit is 4000',
              row: { line_id: 'L1', recipe: 'R-7', notes: '…' },
            },
          ]),
      },
      SchemaService: {
        Fields: () =>
          Promise.resolve([
            {
              column: 'notes',
              label: 'Notes',
              kind: 'text',
              required: false,
              maxLen: 4000,
              minLen: 0,
              hasRange: false,
              min: 0,
              max: 0,
              options: [],
            },
          ]),
      },
    });
    await syncSettings.refresh();
    syncStatus.set(
      syncStatusOf({
        online: false,
        role: 'operator',
        pending: 1234,
        awaitingReview: 2,
        openConflicts: 5,
        lastError: 'The sync server cannot be reached. Your work is saved on this computer and will be sent when the connection is back.',
      }) as never,
    );
    setLocale('de');
    render(SyncScreen);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Sync');
    expect(screen.getByTestId('sync-state').textContent).toBe(
      'Offline – Der Sync-Server ist nicht erreichbar. Ihre Arbeit bleibt auf diesem Computer und wird gesendet, sobald die Verbindung wieder steht.',
    );
    expect(screen.getByTestId('sync-pending').textContent).toBe('1.234');
    expect(await screen.findByText('Notizen ist zu lang: höchstens 4.000 Zeichen.')).toBeTruthy();
    expect(screen.getByText('2 (5 offene Konflikte im Werk)')).toBeTruthy();
    expect(screen.getByText('Standardsprache')).toBeTruthy();
    expect(screen.getAllByText('gesperrt · von der IT festgelegt').length).toBe(2);
    setLocale('pl');
    flushSync();
    expect(screen.getByText('2 (5 otwartych konfliktów w zakładzie)')).toBeTruthy();
    expect(screen.getByTestId('sync-pending').textContent).toBe('1234');
  });

  it('in the pseudo-locale every word of the setup and sync screens comes from the message files', async () => {
    installBackend({
      SyncService: {
        Settings: () => Promise.resolve(settings()),
        Quarantine: () =>
          Promise.resolve([
            {
              table: 'production_records',
              id: 'r1',
              reason: 'invalid_value: quantity must be between 0 and 1000000000',
              row: { line_id: 'L1', product_id: 'P-1', quantity: -1, operator_id: 'OP-1' },
            },
          ]),
      },
      SchemaService: { Fields: () => Promise.resolve([]) },
      SiteService: { Get: () => Promise.resolve({ lines: [], products: [], people: [], settings: {}, canEdit: false, editBlocked: '' }) },
    });
    await syncSettings.refresh();
    await siteData.load();
    setLocale('en-XA');
    const data = ['https://sync.werk1.example.com', 'https://sync.example.com', 'demo', 'de', 'L1', 'P-1', 'OP-1', 'https://'];
    const setup = render(SetupScreen);
    expect(untranslated(document.body, data)).toEqual([]);
    setup.unmount();
    syncStatus.set(
      syncStatusOf({
        online: false,
        role: 'manager',
        pending: 3,
        rejected: 1,
        awaitingReview: 1,
        openConflicts: 2,
        lastError: 'The sync server cannot be reached. Your work is saved on this computer and will be sent when the connection is back.',
        clockWarning: true,
        clockOffsetMs: 600_000,
      }) as never,
    );
    render(SyncScreen);
    await screen.findByText(/L1/);
    expect(untranslated(document.body, data)).toEqual([]);
  });
});
