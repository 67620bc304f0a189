// @vitest-environment node
import { get } from 'svelte/store';
import { describe, expect, it, vi } from 'vitest';
import { createPrefs, loadPrefs, type PrefsBackend, type TerminalPrefs } from './prefs';

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

/** fakeGo keeps the terminal's preferences the way PrefsService does. */
function fakeGo(start: Partial<TerminalPrefs> = {}) {
  const kept: TerminalPrefs = { lastLine: '', lastOperator: '', setupSkipped: false, dashboardShifts: '', scanSoundOff: false, ...start };
  const backend = {
    get: vi.fn(() => Promise.resolve({ ...kept })),
    remember: vi.fn((line: string, operator: string) => {
      Object.assign(kept, { lastLine: line, lastOperator: operator });
      return Promise.resolve({ ...kept });
    }),
    skipSetup: vi.fn((skipped: boolean) => {
      kept.setupSkipped = skipped;
      return Promise.resolve({ ...kept });
    }),
    setDashboardShifts: vi.fn((shifts: string) => {
      kept.dashboardShifts = shifts;
      return Promise.resolve({ ...kept });
    }),
    setScanSound: vi.fn((on: boolean) => {
      kept.scanSoundOff = !on;
      return Promise.resolve({ ...kept });
    }),
  } satisfies PrefsBackend;
  return { kept, backend };
}

/** everything written to storage, as one string to search. */
const dump = (st: Storage) => Array.from({ length: st.length }, (_, i) => `${st.key(i)}=${st.getItem(st.key(i) ?? '')}`).join('\n');

describe('prefs', () => {
  it('keeps the scan sound choice in Go, on by default (issue 20)', async () => {
    const st = memoryStorage();
    const go = fakeGo();
    const p = createPrefs(st, go.backend);
    await p.load();
    expect(get(p).scanSoundOff).toBe(false);
    p.setScanSound(false);
    expect(go.backend.setScanSound).toHaveBeenCalledWith(false);
    expect(get(p).scanSoundOff).toBe(true);
    expect(dump(st)).not.toMatch(/scanSound/);
    const again = createPrefs(st, go.backend);
    await again.load();
    expect(get(again).scanSoundOff).toBe(true);
  });

  it('keeps only the theme in localStorage; the line, the operator and the setup choice go to Go', async () => {
    const st = memoryStorage();
    const go = fakeGo();
    const p = createPrefs(st, go.backend);
    await p.load();
    p.remember('L3', 'op-17');
    p.skipSetup(true);
    p.toggleTheme();
    expect(go.backend.remember).toHaveBeenCalledWith('L3', 'op-17');
    expect(go.backend.skipSetup).toHaveBeenCalledWith(true);
    expect(dump(st)).not.toMatch(/op-17|L3|setupSkipped|lastOperator|lastLine/);
    expect(loadPrefs(st).theme).toBe(get(p).theme);

    // A restart reads them back from Go.
    const again = createPrefs(st, go.backend);
    await again.load();
    expect(get(again)).toMatchObject({ lastLine: 'L3', lastOperator: 'op-17', setupSkipped: true, theme: get(p).theme });
  });

  it('drops the old keys from localStorage at startup and hands their values to Go once', async () => {
    const st = memoryStorage();
    st.setItem('outpost.prefs.v1', JSON.stringify({ theme: 'light', lastLine: 'L9', lastOperator: 'BADGE-4711', setupSkipped: true }));
    st.setItem('outpost.dashboard.shifts', 'A=05:00');
    const go = fakeGo();
    const p = createPrefs(st, go.backend);
    expect(dump(st)).not.toContain('BADGE-4711');
    expect(st.length).toBe(1);
    expect(JSON.parse(st.getItem('outpost.prefs.v1') ?? '{}')).toEqual({ theme: 'light' });
    await p.load();
    expect(go.kept).toEqual({
      lastLine: 'L9',
      lastOperator: 'BADGE-4711',
      setupSkipped: true,
      dashboardShifts: 'A=05:00',
      scanSoundOff: false,
    });
    expect(get(p)).toMatchObject({ theme: 'light', lastLine: 'L9', lastOperator: 'BADGE-4711', setupSkipped: true });
  });

  it('does not overwrite what Go already keeps with old localStorage values', async () => {
    const st = memoryStorage();
    st.setItem('outpost.prefs.v1', JSON.stringify({ theme: 'dark', lastLine: 'OLD', lastOperator: 'old-op' }));
    const go = fakeGo({ lastLine: 'L1', lastOperator: 'op-1' });
    const p = createPrefs(st, go.backend);
    await p.load();
    expect(go.backend.remember).not.toHaveBeenCalled();
    expect(get(p)).toMatchObject({ lastLine: 'L1', lastOperator: 'op-1' });
    expect(dump(st)).not.toContain('old-op');
  });

  it('works without Go (a failed call keeps the defaults) and ignores malformed saved data', async () => {
    const st = memoryStorage();
    st.setItem('outpost.prefs.v1', '{"theme":"purple","lastLine":7');
    const p = createPrefs(st, {
      get: () => Promise.reject(new Error('no backend')),
      remember: () => Promise.reject(new Error('no backend')),
      skipSetup: () => Promise.reject(new Error('no backend')),
      setDashboardShifts: () => Promise.reject(new Error('no backend')),
      setScanSound: () => Promise.reject(new Error('no backend')),
    });
    await p.load();
    expect(['dark', 'light']).toContain(get(p).theme);
    expect(get(p)).toMatchObject({ lastLine: '', lastOperator: '', setupSkipped: false });
    p.remember('L2', 'x');
    expect(get(p).lastLine).toBe('L2');
    expect(dump(st)).not.toContain('"x"');
  });
});
