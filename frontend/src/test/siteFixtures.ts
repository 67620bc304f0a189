// Site data as the Go side answers it, for the tests of the stores and
// screens of issue 10.
import type { Person, SiteData, SiteLine, SiteProduct } from '../lib/api';

export const line = (code: string, over: Partial<SiteLine> = {}): SiteLine => ({
  id: `id-${code}`,
  code,
  name: `Line ${code}`,
  area: '',
  active: true,
  updatedBy: '',
  updatedAt: 1_700_000_000_000,
  pending: false,
  syncState: '',
  ...over,
});

export const product = (code: string, over: Partial<SiteProduct> = {}): SiteProduct => ({
  id: `id-${code}`,
  code,
  name: `Product ${code}`,
  unit: 'pcs',
  active: true,
  updatedBy: '',
  updatedAt: 1_700_000_000_000,
  pending: false,
  syncState: '',
  ...over,
});

export const person = (badgeId: string, displayName: string, over: Partial<Person> = {}): Person => ({
  id: `id-${badgeId}`,
  badgeId,
  displayName,
  role: 'operator',
  active: true,
  hasPin: false,
  needsPin: false,
  updatedBy: '',
  updatedAt: 1_700_000_000_000,
  pending: false,
  syncState: '',
  language: '',
  ...over,
});

export const siteData = (over: Partial<SiteData> = {}): SiteData => ({
  lines: [line('L2'), line('L10'), line('L1'), line('L9', { active: false })],
  products: [product('P-100'), product('P-OLD', { active: false })],
  people: [person('B-9', 'Max Weber', { role: 'manager', hasPin: true, needsPin: true }), person('B-1', 'Ana Lima')],
  settings: {
    timeZone: 'Europe/Berlin',
    shifts: 'Early=06:00,Late=14:00,Night=22:00',
    clockSkewMinutes: 0,
    idleSignOutSeconds: 0,
    pinRoles: ['supervisor', 'manager'],
    configured: true,
    pending: false,
  },
  canEdit: true,
  editBlocked: '',
  ...over,
});
