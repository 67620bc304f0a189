// A badge scanned into the entry form while someone is signed in means
// "switch to this person" (issue 20, item 2): the form signs out and leaves
// the badge here, and the sign-in screen identifies it at once.
import { writable } from 'svelte/store';

/** switchBadge holds a badge scanned to switch operator, until the sign-in
 * screen takes it. */
export const switchBadge = writable('');
