// The state of the Conflicts screen, shared by its views (inbox, head,
// diff, decision, history): the inbox and its filter, the selected
// conflict, the choices, the reason and the notice of a decision, and the
// decision of a resolved conflict. One ConflictsView a screen; its views
// get it as a prop and read and change it in place.
import { fromStore } from 'svelte/store';
import { conflicts as api, type Conflict, type HistoryEntry, type ApiError, toApiError, errorText } from '../../lib/api';
import { t, type MessageKey } from '../../i18n';
import { syncStatus } from '../../stores/sync';
import { headquartersDown } from '../../lib/sync';
import { schemaTables } from '../../stores/schema';
import { personMayResolve } from '../../stores/session';
import { conflictNav } from '../../lib/conflictnav.svelte';
import {
  diffRows,
  defaultChoices,
  mergedRow,
  deleteSide,
  decisionVersion,
  decidedRow,
  decidedSides,
  localDecision,
  conflictsTable,
  sideNames,
  foldUnchanged,
  editable,
  sortInbox,
  filterInbox,
  emptyInboxFilter,
  type Choice,
  type Side,
  type InboxFilter,
  type Row,
} from '../../lib/conflict';

// A notice is kept as what to say, not as words: it is said in the
// language shown, also after a switch.
export type Notice = { key: MessageKey } | { error: unknown };

// The decision of a resolved conflict: the row as the server stored it
// with the decision. app.Conflict carries it (decided, at rowVersion)
// when this computer's row is clean at the version the decision made:
// then it is shown from local data, offline too (localDecision).
// Otherwise (edited here or moved on since, not arrived yet) it is read
// from the server's history: the conflict record's versions name the
// row's version, the row's history holds it. Unknown (offline, purged):
// the Result column is left out, not guessed.
export type Decided =
  | { key: string; state: 'loading' }
  | { key: string; state: 'shown'; row: Row; version: number }
  | { key: string; state: 'unknown'; why: Notice };

/** say is a notice or a reason in the language shown. */
export function say(n: Notice): string {
  return 'key' in n ? t(n.key) : errorText(n.error);
}

const statusKeys: { [s: string]: MessageKey } = {
  open: 'conflicts.status.open',
  auto_resolved: 'conflicts.status.auto_resolved',
  resolved: 'conflicts.status.resolved',
};

/** statusLabel is a conflict's status in words. */
export function statusLabel(s: string): string {
  const k = statusKeys[s];
  return k ? t(k) : s;
}

/** summary names the row in conflict (person, line, product, record). */
export function summary(c: Conflict): string {
  const r = c.theirs ?? c.mine ?? {};
  const v = (k: string, missing = '') => (r[k] === null || r[k] === undefined ? missing : String(r[k]));
  if (c.table === 'people') return t('conflicts.summary.person', { name: v('display_name'), badge: v('badge_id', '?') });
  if (c.table === 'lines' || c.table === 'products') return t('conflicts.summary.code', { code: v('code', '?'), name: v('name') });
  if (c.table === 'site_settings') return t('table.one.site_settings');
  return c.table === 'line_configs'
    ? t('conflicts.summary.lineConfig', { line: v('line_id', '?'), recipe: v('recipe') })
    : t('conflicts.summary.record', { line: v('line_id', '?'), product: v('product_id') });
}

/** recordedOnSite: a site's own computer (a site hub) recorded the
 * conflict (issue 19): its record names that owner; "" for one recorded
 * at headquarters. */
export function recordedOnSite(c: Conflict): boolean {
  return !!c.owner;
}

/** decidedOnSite: this computer's decision was refused because the
 * conflict is decided at the site that recorded it (409
 * resolve_at_owner, kept by the sync client as a refused decision with
 * "resolve_at_owner: …" as its error). Deciding again here cannot help:
 * a manager there decides, and the decision reaches this computer. */
export function decidedOnSite(c: Conflict | null): boolean {
  return !!c && c.status === 'open' && c.decision === 'stale' && (c.decisionError ?? '').startsWith('resolve_at_owner:');
}

export type Choices = { [field: string]: Choice | undefined };

export class ConflictsView {
  all = $state<Conflict[]>([]);
  error = $state<ApiError | null>(null);
  filter = $state<InboxFilter>({ ...emptyInboxFilter });
  selectedId = $state('');
  choices = $state<Choices>({});
  reason = $state('');
  busy = $state(false);
  notice = $state<Notice | null>(null);
  focusField = $state(0);
  showUnchanged = $state(false);
  history = $state<HistoryEntry[] | null>(null);
  decided = $state<Decided | null>(null);

