// The site's master data (app.SiteService): lines, products, people and
// settings. Loaded when the store opens, after every save and after each
// sync (a manager's edit on another terminal arrives with a pull). The entry
// form offers the active line and product codes from here.
import { derived, writable, type Readable } from 'svelte/store';
import {
  site as siteApi,
  toApiError,
  type ApiError,
  type LineInput,
  type Person,
  type PersonInput,
  type ProductInput,
  type SiteData,
  type SiteLine,
  type SiteProduct,
  type SiteSettings,
  type SiteSettingsInput,
} from '../lib/api';

export interface SiteState {
  data: SiteData | null;
  loaded: boolean;
  error: ApiError | null;
}

export interface SiteApi {
  get: () => Promise<SiteData>;
  saveLine: (l: LineInput) => Promise<SiteLine>;
  saveProduct: (p: ProductInput) => Promise<SiteProduct>;
  savePerson: (p: PersonInput) => Promise<Person>;
  saveSettings: (s: SiteSettingsInput) => Promise<SiteSettings>;
}

const byCode = <T extends { code: string }>(a: T, b: T) => a.code.localeCompare(b.code, undefined, { numeric: true });

/** sortSite orders lines and products by code and people by name. */
export function sortSite(d: SiteData): SiteData {
  return {
    ...d,
    lines: [...(d.lines ?? [])].sort(byCode),
    products: [...(d.products ?? [])].sort(byCode),
    people: [...(d.people ?? [])].sort((a, b) => a.displayName.localeCompare(b.displayName) || a.badgeId.localeCompare(b.badgeId)),
    settings: { ...d.settings, pinRoles: d.settings?.pinRoles ?? [] },
  };
}

/** activeCodes lists the codes of the active rows, for suggestions. */
export function activeCodes(rows: { code: string; active: boolean }[] | undefined): { code: string; name: string }[] {
  return (rows ?? []).filter((r) => r.active).map((r) => ({ code: r.code, name: (r as { name?: string }).name ?? '' }));
}

/** personName names a badge id from the site's people (updated_by holds
 * badge ids), or gives the badge id back when nobody has it. */
export function personName(d: SiteData | null, badgeId: string): string {
  return d?.people.find((p) => p.badgeId === badgeId)?.displayName ?? badgeId;
}

export interface SiteStore extends Readable<SiteState> {
  load(): Promise<void>;
  saveLine(l: LineInput): Promise<SiteLine>;
  saveProduct(p: ProductInput): Promise<SiteProduct>;
  savePerson(p: PersonInput): Promise<Person>;
  saveSettings(s: SiteSettingsInput): Promise<SiteSettings>;
  /** active line codes with names, for the entry form */
  lineCodes: Readable<{ code: string; name: string }[]>;
  productCodes: Readable<{ code: string; name: string }[]>;
}

export function createSite(api: SiteApi = siteApi): SiteStore {
  const state = writable<SiteState>({ data: null, loaded: false, error: null });
  let seq = 0;

  async function load() {
    const my = ++seq;
    try {
      const d = await api.get();
      if (my === seq) state.set({ data: sortSite(d), loaded: true, error: null });
    } catch (e) {
      if (my === seq) state.update((s) => ({ ...s, loaded: true, error: toApiError(e) }));
    }
  }

  // A save rejects with the Go error (shown beside its field by the form);
  // on success the lists are read again before it resolves.
  const then =
    <A, R>(f: (a: A) => Promise<R>) =>
    async (a: A): Promise<R> => {
      const r = await f(a);
      await load();
      return r;
    };

  return {
    subscribe: state.subscribe,
    load,
    saveLine: then(api.saveLine),
    saveProduct: then(api.saveProduct),
    savePerson: then(api.savePerson),
    saveSettings: then(api.saveSettings),
    lineCodes: derived(state, (s) => activeCodes(s.data?.lines)),
    productCodes: derived(state, (s) => activeCodes(s.data?.products)),
  };
}

export const siteData = createSite();
