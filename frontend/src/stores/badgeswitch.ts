// A badge scanned while someone is signed in means "switch to this person"
// (issue 20, item 2) — in the entry form and on every other screen: the
// terminal signs out and leaves the badge here, and the sign-in screen
// identifies it at once. A scan outside any field that is not a badge is
// refused out loud (it used to press the focused button, or vanish).
import { writable } from 'svelte/store';
import { t } from '../i18n';

/** switchBadge holds a badge scanned to switch operator, until the sign-in
 * screen takes it. */
export const switchBadge = writable('');

export type ScanAction =
  | { kind: 'none' } // not ours: the field or form that has the focus takes it
  | { kind: 'same' } // the signed-in person's own badge
  | { kind: 'switch'; badge: string }
  | { kind: 'refuse'; message: string };

export interface ScanContext {
  /** the signed-in person's badge; '' when nobody is (or the site has no people) */
  signedIn: string;
  /** the site's people (badge and whether they may sign in) */
  people: { badgeId: string; active: boolean }[];
  /** the focused element takes typed text */
  editable: boolean;
  /** the focused element is a field of the entry form (it handles badges itself) */
  entryField: boolean;
}

/** scanAction decides what a scan (a burst of keys ended by Enter) does. */
export function scanAction(code: string, ctx: ScanContext): ScanAction {
  const badge = code.trim();
  if (!ctx.signedIn || !badge) return { kind: 'none' };
  const person = ctx.people.find((p) => p.active && p.badgeId === badge);
  if (person) {
    if (ctx.entryField) return { kind: 'none' };
    return badge === ctx.signedIn ? { kind: 'same' } : { kind: 'switch', badge };
  }
  if (ctx.editable) return { kind: 'none' };
  return {
    kind: 'refuse',
    message: t('scan.nowhere', { code: badge.length > 40 ? badge.slice(0, 40) + '…' : badge }),
  };
}
