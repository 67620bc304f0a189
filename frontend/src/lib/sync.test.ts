// @vitest-environment node
import { afterEach, describe, expect, it } from 'vitest';
import {
  clockWarning,
  dataMark,
  headline,
  lastErrorText,
  managedLanguage,
  progressLabel,
  reasonText,
  rowSummary,
  unsettledText,
  unsynced,
  verifiedLabel,
  verifiedTables,
} from './sync';
import { createPrefs } from '../stores/prefs';
import { get } from 'svelte/store';
import type { SyncStatus } from './api';
import { syncStatusOf } from '../test/syncFixtures';
import { setLocale } from '../i18n';

const st = (over: Partial<SyncStatus> = {}): SyncStatus => syncStatusOf(over);

describe('headline', () => {
  it.each([
    [null, 'off', 'Sync starting'],
    [st({ enrolled: false }), 'off', 'Not connected'],
    [st({ syncing: true }), 'busy', 'Syncing'],
    [st(), 'ok', 'Online'],
    [st({ online: false }), 'warn', 'Offline'],
  ])('%#', (s, tone, label) => {
    expect(headline(s)).toEqual({ tone, label });
  });
});

describe('clockWarning', () => {
  it('is empty within the threshold', () => {
    expect(clockWarning(st({ clockOffsetMs: 60_000 }))).toBe('');
  });
  it('says ahead or behind, in minutes or hours', () => {
    // offset = server − device: negative means this computer runs ahead.
    expect(clockWarning(st({ clockWarning: true, clockOffsetMs: -7 * 60_000 }))).toMatch(/7 minutes ahead of the server/);
    expect(clockWarning(st({ clockWarning: true, clockOffsetMs: 3 * 3600_000 }))).toMatch(/3 hours behind the server/);
  });
});

describe('progressLabel', () => {
  it('counts sent and received rows, with a share when the end is known', () => {
    expect(progressLabel(st())).toBe('');
    expect(progressLabel(st({ syncing: true, progress: { phase: 'push', pushed: 1500, pulled: 0, cursor: 0, target: 0 } }), 'en-US')).toBe(
      'Sending… 1,500 sent',
    );
    expect(
      progressLabel(
        st({ syncing: true, progress: { phase: 'pull', pushed: 0, pulled: 25_000, cursor: 25_000, target: 100_000 } }),
        'en-US',
      ),
    ).toBe('Receiving… 25,000 received (25%)');
    expect(progressLabel(st({ syncing: true, progress: { phase: 'pull', pushed: 0, pulled: 3, cursor: 3, target: 0 } }), 'en-US')).toBe(
      'Receiving… 3 received',
    );
  });
});

describe('quarantine texts', () => {
  it('shows the server sentence without its code', () => {
    expect(reasonText('too_long: notes is longer than 4000 characters')).toBe('Notes is longer than 4000 characters');
    expect(reasonText('')).toMatch(/without a reason/);
    expect(reasonText('something odd')).toBe('something odd');
  });
  it('summarises rows per table', () => {
    expect(rowSummary('production_records', { line_id: 'L7', product_id: 'P-1', quantity: 40, operator_id: 'op' })).toBe(
      'Line L7 · P-1 × 40 · operator op',
    );
    expect(rowSummary('line_configs', { line_id: 'L7', recipe: 'R' })).toBe('Line L7 · recipe R');
  });
});

describe('unenroll loss', () => {
  it('lists exactly what would be lost', () => {
    expect(unsettledText(st())).toBe('');
    expect(unsynced(st({ pending: 2, inFlight: 1 }))).toBe(3);
    expect(unsettledText(st({ pending: 2, inFlight: 1, awaitingReview: 1, rejected: 2 }))).toBe(
      '3 changes not yet sent, 1 change awaiting a manager’s review, 2 changes the server refused',
    );
  });
});

describe('setup skip preference', () => {
  it('is remembered by the Go side, not in localStorage', async () => {
    const m = new Map<string, string>();
    const storage = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) } as unknown as Storage;
    let skipped = false;
    const kept = () => ({ lastLine: '', lastOperator: '', setupSkipped: skipped, dashboardShifts: '', scanSoundOff: false });
    const backend = {
      get: () => Promise.resolve(kept()),
      remember: () => Promise.resolve(kept()),
      skipSetup: (s: boolean) => {
        skipped = s;
        return Promise.resolve(kept());
      },
      setDashboardShifts: () => Promise.resolve(kept()),
      setScanSound: () => Promise.resolve(kept()),
    };
    const p = createPrefs(storage, backend);
    expect(get(p).setupSkipped).toBe(false);
    p.skipSetup(true);
    const again = createPrefs(storage, backend);
    await again.load();
    expect(get(again).setupSkipped).toBe(true);
    expect([...m.values()].join()).not.toContain('setupSkipped');
  });
});

