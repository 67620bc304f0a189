// @vitest-environment node
import { afterEach, describe, expect, it } from 'vitest';
import { scanAction, type ScanContext } from './badgeswitch';
import { setLocale } from '../i18n';

const people = [
  { badgeId: 'OP-100', active: true },
  { badgeId: 'OP-200', active: true },
  { badgeId: 'OLD-1', active: false },
];
const ctx = (p: Partial<ScanContext>): ScanContext => ({ signedIn: 'OP-100', people, editable: false, entryField: false, ...p });

describe('a scan on any screen', () => {
  it.each([
    ['another badge outside a field switches', 'OP-200', ctx({}), { kind: 'switch', badge: 'OP-200' }],
    ['another badge in a filter field switches', 'OP-200', ctx({ editable: true }), { kind: 'switch', badge: 'OP-200' }],
    ['the entry form handles its own fields', 'OP-200', ctx({ editable: true, entryField: true }), { kind: 'none' }],
    ['the own badge is the same person', 'OP-100', ctx({}), { kind: 'same' }],
    ['a retired badge is not a person', 'OLD-1', ctx({ editable: true }), { kind: 'none' }],
    ['a code typed into a field is that field’s', 'P-100', ctx({ editable: true }), { kind: 'none' }],
    ['nobody signed in: the sign-in screen takes it', 'OP-200', ctx({ signedIn: '' }), { kind: 'none' }],
  ])('%s', (_n, code, c, want) => {
    expect(scanAction(code as string, c as ScanContext)).toEqual(want);
  });

  it('refuses a product scanned where nothing takes it (a tapped row, a button)', () => {
    const a = scanAction('4006381333931', ctx({}));
    expect(a.kind).toBe('refuse');
    expect(a.kind === 'refuse' && a.message).toMatch(/^4006381333931 was scanned where nothing takes a scan/);
  });

  it('says the refusal in the terminal’s language (issue 21)', () => {
    setLocale('de');
    const a = scanAction('4006381333931', ctx({}));
    expect(a.kind === 'refuse' && a.message).toMatch(/^4006381333931 wurde gescannt, wo kein Feld einen Scan annimmt\. Zu Einträge/);
    setLocale('en-XA');
    const x = scanAction('4006381333931', ctx({}));
    expect(x.kind === 'refuse' && x.message).toMatch(/^⟦4006381333931 .*⟧$/);
  });
});

afterEach(() => setLocale(null));
