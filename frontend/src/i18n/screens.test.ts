// The screens in another language, rendered: switching the language
// re-renders what is on screen at once (no restart), a person's language
// comes and goes with them, and in the pseudo-locale every word on the
// converted screens comes from the message files (wrapped in ⟦ ⟧).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '../App.svelte';
import { installBackend, removeBackend } from '../test/fakeBackend';
import { installRuntime, removeRuntime } from '../test/fakeRuntime';
import { siteData } from '../test/siteFixtures';
import { syncStatusOf } from '../test/syncFixtures';
import { prefs } from '../stores/prefs';
import { screen as nav, type Screen } from '../stores/nav';
import { session, noSession } from '../stores/session';
import type { Session } from '../lib/api';
import { applyPersonLanguage, LOCALES, setLocale, setManagedDefault } from '.';
import { untranslated } from '../test/untranslated';

// Chart.js draws on a canvas jsdom does not have; the chart's words are
// its summary (aria-label) and dataset labels, which come from t().
vi.mock('chart.js', () => {
  class Chart {
    static register() {}
    data: unknown;
    options: unknown;
    constructor(_c: unknown, cfg: { data: unknown; options: unknown }) {
      this.data = cfg.data;
      this.options = cfg.options;
    }
    update() {}
    destroy() {}
  }
  const part = {};
  return {
    Chart,
    BarController: part,
    BarElement: part,
    CategoryScale: part,
    Legend: part,
    LinearScale: part,
    LineController: part,
    LineElement: part,
    PointElement: part,
    Tooltip: part,
  };
});

const H = 3_600_000;
const appStatus = {
  version: '1.0.0',
  storeOpen: true,
  encrypted: true,
  cipherVersion: '4.6.1',
  dbPath: '/x',
  keySource: 'keyring',
  counts: { records: 2, deletedRecords: 0, lineConfigs: 1, pending: 3 },
  sync: '',
};
const ana = { badgeId: 'B-1', displayName: 'Ana Lima', role: 'operator', needsPin: false };
const anaIn: Session = {
  ...noSession,
  required: true,
  deviceRole: 'operator',
  signedIn: true,
  person: ana,
  idleSeconds: 300,
  expiresAt: 1,
};
const now = Date.now();
const record = {
  id: 'r1',
  lineId: 'L1',
  productId: 'P-100',
  operatorId: 'B-1',
  operatorName: 'Ana Lima',
  quantity: 1200,
  createdAt: now,
  updatedAt: now,
  pending: true,
  syncState: '',
};
const lineConfig = {
  id: 'c1',
  lineId: 'L1',
  recipe: 'R-7',
  targetRatePerHour: 120,
  temperatureC: 180.5,
  speedRpm: 900,
  notes: '',
  createdAt: now,
  updatedAt: now,
  pending: false,
  syncState: '',
};
const dashboard = {
  from: now - 2 * H,
  to: now + H,
  now,
  granularity: 'hour',
  timeZone: 'UTC',
  shifts: [],
  buckets: [0, 1, 2].map((i) => ({ from: now - (2 - i) * H, to: now - (1 - i) * H, label: `Thu 01 Jan 0${i}:00 UTC`, hours: 1 })),
  totals: [{ bucket: 0, lineId: 'L1', productId: 'P-100', quantity: 5, records: 1 }],
  lines: [{ lineId: 'L1', quantity: 5, records: 1, targetRate: 10, target: 15 }],
  products: [{ id: 'P-100', name: '', unit: '' }],
  topProducts: [],
  topOperators: [],
  rev: 1,
};

