// @vitest-environment node
import { get } from 'svelte/store';
import { describe, expect, it, vi } from 'vitest';
import { createSite } from './site';
import { siteData, line } from '../test/siteFixtures';
import type { SiteData } from '../lib/api';

function api(data: () => SiteData) {
  return {
    get: vi.fn(() => Promise.resolve(data())),
    saveLine: vi.fn((l: { code: string }) => Promise.resolve(line(l.code))),
    saveProduct: vi.fn(),
    savePerson: vi.fn(),
    saveSettings: vi.fn(),
  };
}

describe('site store', () => {
  it('sorts codes naturally and people by name, and offers the active codes', async () => {
    const s = createSite(api(() => siteData()));
    await s.load();
    const d = get(s).data!;
    expect(d.lines.map((l) => l.code)).toEqual(['L1', 'L2', 'L9', 'L10']);
    expect(d.people.map((p) => p.displayName)).toEqual(['Ana Lima', 'Max Weber']);
    expect(get(s.lineCodes).map((c) => c.code)).toEqual(['L1', 'L2', 'L10']);
    expect(get(s.productCodes)).toEqual([{ code: 'P-100', name: 'Product P-100' }]);
  });

  it('reads the lists again after a save, before the save resolves', async () => {
    let lines = [line('L1')];
    const a = api(() => siteData({ lines }));
    a.saveLine.mockImplementation((l: { code: string }) => {
      lines = [...lines, line(l.code)];
      return Promise.resolve(line(l.code));
    });
    const s = createSite(a);
    await s.load();
    await s.saveLine({ code: 'L7', name: 'Packing', area: '', active: true });
    expect(get(s).data!.lines.map((l) => l.code)).toEqual(['L1', 'L7']);
  });

  it('a refused save rejects with the Go error and changes nothing', async () => {
    const a = api(() => siteData());
    a.saveLine.mockImplementation(() => Promise.reject({ code: 'forbidden', message: 'Only a manager can change site data.' }));
    const s = createSite(a);
    await s.load();
    await expect(s.saveLine({ code: 'L7', name: 'x', area: '', active: true })).rejects.toMatchObject({ code: 'forbidden' });
    expect(a.get).toHaveBeenCalledTimes(1);
  });

  it('holds the sentence when the lists cannot be read, and tolerates missing lists', async () => {
    const bad = createSite({ ...api(() => siteData()), get: () => Promise.reject({ code: 'timeout', message: 'Too long.' }) });
    await bad.load();
    expect(get(bad).error?.message).toBe('Too long.');
    const empty = createSite(api(() => ({ ...siteData(), lines: null as never, products: null as never, people: null as never })));
    await empty.load();
    expect(get(empty).data!.lines).toEqual([]);
    expect(get(empty.lineCodes)).toEqual([]);
  });
});
