// conflictnav: which conflict the Conflicts screen opens with, when
// another screen (a flagged line configuration) sends a person there.
// Runes state, not a store: one screen writes it, one reads and clears it.

/** wantedRow is the row id whose open conflict to select ('' = any). */
export const conflictNav = $state({ wantedRow: '' });
