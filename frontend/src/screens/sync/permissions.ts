// Who may disconnect, enroll again and discard on this terminal: the same
// rules the Go side checks (app/sync.go: managerWithPIN, mayDiscard), so a
// button is disabled with the reason beside it before anyone presses it.
// The Go side's refusal is still shown when it says no.
import type { Session } from '../../lib/api';
import { roleLabel } from '../../lib/signin';
import { t } from '../../i18n';

/** What a manager with a PIN may do here: connect this computer to a
 * server again, or disconnect it. */
export type ManagerAction = 'reconnect' | 'disconnect';

/** managerWithPinReason is why the signed-in person may not do action, in
 * the language shown, or "" when they may: a site without people has no
 * sign-in; otherwise a manager who signed in with a PIN (a signed-in
 * person who needs a PIN entered it). */
export function managerWithPinReason(s: Session, action: ManagerAction): string {
  if (!s.required) return '';
  const p = s.signedIn ? s.person : null;
  const reconnect = action === 'reconnect';
  if (!p) return reconnect ? t('sync.blocked.reconnect.signIn') : t('sync.blocked.disconnect.signIn');
  const values = { name: p.displayName, role: roleLabel(p.role) };
  if (p.role !== 'manager')
    return reconnect ? t('sync.blocked.reconnect.notManager', values) : t('sync.blocked.disconnect.notManager', values);
  if (!p.needsPin) return reconnect ? t('sync.blocked.reconnect.noPin', values) : t('sync.blocked.disconnect.noPin', values);
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
  if (!p) return t('sync.discard.signIn');
  if (p.role === 'supervisor' || p.role === 'manager') return '';
  const by = changedBy(table, row);
  if (by && by === p.badgeId) return '';
  return by ? t('sync.discard.notYoursBy', { by }) : t('sync.discard.notYours');
}