describe('verification', () => {
  const at = new Date(2026, 11, 7, 14, 2, 30).getTime();
  const verify = (over: object = {}) => ({
    at,
    cursor: 120,
    tables: { production_records: 1200, people: 4 },
    problem: '',
    repaired: 0,
    unresolved: 0,
    ...over,
  });
  it('says when the device was last verified, beside the sync state', () => {
    expect(verifiedLabel(st({ verify: verify() } as Partial<SyncStatus>))).toEqual({
      tone: 'ok',
      label: 'Verified with the server at 14:02',
    });
  });
  it('says why not: repairing, or cannot verify', () => {
    expect(verifiedLabel(st({ verify: verify({ problem: '3 rows differ; repairing' }) } as Partial<SyncStatus>))).toEqual({
      tone: 'busy',
      label: '3 rows differ; repairing',
    });
    expect(
      verifiedLabel(st({ verify: verify({ problem: 'cannot verify: the sync server cannot be reached' }) } as Partial<SyncStatus>)).label,
    ).toBe('Cannot verify: the sync server cannot be reached');
  });
  it('shows nothing before a first verification, or when not connected', () => {
    expect(verifiedLabel(st()).label).toBe('');
    expect(verifiedLabel(st({ verify: verify({ at: 0 }) } as Partial<SyncStatus>)).label).toBe('');
    expect(verifiedLabel(st({ enrolled: false, verify: verify() } as Partial<SyncStatus>)).label).toBe('');
    expect(verifiedLabel(null).label).toBe('');
  });
  it('lists the verified tables with their counts', () => {
    expect(verifiedTables(st({ verify: verify() } as Partial<SyncStatus>))).toEqual([
      { table: 'people', label: 'People', count: 4 },
      { table: 'production_records', label: 'Production records', count: 1200 },
    ]);
    expect(verifiedTables(st())).toEqual([]);
  });
});

describe('the sync client’s sentences in the language shown (issue 21)', () => {
  afterEach(() => setLocale(null));

  it('says a state the client names by its code, and keeps a sentence it does not know', () => {
    const offline = syncStatusOf({
      lastError: 'The sync server cannot be reached. Your work is saved on this computer and will be sent when the connection is back.',
    });
    expect(lastErrorText(offline)).toBe(offline.lastError);
    setLocale('es');
    expect(lastErrorText(offline)).toMatch(/^No se puede conectar con el servidor de sincronización\./);
    const restored = syncStatusOf({
      lastError:
        'The sync server was restored from a backup. This computer re-reads what the server holds and sends again what it lost; your work is kept here.',
    });
    setLocale('de');
    expect(lastErrorText(restored)).toMatch(/Sicherung/);
    const other = syncStatusOf({ lastError: 'The sync server refused the request (HTTP 500).' });
    expect(lastErrorText(other)).toBe('The sync server refused the request (HTTP 500).');
    expect(lastErrorText(syncStatusOf({ lastError: '' }))).toBe('');
  });

  it('says why the server no longer accepts this computer, by the reason the sentence names (issue 15)', async () => {
    // The status carries the sync client's sentence only (backend/syncclient
    // unauthorizedSentence, which app/sync_rules_test.go keeps equal to the
    // English dictionary); the reason in it picks errors.unauthorized.<rule>.
    const en = (await import('../i18n/errors/en.json')).default as { [k: string]: string };
    const de = (await import('../i18n/errors/de.json')).default as { [k: string]: string };
    const said = (key: string) => syncStatusOf({ lastError: en[key] });
    setLocale('de');
    for (const key of ['errors.unauthorized.unknown_device', 'errors.unauthorized.device_revoked', 'errors.unauthorized']) {
      expect(lastErrorText(said(key)), key).toBe(de[key]);
    }
    expect(lastErrorText(said('errors.unauthorized.unknown_device'))).toMatch(/Sicherung/);
    expect(lastErrorText(said('errors.unauthorized.device_revoked'))).toMatch(/gesperrt/);
  });

  it('reads IT’s default language from the settings', () => {
    const f = (value: string) => ({
      fields: [{ field: 'language', value, source: 'managed', locked: false, secret: false }],
      configError: '',
      codeConfigured: false,
      autoEnrolling: false,
      autoEnrollError: '',
    });
    expect(managedLanguage(f('pt-BR'))).toBe('pt-BR');
    expect(managedLanguage(f(' '))).toBeNull();
    expect(managedLanguage(null)).toBeNull();
  });
});

describe('dataMark', () => {
  it('changes with what a sync:status says about the data here, not with a progress tick or the connection', () => {
    const base = { pending: 1, lastSync: 10 };
    const a = st(base);
    expect(dataMark(null)).toBe('');
    expect(dataMark(a)).toBe(dataMark(st({ ...base, progress: { phase: 'pull', pushed: 0, pulled: 5, cursor: 5, target: 10 } })));
    expect(dataMark(a)).toBe(dataMark(st({ ...base, online: false, clockOffsetMs: 90_000 })));
    const changes: Partial<SyncStatus>[] = [
      { syncing: true },
      { lastSync: 11 },
      { pending: 2 },
      { inFlight: 1 },
      { awaitingReview: 1 },
      { rejected: 1 },
      { openConflicts: 1 },
      { enrolled: false },
      { role: 'operator' },
    ];
    for (const over of changes) expect(dataMark(st({ ...base, ...over })), JSON.stringify(over)).not.toBe(dataMark(a));
  });
});