function backend() {
  installBackend({
    StatusService: { Get: () => Promise.resolve(appStatus) },
    SyncService: {
      Status: () =>
        Promise.resolve(
          syncStatusOf({ enrolled: true, serverUrl: 'https://s', role: 'operator', lastSync: now - 5 * 60_000, online: true }),
        ),
      Settings: () => Promise.resolve({ fields: [], configError: '', codeConfigured: false, autoEnrolling: false, autoEnrollError: '' }),
    },
    SessionService: {
      Current: () => Promise.resolve(anaIn),
      People: () => Promise.resolve([ana]),
      Touch: () => Promise.resolve(anaIn),
    },
    SiteService: { Get: () => Promise.resolve(siteData({ canEdit: false, editBlocked: '' })) },
    LineConfigService: { List: () => Promise.resolve([lineConfig]) },
    SchemaService: { Fields: () => Promise.resolve([]) },
    RecordService: { List: () => Promise.resolve({ records: [record], total: 1, offset: 0 }) },
    ConflictService: { List: () => Promise.resolve([]) },
    DashboardService: { Get: () => Promise.resolve(dashboard), Changes: () => Promise.resolve({ rev: 1, from: 0, to: 0 }) },
    PrefsService: {
      Get: () => Promise.resolve({ lastLine: '', lastOperator: '', setupSkipped: false, dashboardShifts: '', scanSoundOff: false }),
    },
  });
}

beforeEach(() => {
  localStorage.clear();
  prefs.set({ theme: 'dark', lastLine: '', lastOperator: '', setupSkipped: false, dashboardShifts: '', scanSoundOff: false });
  nav.set('records');
  session.set(noSession);
  installRuntime();
});
afterEach(() => {
  cleanup();
  removeBackend();
  removeRuntime();
  setLocale(null);
  setManagedDefault(null);
  applyPersonLanguage(null);
});

describe('switching the language', () => {
  it('re-renders the screens at once from the picker, and follows a person in and out', async () => {
    backend();
    render(App);
    await screen.findByRole('tab', { name: 'Records' });
    nav.set('status' as Screen);
    await screen.findByTestId('language-picker');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Local database is open');

    await fireEvent.click(screen.getByTestId('language-de'));
    await tick();
    expect(screen.getByRole('tab', { name: 'Einträge' })).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Lokale Datenbank ist geöffnet');
    expect((screen.getByTestId('language-de') as HTMLInputElement).checked).toBe(true);
    expect(document.documentElement.lang).toBe('de');
    expect(screen.getByTestId('pending').textContent).toContain('Änderungen nicht synchronisiert');

    applyPersonLanguage('zh-CN');
    await tick();
    expect(screen.getByRole('tab', { name: '记录' })).toBeTruthy();
    applyPersonLanguage(null);
    await tick();
    expect(screen.getByRole('tab', { name: 'Einträge' })).toBeTruthy();
    expect(localStorage.getItem('outpost.language.v1')).toBe('de');
  });

  it('shows each language in its own name, with 44 px or larger targets', async () => {
    backend();
    nav.set('status' as Screen);
    render(App);
    const picker = await screen.findByTestId('language-picker');
    const names = [...picker.querySelectorAll('label')].map((l) => l.textContent?.trim());
    expect(names).toEqual(['English', 'Deutsch', 'Français', 'Español', 'Português (Brasil)', 'Polski', '中文（简体）']);
    expect(picker.querySelector('label[lang="zh-CN"]')).toBeTruthy();
  });
});

describe('pseudo-locale', () => {
  // The fixtures' data, brand and cipher names, and the languages' own names.
  const data = [
    'Ana Lima',
    'B-1',
    'Product P-100',
    'P-100',
    'L1',
    'R-7',
    '1.0.0',
    '/x',
    'keyring',
    'https://s',
    'SQLCipher',
    'AES',
    'UTC',
    ...LOCALES.map((l) => l.name),
  ];
  for (const s of ['records', 'lines', 'status', 'dashboard'] as Screen[]) {
    it(`${s}: every word on screen comes from the message files`, async () => {
      setLocale('en-XA');
      backend();
      nav.set(s);
      render(App);
      await screen.findByTestId('session');
      await waitFor(() => expect(document.querySelector('[aria-busy="true"]')).toBeNull());
      await tick();
      expect(untranslated(document.body, data, { attributes: false, skipTimes: true, skip: 'datalist, .sr-only-data' })).toEqual([]);
    });
  }
});
