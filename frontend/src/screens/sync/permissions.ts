// Who may disconnect, enroll again and discard on this terminal: the same
// rules the Go side checks (app/sync.go: managerWithPIN, mayDiscard), so a
// button is disabled with the reason beside it before anyone presses it.
// The Go side's refusal is still shown when it says no.
import type { Session } from '../../lib/api';

/** managerWithPinReason is why the signed-in person may not do `what` (a
 * phrase: "disconnect this computer from the server"), or "" when they
 * may: a site without people has no sign-in; otherwise a manager who
 * signed in with a PIN (a signed-in person who needs a PIN entered it). */
export function managerWithPinReason(s: Session, what: string): string {
  if (!s.required) return '';
  const p = s.signedIn ? s.person : null;
  if (!p) return `Sign in as a manager to ${what}.`;
  if (p.role !== 'manager') return `Only a manager can ${what}; ${p.displayName} is signed in as ${p.role}.`;
  if (!p.needsPin) return `Only a manager who signs in with a PIN can ${what}; ${p.displayName} has no PIN: set one on the Site screen first.`;
  return '';
}

/** changedBy is the badge id of who made a row's change: a record's
 * operator, else the row's updated_by ("" when neither is set). */
export function changedBy(table: string, row: { [k: string]: unknown } | null | undefined): string {
  if (!row) return '';
  if (table === 'production_records' && typeof row.operator_id === 'string' && row.operator_id) return row.operator_id;
  return typeof row.updated_by === 'string' ? row.updated_by : '';
}

/** discardReason is why the signed-in person may not discard a refused
 * change to row, or "" when they may: the person who made it, a
 * supervisor or a manager. */
export function discardReason(s: Session, table: string, row: { [k: string]: unknown } | null | undefined): string {
  if (!s.required) return '';
  const p = s.signedIn ? s.person : null;
  if (!p) return 'Sign in to discard a change: only the person who made it, a supervisor or a manager may.';
  if (p.role === 'supervisor' || p.role === 'manager') return '';
  const by = changedBy(table, row);
  if (by && by === p.badgeId) return '';
  return `Only ${by ? `${by}, who made this change,` : 'the person who made it,'} a supervisor or a manager can discard it.`;
}
