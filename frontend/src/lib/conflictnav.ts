// conflictnav: which conflict the Conflicts screen opens with, when
// another screen (a flagged line configuration) sends a person there.
import { writable } from 'svelte/store';

/** wantedConflictRow is the row id whose open conflict to select ('' = any). */
export const wantedConflictRow = writable('');