  #sync = fromStore(syncStatus);
  #personMayResolve = fromStore(personMayResolve);
  // The registry's tables (loaded once at start): which fields a diff
  // compares, in order.
  #schema = fromStore(schemaTables);

  // A manager computer decides; when the site has people, the person signed
  // in there must be a manager too (the Go side refuses otherwise, with a
  // sentence shown as the notice).
  isManager = $derived(this.#sync.current.phase === 'ready' && this.#sync.current.status.role === 'manager');
  personBlocked = $derived(this.isManager && !this.#personMayResolve.current);
  online = $derived(this.#sync.current.phase === 'ready' && this.#sync.current.status.online);
  // This computer syncs with a site hub cut off from headquarters: a
  // decision the hub cannot forward waits here, and the words say why.
  headquartersCut = $derived(this.#sync.current.phase === 'ready' && headquartersDown(this.#sync.current.status));
  thisDevice = $derived(this.#sync.current.phase === 'ready' ? (this.#sync.current.status.deviceId ?? '') : '');

  shown = $derived(filterInbox(sortInbox(this.all), this.filter));
  selected = $derived(this.all.find((c) => c.id === this.selectedId) ?? null);
  // After a 409 stale_base the server's new state replaces "theirs".
  theirs = $derived(
    this.selected ? (this.selected.decision === 'stale' && this.selected.staleRow ? this.selected.staleRow : this.selected.theirs) : {},
  );
  baseVersion = $derived(
    this.selected
      ? this.selected.decision === 'stale' && this.selected.staleVersion
        ? this.selected.staleVersion
        : this.selected.theirsVersion
      : 0,
  );
  diffs = $derived(this.selected ? diffRows(this.#merged(this.selected.table), this.selected.base, this.selected.mine, this.theirs) : []);
  folded = $derived(foldUnchanged(this.diffs));
  // The rows on screen: the changed fields, and the unchanged ones when unfolded.
  visible = $derived(this.showUnchanged ? [...this.folded.changed, ...this.folded.unchanged] : this.folded.changed);
  names = $derived(this.selected ? sideNames(this.selected, this.thisDevice, this.theirs) : null);
  merged = $derived(mergedRow(this.diffs, this.choices, this.theirs));
  deleted = $derived(this.selected ? deleteSide(this.selected.mine, this.theirs) : null);
  // Resolved: nothing left to choose (the server refuses a second decision;
  // only an auto-resolved conflict can be reverted).
  isResolved = $derived(this.selected?.status === 'resolved');
  // Decided at the site that recorded it: nothing to choose here either.
  onSite = $derived(decidedOnSite(this.selected));
  canChoose = $derived(this.isManager && !this.isResolved && !this.onSite);
  decidedKey = $derived(this.selected && this.selected.status === 'resolved' ? `${this.selected.id}:${this.selected.resolvedAt}` : '');
  local = $derived(localDecision(this.selected));
  hasLocal = $derived(!!this.local);
  shownDecision = $derived(
    this.local ?? (this.decided && this.decided.key === this.decidedKey && this.decided.state === 'shown' ? this.decided : null),
  );

  /** load reads the inbox; it selects the conflict another screen asked
   * for, else the first one when none is selected. */
  async load() {
    try {
      this.all = await api.list();
      this.error = null;
      const wanted = conflictNav.wantedRow;
      const asked = wanted ? this.all.find((c) => c.rowId === wanted && c.status === 'open') : undefined;
      if (asked) {
        conflictNav.wantedRow = '';
        this.select(asked);
      } else if (!this.selectedId && this.all.length) this.select(sortInbox(this.all)[0]);
    } catch (e) {
      this.error = toApiError(e);
    }
  }

  /** followDecision asks the server for the decision of the resolved
   * conflict shown, only when this computer does not hold it (an effect:
   * it follows decidedKey and hasLocal). */
  followDecision(key: string, fromHere: boolean) {
    if (!key || fromHere) this.decided = null;
    else if (this.decided?.key !== key) void this.loadDecision(key);
  }

  /** retryDecision reads the decision again once the server is reachable,
   * if it was not before. */
  retryDecision() {
    if (this.decided?.state === 'unknown' && this.decided.key === this.decidedKey) void this.loadDecision(this.decided.key);
  }

  async loadDecision(key: string) {
    const c = this.selected;
    if (!c) return;
    this.decided = { key, state: 'loading' };
    let next: Decided;
    try {
      const version = decisionVersion(await api.history(conflictsTable, c.id));
      const row = version ? decidedRow(await api.history(c.table, c.rowId), version) : null;
      if (row) next = { key, state: 'shown', row, version };
      else if (!version) next = { key, state: 'unknown', why: { key: 'conflicts.decided.noRecord' } };
      else next = { key, state: 'unknown', why: { key: 'conflicts.decided.purged' } };
    } catch (e) {
      const err = toApiError(e);
      next = { key, state: 'unknown', why: err.code === 'offline' ? { key: 'conflicts.decided.offline' } : { error: err } };
    }
    if (this.decided?.key === key) this.decided = next;
  }

  /** The fields the diff of a conflict on table compares (the registry's
   * TableSchema.merged), or undefined before the registry arrived. */
  #merged(table: string): string[] | undefined {
    return this.#schema.current[table]?.merged;
  }

  select(c: Conflict) {
    this.selectedId = c.id;
    const theirs = c.decision === 'stale' && c.staleRow ? c.staleRow : c.theirs;
    this.choices = defaultChoices(diffRows(this.#merged(c.table), c.base, c.mine, theirs));
    this.reason = '';
    this.notice = null;
    this.focusField = 0;
    this.showUnchanged = false;
    this.history = null;
  }

  choose(field: string, side: Side) {
    this.choices = { ...this.choices, [field]: { side } };
  }

  typeValue(field: string, text: string) {
    this.choices = { ...this.choices, [field]: { typed: text } };
  }

  chooseAll(side: Side) {
    const next: Choices = {};
    for (const d of this.diffs) next[d.field] = { side };
    this.choices = next;
  }

  async resolve() {
    if (!this.selected) return;
    if (this.merged.undecided.length) {
      this.notice = { key: 'conflicts.notice.undecided' };
      return;
    }
    if (!this.reason.trim()) {
      this.notice = { key: 'conflicts.notice.noReason' };
      return;
    }
    this.busy = true;
    this.notice = null;
    try {
      const state = await api.resolve(this.selected.id, this.merged.row, this.baseVersion, this.reason);
      this.notice = {
        key:
          state === 'sent'
            ? 'conflicts.notice.sent'
            : state === 'queued'
              ? this.headquartersCut
                ? 'conflicts.notice.queuedHq'
                : 'conflicts.notice.queued'
              : 'conflicts.notice.stale',
      };
      await this.load();
      if (state === 'stale') {
        const c = this.all.find((x) => x.id === this.selectedId);
        if (c) this.select(c);
      }
    } catch (e) {
      this.notice = { error: e };
    } finally {
      this.busy = false;
    }
  }

  async showHistory() {
    if (!this.selected) return;
    try {
      this.history = await api.history(this.selected.table, this.selected.rowId);
    } catch (e) {
      this.notice = { error: e };
    }
  }

  /** key is the screen's keyboard: j/k (arrows) move between fields, m/t/b
   * choose a side, r goes to the reason, n/p to the next or previous
   * conflict. */
  key(e: KeyboardEvent) {
    if (!this.selected || e.altKey || e.ctrlKey || e.metaKey) return;
    const tag = (e.target as HTMLElement)?.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
    const d = this.visible[this.focusField];
    const k = e.key.toLowerCase();
    if (k === 'j' || k === 'arrowdown') this.focusField = Math.min(this.visible.length - 1, this.focusField + 1);
    else if (k === 'k' || k === 'arrowup') this.focusField = Math.max(0, this.focusField - 1);
    else if (d && this.canChoose && k === 'm') this.choose(d.field, 'mine');
    else if (d && this.canChoose && k === 't') this.choose(d.field, 'theirs');
    else if (d && this.canChoose && k === 'b') this.choose(d.field, 'base');
    else if (k === 'r' && this.canChoose) document.getElementById('reason')?.focus();
    else if (k === 'n' || k === 'p') {
      const i = this.shown.findIndex((c) => c.id === this.selectedId);
      const next = this.shown[i + (k === 'n' ? 1 : -1)];
      if (next) this.select(next);
    } else return;
    e.preventDefault();
  }

  /** resultValue is what the Result cell of field holds: the typed text,
   * else the chosen side's value ('' while undecided). */
  resultValue(field: string): string {
    return this.typed(field) || (this.merged.undecided.includes(field) ? '' : editable(this.merged.row[field]));
  }

  /** chosen says whether side's value of field is the one taken: the
   * choice, or for a resolved conflict the decision's. */
  chosen(field: string, side: Side): boolean {
    if (this.isResolved) {
      // The decision's value, where it is one side's (nothing to show for a
      // field nobody changed: every side holds it).
      const d = this.diffs.find((x) => x.field === field);
      return !!this.shownDecision && !!d && d.kind !== 'same' && decidedSides(d, this.shownDecision.row[field]).includes(side);
    }
    const c = this.choices[field];
    return !!c && 'side' in c && c.side === side;
  }

  typed(field: string): string {
    const c = this.choices[field];
    return c && 'typed' in c ? c.typed : '';
  }
}
