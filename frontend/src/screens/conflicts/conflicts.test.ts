import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import ConflictsScreen from './ConflictsScreen.svelte';
import { installBackend, removeBackend } from '../../test/fakeBackend';
import { syncStatusOf } from '../../test/syncFixtures';
import { syncStatus } from '../../stores/sync';
import { session, noSession } from '../../stores/session';
import type { SyncStatus } from '../../lib/api';
import { setLocale } from '../../i18n';

const status = (role: string) => syncStatusOf({ serverUrl: 'https://s', role, openConflicts: 1, lastSync: 1 });

const row = { id: 'r1', line_id: 'L1', product_id: 'P-100', quantity: 5, operator_id: 'B-1', deleted_at: null };
const conflict = (over: object = {}) => ({
  id: 'c1',
  table: 'production_records',
  rowId: 'r1',
  status: 'open',
  base: row,
  mine: { ...row, quantity: 7 },
  theirs: { ...row, quantity: 9, operator_id: 'B-2' },
  winner: '',
  fields: ['quantity'],
  deviceId: 'aaaabbbbccccdddd',
  createdAt: 1_700_000_000_000,
  resolvedAt: 0,
  resolvedBy: '',
  resolvedByPerson: '',
  resolvedByName: '',
  mineBy: 'B-1',
  mineByName: 'Ana Lima',
  reason: '',
  theirsVersion: 3,
  decision: '',
  decisionError: '',
  staleRow: null,
  staleVersion: 0,
  ...over,
});

const max = { badgeId: 'B-9', displayName: 'Max Weber', role: 'manager', needsPin: true };
const ana = { badgeId: 'B-1', displayName: 'Ana Lima', role: 'operator', needsPin: false };

beforeEach(() => syncStatus.set(status('manager')));
afterEach(() => {
  cleanup();
  removeBackend();
  session.set(noSession);
});

describe('ConflictsScreen with people', () => {
  it('names who made the change, who decided, and each version in the history', async () => {
    installBackend({
      ConflictService: {
        List: () =>
          Promise.resolve([
            conflict({
              status: 'resolved',
              resolvedAt: 1_700_000_100_000,
              resolvedBy: 'mgr-device-1',
              resolvedByPerson: 'B-9',
              resolvedByName: 'Max Weber',
              reason: 'Counted again',
            }),
          ]),
        History: () =>
          Promise.resolve([
            { version: 1, hlc: '1', deviceId: 'aaaabbbbccccdddd', row, byName: 'Ana Lima' },
            { version: 2, hlc: '2', deviceId: 'eeeeffff00001111', row: { ...row, quantity: 9 }, byName: '' },
          ]),
      },
    });
    session.set({ ...noSession, required: true, signedIn: true, person: max });
    render(ConflictsScreen);
    expect((await screen.findByTestId('conflict-mine-by')).textContent).toBe('Ana Lima');
    expect(screen.getByTestId('conflict-resolved-by').textContent).toBe('Max Weber');
    expect(screen.getByTestId('conflict-by').textContent).toContain('by Ana Lima');
    // The sides are people and times, not Mine/Theirs/Base.
    expect(screen.getByTestId('head-mine').textContent).toMatch(/^Ana Lima.* — saved second$/);
    expect(screen.getByTestId('head-theirs').textContent).toMatch(/ — saved first$/);
    expect(document.querySelector('[data-testid="diff"] thead')!.textContent).not.toMatch(/\b(Mine|Theirs|Base|server)\b/);
    await fireEvent.click(screen.getByTestId('history'));
    const by = await screen.findAllByTestId('history-by');
    expect(by.map((b) => b.textContent)).toEqual(['Ana Lima', 'device eeeeffff']);
  });

  it('a manager computer with an operator signed in: the reason beside Resolve, and the Go refusal shown', async () => {
    const resolve = vi.fn(() =>
      Promise.reject({ code: 'forbidden', message: 'Only a manager can resolve conflicts; Ana Lima is signed in as an operator.' }),
    );
    installBackend({ ConflictService: { List: () => Promise.resolve([conflict()]), Resolve: resolve } });
    session.set({ ...noSession, required: true, signedIn: true, person: ana });
    render(ConflictsScreen);
    expect((await screen.findByTestId('resolve-blocked')).textContent).toContain(
      'Signed in as Ana Lima (Operator): only a manager can resolve conflicts.',
    );
    await fireEvent.click(screen.getByTestId('take-theirs')); // take all: theirs
    await fireEvent.input(screen.getByLabelText(/Reason/), { target: { value: 'Counted again' } });
    await fireEvent.click(screen.getByTestId('resolve'));
    await vi.waitFor(() =>
      expect(screen.getByTestId('resolve-notice').textContent).toBe(
        'Only a manager can resolve conflicts; Ana Lima is signed in as an operator.',
      ),
    );
    expect(resolve).toHaveBeenCalled();
  });

  it('no reason shown to a signed-in manager, nor when the site has no people', async () => {
    installBackend({ ConflictService: { List: () => Promise.resolve([conflict()]) } });
    session.set({ ...noSession, required: true, signedIn: true, person: max });
    render(ConflictsScreen);
    await screen.findByTestId('resolve');
    expect(screen.queryByTestId('resolve-blocked')).toBeNull();
    session.set(noSession);
    await Promise.resolve();
    expect(screen.queryByTestId('resolve-blocked')).toBeNull();
  });
});

describe('ConflictsScreen header', () => {
  it('has a space between when it was decided and who decided', async () => {
    installBackend({
      ConflictService: {
        List: () =>
          Promise.resolve([
            conflict({ status: 'resolved', resolvedAt: 1_700_000_100_000, resolvedBy: 'mgr-device-1', resolvedByName: 'Max Weber' }),
          ]),
        History: () => Promise.resolve([]),
      },
    });
    render(ConflictsScreen);
    const by = await screen.findByTestId('conflict-resolved-by');
    const line = by.parentElement!.textContent!.replace(/\s+/g, ' ');
    expect(line).toMatch(/decided \S.* by Max Weber/);
    expect(line).not.toMatch(/\Sby Max Weber/);
  });
});

describe('ConflictsScreen, a resolved conflict', () => {
  // The decision took mine's quantity (7) and theirs' operator (B-2).
  const decidedRow = { ...row, quantity: 7, operator_id: 'B-2', server_updated_at: 1_700_000_100_000 };
  const resolved = conflict({
    status: 'resolved',
    resolvedAt: 1_700_000_100_000,
    resolvedBy: 'mgr-device-1',
    resolvedByPerson: 'B-9',
    resolvedByName: 'Max Weber',
    reason: 'Counted again',
  });
  function history(
    rowVersions: object[],
    recordVersions: object[] = [
      { version: 4, hlc: '4', deviceId: 'x', row: { id: 'c1', status: 'open', row_version: 0 }, byName: '' },
      { version: 6, hlc: '6', deviceId: 'x', row: { id: 'c1', status: 'resolved', row_version: 5 }, byName: '' },
    ],
  ) {
    return vi.fn((table: unknown) => Promise.resolve(table === 'sync_conflicts' ? recordVersions : rowVersions));
  }
  const rowVersions = [
    { version: 3, hlc: '3', deviceId: 'eeeeffff00001111', row: theirsRow(), byName: '' },
    { version: 5, hlc: '5', deviceId: 'mgr-device-1', row: decidedRow, byName: 'Max Weber' },
  ];
  function theirsRow() {
    return { ...row, quantity: 9, operator_id: 'B-2' };
  }
  const cell = (field: string, side: number) =>
    document.querySelectorAll(`tr[data-field="${field}"] button.cell`)[side] as HTMLButtonElement;

  it('shows the decided row read-only, the values taken highlighted, and no Resolve', async () => {
    const History = history(rowVersions);
    installBackend({ ConflictService: { List: () => Promise.resolve([resolved]), History } });
    session.set({ ...noSession, required: true, signedIn: true, person: max });
    render(ConflictsScreen);
    expect((await screen.findByTestId('decided-quantity')).textContent!.trim()).toBe('7');
    expect(screen.getByTestId('decided-operator_id').textContent!.trim()).toBe('B-2');
    expect(History).toHaveBeenCalledWith('sync_conflicts', 'c1');
    expect(History).toHaveBeenCalledWith('production_records', 'r1');
    // quantity: mine (7) was taken; operator: theirs (B-2)
    expect([0, 1, 2].map((i) => cell('quantity', i).getAttribute('aria-pressed'))).toEqual(['false', 'true', 'false']);
    expect([0, 1, 2].map((i) => cell('operator_id', i).getAttribute('aria-pressed'))).toEqual(['false', 'false', 'true']);
    // a field nobody changed is folded away, and once shown not marked as a choice
    expect(cell('line_id', 0)).toBeUndefined();
    await fireEvent.click(screen.getByTestId('unchanged-toggle'));
    expect([0, 1, 2].map((i) => cell('line_id', i).getAttribute('aria-pressed'))).toEqual(['false', 'false', 'false']);
    expect(cell('quantity', 0).disabled).toBe(true);
    expect(screen.queryByPlaceholderText('choose or type')).toBeNull();
    expect(screen.queryAllByRole('textbox', { name: /Result for/ })).toHaveLength(0);
    expect(screen.queryByTestId('resolve')).toBeNull();
    expect(document.getElementById('reason')).toBeNull();
    expect(screen.getByTestId('decided-note').textContent).not.toMatch(/version/);
    // M (choose mine) does nothing on a decided conflict
    await fireEvent.keyDown(window, { key: 'j' });
    await fireEvent.keyDown(window, { key: 'b' });
    expect(cell('quantity', 0).getAttribute('aria-pressed')).toBe('false');
    // History marks the decided version
    await fireEvent.click(screen.getByTestId('history'));
    const mark = await screen.findByTestId('history-decision');
    expect(mark.closest('li')!.textContent).toContain('Max Weber');
    expect(mark.closest('li')!.textContent).not.toMatch(/\bv5\b/);
  });

  it('says a value was typed in when no side holds it', async () => {
    const typed = [{ ...rowVersions[1], row: { ...decidedRow, quantity: 8 } }];
    installBackend({ ConflictService: { List: () => Promise.resolve([resolved]), History: history(typed) } });
    render(ConflictsScreen);
    const q = await screen.findByTestId('decided-quantity');
    expect(q.textContent).toContain('8');
    expect(q.textContent).toContain('typed in');
    expect([0, 1, 2].map((i) => cell('quantity', i).getAttribute('aria-pressed'))).toEqual(['false', 'false', 'false']);
  });

  it('without the server, leaves the Result column out and says where to look', async () => {
    installBackend({
      ConflictService: { List: () => Promise.resolve([resolved]), History: () => Promise.reject({ code: 'offline', message: '' }) },
    });
    session.set({ ...noSession, required: true, signedIn: true, person: max });
    render(ConflictsScreen);
    const note = await screen.findByTestId('decided-unknown');
    expect(note.textContent).toContain('Decided: see History.');
    expect(note.textContent).toContain('cannot be reached');
    expect(screen.queryByRole('columnheader', { name: 'Result' })).toBeNull();
    expect(document.querySelectorAll('td.result')).toHaveLength(0);
    expect(document.querySelectorAll('button.cell[aria-pressed="true"]')).toHaveLength(0);
    expect(screen.queryByTestId('resolve')).toBeNull();
  });

  it('when the server no longer keeps the decided version, says so instead of guessing', async () => {
    installBackend({ ConflictService: { List: () => Promise.resolve([resolved]), History: history([rowVersions[0]]) } });
    render(ConflictsScreen);
    expect((await screen.findByTestId('decided-unknown')).textContent).toContain('no longer keeps the decided values');
    expect(document.querySelectorAll('td.result')).toHaveLength(0);
  });

  describe('decided on this computer (decided, rowVersion)', () => {
    const offline = () => syncStatus.set({ ...status('manager'), online: false } as SyncStatus);
    const noServer = () => vi.fn(() => Promise.reject({ code: 'offline', message: '' }));
    afterEach(() => vi.useRealTimers());

    it('offline, shows the decided row from local data without asking the server', async () => {
      offline();
      const History = noServer();
      installBackend({ ConflictService: { List: () => Promise.resolve([{ ...resolved, rowVersion: 5, decided: decidedRow }]), History } });
      session.set({ ...noSession, required: true, signedIn: true, person: max });
      render(ConflictsScreen);
      expect((await screen.findByTestId('decided-quantity')).textContent!.trim()).toBe('7');
      expect(screen.getByTestId('decided-operator_id').textContent!.trim()).toBe('B-2');
      expect(screen.getByTestId('decided-note').textContent).not.toMatch(/version/);
      expect(screen.getByRole('columnheader', { name: 'Result' })).toBeTruthy();
      expect([0, 1, 2].map((i) => cell('quantity', i).getAttribute('aria-pressed'))).toEqual(['false', 'true', 'false']);
      expect([0, 1, 2].map((i) => cell('operator_id', i).getAttribute('aria-pressed'))).toEqual(['false', 'false', 'true']);
      expect(screen.queryByTestId('decided-unknown')).toBeNull();
      expect(screen.queryByTestId('decided-loading')).toBeNull();
      expect(screen.queryByTestId('resolve')).toBeNull();
      expect(History).not.toHaveBeenCalled();
    });

    it('without the decided row here, falls back to the server’s history and keeps the offline message', async () => {
      offline();
      const History = noServer();
      installBackend({ ConflictService: { List: () => Promise.resolve([{ ...resolved, rowVersion: 5, decided: null }]), History } });
      render(ConflictsScreen);
      const note = await screen.findByTestId('decided-unknown');
      expect(note.textContent).toContain('Decided: see History.');
      expect(note.textContent).toContain('cannot be reached');
      expect(History).toHaveBeenCalledWith('sync_conflicts', 'c1');
      expect(document.querySelectorAll('td.result')).toHaveLength(0);
    });

    it('online without the decided row here, reads it from the server', async () => {
      const History = history(rowVersions);
      installBackend({ ConflictService: { List: () => Promise.resolve([{ ...resolved, rowVersion: 5, decided: null }]), History } });
      render(ConflictsScreen);
      expect((await screen.findByTestId('decided-quantity')).textContent!.trim()).toBe('7');
      expect(History).toHaveBeenCalledWith('production_records', 'r1');
    });

    it('follows the local row: shown once it arrives, the server asked again once it is edited here', async () => {
      offline();
      const History = noServer();
      let list: object[] = [{ ...resolved, rowVersion: 5, decided: null }];
      installBackend({ ConflictService: { List: () => Promise.resolve(list), History } });
      render(ConflictsScreen);
      await screen.findByTestId('decided-unknown');
      expect(History).toHaveBeenCalledTimes(1);
      // The decided row is pulled: the sync:status at the end of that sync
      // has the inbox read again, which brings it.
      list = [{ ...resolved, rowVersion: 5, decided: decidedRow }];
      syncStatus.set({ ...status('manager'), online: false, lastSync: 2 } as SyncStatus);
      expect((await screen.findByTestId('decided-quantity')).textContent!.trim()).toBe('7');
      expect(screen.queryByTestId('decided-unknown')).toBeNull();
      expect(History).toHaveBeenCalledTimes(1);
      // Edited here since (a write here is announced with its pending
      // count): this computer no longer holds the decision.
      list = [{ ...resolved, rowVersion: 5, decided: null }];
      syncStatus.set({ ...status('manager'), online: false, lastSync: 2, pending: 1 } as SyncStatus);
      expect((await screen.findByTestId('decided-unknown')).textContent).toContain('cannot be reached');
      expect(History).toHaveBeenCalledTimes(2);
      expect(document.querySelectorAll('td.result')).toHaveLength(0);
    });
  });

  it('an auto-resolved conflict keeps the manager’s Revert', async () => {
    const History = vi.fn(() => Promise.resolve([]));
    installBackend({
      ConflictService: { List: () => Promise.resolve([conflict({ status: 'auto_resolved', winner: 'theirs' })]), History },
    });
    session.set({ ...noSession, required: true, signedIn: true, person: max });
    render(ConflictsScreen);
    expect((await screen.findByTestId('resolve')).textContent).toContain('Revert to the result');
    expect(screen.getByRole('columnheader', { name: 'Result' })).toBeTruthy();
    expect(History).not.toHaveBeenCalled();
  });
});

describe('ConflictsScreen, kept up to date (issue 18)', () => {
  afterEach(() => vi.useRealTimers());

  it('reads the inbox again when a sync:status says the data here changed, not on a progress tick, and not every 5 s', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const List = vi.fn(() => Promise.resolve([conflict()]));
    installBackend({ ConflictService: { List } });
    render(ConflictsScreen);
    await screen.findByTestId('diff');
    expect(List).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(List).toHaveBeenCalledTimes(1);
    // A progress tick of a sync: nothing to read again.
    syncStatus.set({ ...status('manager'), progress: { phase: 'pull', pushed: 0, pulled: 5, cursor: 5, target: 10 } } as SyncStatus);
    await Promise.resolve();
    expect(List).toHaveBeenCalledTimes(1);
    // The pull brought a conflict.
    syncStatus.set({ ...status('manager'), openConflicts: 2 } as SyncStatus);
    await vi.waitFor(() => expect(List).toHaveBeenCalledTimes(2));
  });
});

describe('ConflictsScreen, deciding', () => {
  it('keeps the "Resolved" notice when the conflict comes back resolved at once', async () => {
    let list = [conflict()];
    const Resolve = vi.fn(() => {
      list = [
        conflict({
          status: 'resolved',
          resolvedAt: 1_700_000_100_000,
          resolvedBy: 'd',
          resolvedByName: 'Max Weber',
          reason: 'Counted again',
        }),
      ];
      return Promise.resolve('sent');
    });
    installBackend({ ConflictService: { List: () => Promise.resolve(list), Resolve, History: () => Promise.resolve([]) } });
    session.set({ ...noSession, required: true, signedIn: true, person: max });
    render(ConflictsScreen);
    await screen.findByTestId('resolve');
    await fireEvent.click(screen.getByTestId('take-theirs'));
    await fireEvent.input(screen.getByLabelText(/Reason/), { target: { value: 'Counted again' } });
    await fireEvent.click(screen.getByTestId('resolve'));
    await vi.waitFor(() => expect(screen.queryByTestId('resolve')).toBeNull());
    expect(screen.getByTestId('resolve-notice').textContent).toContain('Resolved.');
    expect(Resolve).toHaveBeenCalledWith('c1', expect.objectContaining({ quantity: 9 }), 3, 'Counted again');
  });
});

describe('ConflictsScreen on a people conflict', () => {
  const person = {
    id: 'p1',
    badge_id: 'MGR-2',
    display_name: 'Max Manager',
    role: 'manager',
    active: 1,
    pin_hash: 'secret:00aa11bb22cc33dd',
    deleted_at: null,
  };
  const people = (over: object = {}) =>
    conflict({
      table: 'people',
      rowId: 'p1',
      fields: ['pin_hash'],
      base: person,
      mine: { ...person, pin_hash: 'secret:44ee55ff66007711' },
      theirs: { ...person, pin_hash: null },
      ...over,
    });

  it('says PIN changed / removed instead of any value, and offers no field to type a PIN', async () => {
    const resolve = vi.fn(() => Promise.resolve('sent'));
    installBackend({
      ConflictService: {
        List: () => Promise.resolve([people()]),
        Resolve: resolve,
        History: () =>
          Promise.resolve([
            { version: 1, hlc: '1', deviceId: 'aaaabbbbccccdddd', row: { ...person, pin_hash: null }, byName: 'Mia Manager' },
            { version: 2, hlc: '2', deviceId: 'aaaabbbbccccdddd', row: person, byName: 'Mia Manager' },
            {
              version: 3,
              hlc: '3',
              deviceId: 'aaaabbbbccccdddd',
              row: { ...person, pin_hash: 'secret:44ee55ff66007711' },
              byName: 'Mia Manager',
            },
          ]),
      },
    });
    session.set({ ...noSession, required: true, signedIn: true, person: max });
    const { container } = render(ConflictsScreen);
    const rowEl = await vi.waitFor(() => {
      const r = container.querySelector('tr[data-field="pin_hash"]');
      if (!r) throw new Error('no PIN row');
      return r as HTMLElement;
    });
    const cells = [...rowEl.querySelectorAll('td')].map((c) => c.textContent?.trim());
    expect(cells.slice(0, 3)).toEqual(['PIN set', 'PIN changed', 'PIN removed']);
    expect(rowEl.querySelector('input')).toBeNull();
    expect(container.innerHTML).not.toContain('secret:');
    await fireEvent.click(screen.getByTestId('history'));
    const list = await screen.findByTestId('history-list');
    expect(list.textContent).toContain('PIN: No PIN');
    expect(list.textContent).toContain('PIN: PIN set');
    expect(list.textContent).toContain('PIN: PIN changed');
    expect(container.innerHTML).not.toContain('secret:');
    // Taking mine sends mine's token back: the Go side turns it into the hash.
    await fireEvent.click(screen.getByTestId('take-mine'));
    await fireEvent.input(screen.getByLabelText(/Reason/), { target: { value: 'The newer PIN' } });
    await fireEvent.click(screen.getByTestId('resolve'));
    await vi.waitFor(() => expect(resolve).toHaveBeenCalled());
    expect((resolve.mock.calls[0] as unknown[])[1]).toMatchObject({ pin_hash: 'secret:44ee55ff66007711' });
  });
});

describe('ConflictsScreen in plain words (issue 20)', () => {
  const lc = {
    id: 'lc1',
    line_id: 'L7',
    recipe: 'Summer',
    target_rate_per_hour: 100,
    temperature_c: 180,
    speed_rpm: 60,
    notes: 'Check seals',
    deleted_at: null,
    updated_at: 1,
  };
  const lcConflict = () =>
    conflict({
      table: 'line_configs',
      rowId: 'lc1',
      base: lc,
      mine: { ...lc, temperature_c: 185, notes: 'Check seals\nevery shift' },
      theirs: { ...lc, temperature_c: 190 },
      deviceId: 'this-terminal-1',
      mineByName: 'Ana Operator',
      theirsByName: 'Sam Supervisor',
    });
  beforeEach(() =>
    syncStatus.set(syncStatusOf({ serverUrl: 'https://s', role: 'manager', openConflicts: 1, lastSync: 1, deviceId: 'this-terminal-1' })),
  );

  it('names this terminal and who saved first, folds unchanged fields, edits notes on several lines', async () => {
    installBackend({ ConflictService: { List: () => Promise.resolve([lcConflict()]) } });
    render(ConflictsScreen);
    expect((await screen.findByTestId('head-mine')).textContent).toMatch(/^Ana Operator, .* — this terminal$/);
    expect(screen.getByTestId('head-theirs').textContent).toMatch(/^Sam Supervisor, .* — saved first$/);
    const fields = () =>
      [...document.querySelectorAll('[data-testid="diff"] tbody tr[data-field]')].map((r) => r.getAttribute('data-field'));
    expect(fields()).toEqual(['temperature_c', 'notes']);
    const toggle = screen.getByTestId('unchanged-toggle');
    expect(toggle.textContent!.replace(/\s+/g, ' ').trim()).toBe('Show 5 unchanged fields');
    await fireEvent.click(toggle);
    expect(fields()).toContain('recipe');
    expect(screen.getByText('changed by Ana Operator')).toBeTruthy();
    const notes = screen.getByTestId('merged-notes');
    expect(notes.tagName).toBe('TEXTAREA');
    expect((notes as HTMLTextAreaElement).value).toBe('Check seals\nevery shift');
    expect(screen.getByTestId('take-theirs').textContent).toBe('Sam Supervisor');
    expect(screen.getByTestId('take-mine').textContent).toBe('Ana Operator');
  });
});

describe('ConflictsScreen in the operator’s language (issue 21)', () => {
  const lc = {
    id: 'lc1',
    line_id: 'L7',
    recipe: 'Summer',
    target_rate_per_hour: 100,
    temperature_c: 180,
    speed_rpm: 60,
    notes: 'Check seals',
    deleted_at: null,
    updated_at: 1,
  };
  const lcConflict = () =>
    conflict({
      table: 'line_configs',
      rowId: 'lc1',
      base: lc,
      mine: { ...lc, temperature_c: 185.5 },
      theirs: { ...lc, temperature_c: 190 },
      deviceId: 'this-terminal-1',
      mineByName: 'Ana Operator',
      theirsByName: 'Sam Supervisor',
    });
  beforeEach(() =>
    syncStatus.set(syncStatusOf({ serverUrl: 'https://s', role: 'manager', openConflicts: 1, lastSync: 1, deviceId: 'this-terminal-1' })),
  );
  afterEach(() => setLocale(null));

  it('speaks German: sides, folded fields, numbers, and a decimal comma typed in', async () => {
    setLocale('de');
    const Resolve = vi.fn(() => Promise.resolve('sent'));
    installBackend({ ConflictService: { List: () => Promise.resolve([lcConflict()]), Resolve, History: () => Promise.resolve([]) } });
    render(ConflictsScreen);
    expect((await screen.findByTestId('head-mine')).textContent).toMatch(/^Ana Operator, .* — dieses Terminal$/);
    expect(screen.getByTestId('head-theirs').textContent).toMatch(/^Sam Supervisor, .* — zuerst gespeichert$/);
    expect(screen.getByTestId('unchanged-toggle').textContent!.trim()).toBe('6 unveränderte Felder anzeigen');
    expect(screen.getByText('von beiden unterschiedlich geändert')).toBeTruthy();
    const row = document.querySelector('tr[data-field="temperature_c"]')!;
    expect([...row.querySelectorAll('button.cell')].map((b) => b.textContent!.trim())).toEqual(['180', '185,5', '190']);
    expect(screen.getByTestId('take-base').textContent).toBe('Vor beiden');
    expect(screen.getByTestId('resolve').textContent!.trim()).toBe('Mit diesem Ergebnis entscheiden');
    // Nothing chosen yet: the notice says so in German.
    await fireEvent.click(screen.getByTestId('resolve'));
    expect(screen.getByTestId('resolve-notice').textContent).toBe('Wählen Sie zuerst für jedes markierte Feld einen Wert.');
    await fireEvent.input(screen.getByLabelText('Ergebnis für Temperatur °C'), { target: { value: '187,5' } });
    await fireEvent.input(screen.getByLabelText(/Begründung/), { target: { value: 'Sommerrezeptur' } });
    await fireEvent.click(screen.getByTestId('resolve'));
    await vi.waitFor(() => expect(Resolve).toHaveBeenCalled());
    expect((Resolve.mock.calls[0] as unknown[])[1]).toMatchObject({ temperature_c: 187.5 });
    // The notice follows a switch of language.
    await vi.waitFor(() => expect(screen.getByTestId('resolve-notice').textContent).toContain('Entschieden.'));
    setLocale(null);
    await vi.waitFor(() => expect(screen.getByTestId('resolve-notice').textContent).toContain('Resolved.'));
  });

  it('in the pseudo-locale, every word of the decision bar and the table heads comes from the message files', async () => {
    setLocale('en-XA');
    installBackend({ ConflictService: { List: () => Promise.resolve([lcConflict()]) } });
    render(ConflictsScreen);
    await screen.findByTestId('head-mine');
    const heads = [...document.querySelectorAll('[data-testid="diff"] thead th')].map((th) => th.textContent!.trim());
    for (const h of heads) expect(h).toMatch(/⟦/);
    const bar = document.querySelector('.decide')!;
    const words = (bar.textContent ?? '').replace(/⟦[^⟧]*⟧/g, '').replace(/Ana Operator|Sam Supervisor/g, '');
    expect(words.trim()).toBe('');
    // The whole screen: a word from the message files is accented (and
    // wrapped in ⟦ ⟧, also when a name sits inside it); what is left in
    // plain letters is data (names, codes, values), no word of ours.
    await fireEvent.click(screen.getByTestId('unchanged-toggle'));
    const all = document.querySelector('section.conflicts')!.textContent ?? '';
    const left = all.replace(/⟦[^⟧]*⟧/g, ' ').replace(/Ana Operator|Sam Supervisor|Summer|Check seals|L7/g, ' ');
    expect(left.match(/[A-Za-z]{2,}/g) ?? []).toEqual([]);
    for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
      for (const attr of ['aria-label', 'title', 'placeholder']) {
        const v = (el.getAttribute(attr) ?? '').replace(/⟦[^⟧]*⟧/g, ' ').replace(/Ana Operator|Sam Supervisor|Summer|Check seals|L7/g, ' ');
        expect(v.match(/[A-Za-z]{2,}/g) ?? [], `${attr} of ${el.tagName}`).toEqual([]);
      }
    }
  });
});

describe('ConflictsScreen, a conflict recorded on site (issue 19)', () => {
  // A site hub's conflict record carries its owner; a server that does not
  // own it refuses a decision with resolve_at_owner, which the sync client
  // keeps as a refused ("stale") decision with the code in its error.
  const atOwner = 'resolve_at_owner: This conflict was recorded by a site hub and is decided there, by a manager of that site.';
  const refused = () => conflict({ owner: 'hub-device-7', decision: 'stale', decisionError: atOwner });
  const words = () => document.querySelector('section.conflicts')!.textContent!.replace(/\s+/g, ' ');
  afterEach(() => setLocale(null));

  it('a decision refused because the site decides it: says so in plain words and offers no decision', async () => {
    installBackend({ ConflictService: { List: () => Promise.resolve([refused()]) } });
    render(ConflictsScreen);
    const why = await screen.findByTestId('decided-on-site');
    expect(why.textContent!.replace(/\s+/g, ' ').trim()).toBe(
      'Decided on site This conflict was recorded on the site’s own computer, and a manager there decides it. ' +
        'Your decision was not taken; theirs reaches this computer by itself.',
    );
    // Not "decide again": nothing to choose, no reason, no Resolve.
    expect(screen.queryByTestId('stale')).toBeNull();
    expect(words()).not.toContain('Decide again');
    for (const id of ['resolve', 'take-theirs', 'take-mine', 'take-base']) expect(screen.queryByTestId(id)).toBeNull();
    expect(screen.queryByLabelText(/Reason/)).toBeNull();
    const cells = [...document.querySelectorAll('[data-testid="diff"] button.cell')] as HTMLButtonElement[];
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) expect(c.disabled).toBe(true);
    expect(screen.queryByLabelText(/^Result for/)).toBeNull();
    // The inbox says where it is decided; no code, hub or server in the words.
    expect(screen.getByTestId('inbox').textContent).toContain('Decided on site');
    expect(words()).not.toMatch(/resolve_at_owner|\bhub\b|server|hub-device-7/i);
  });

  it('says it in the manager’s language, every word from the message files', async () => {
    setLocale('de');
    installBackend({ ConflictService: { List: () => Promise.resolve([refused()]) } });
    render(ConflictsScreen);
    expect((await screen.findByTestId('decided-on-site')).textContent).toContain('Vor Ort entschieden');
    setLocale('en-XA');
    await vi.waitFor(() => expect(screen.getByTestId('decided-on-site').textContent).toMatch(/^\s*⟦/));
    const left = screen.getByTestId('decided-on-site').textContent!.replace(/⟦[^⟧]*⟧/g, ' ');
    expect(left.match(/[A-Za-z]{2,}/g) ?? []).toEqual([]);
    const badges = [...screen.getByTestId('inbox').querySelectorAll('.badge')].map((b) => b.textContent!.trim());
    for (const b of badges) expect(b).toMatch(/^⟦.*⟧$/);
  });

  it('when Resolve comes back refused for the site, shows that instead of "decide again"', async () => {
    let list = [conflict({ owner: 'hub-device-7' })];
    const Resolve = vi.fn(() => {
      list = [refused()];
      return Promise.resolve('stale');
    });
    installBackend({ ConflictService: { List: () => Promise.resolve(list), Resolve } });
    render(ConflictsScreen);
    await fireEvent.click(await screen.findByTestId('take-theirs'));
    await fireEvent.input(screen.getByLabelText(/Reason/), { target: { value: 'Counted again' } });
    await fireEvent.click(screen.getByTestId('resolve'));
    await screen.findByTestId('decided-on-site');
    expect(Resolve).toHaveBeenCalled();
    expect(words()).not.toMatch(/decide again/i);
    expect(screen.queryByTestId('resolve')).toBeNull();
  });

  it('labels a conflict recorded on site, and a manager still decides it until the site says otherwise', async () => {
    installBackend({
      ConflictService: {
        List: () => Promise.resolve([conflict({ owner: 'hub-device-7' }), conflict({ id: 'c2', rowId: 'r2', owner: null })]),
      },
    });
    render(ConflictsScreen);
    expect((await screen.findByTestId('recorded-on-site')).textContent!.trim()).toBe('Recorded on site');
    expect(screen.getByTestId('resolve')).toBeTruthy();
    expect(screen.queryByTestId('decided-on-site')).toBeNull();
    const entries = [...screen.getByTestId('inbox').querySelectorAll('li')].map((li) => li.textContent!);
    expect(entries.filter((e) => e.includes('Recorded on site'))).toHaveLength(1);
  });

  it('a plain stale decision still asks to decide again', async () => {
    installBackend({
      ConflictService: {
        List: () => Promise.resolve([conflict({ decision: 'stale', decisionError: 'stale_base: the row changed', staleVersion: 4 })]),
      },
    });
    render(ConflictsScreen);
    expect((await screen.findByTestId('stale')).textContent).toContain('decide again');
    expect(screen.getByTestId('resolve')).toBeTruthy();
    expect(screen.queryByTestId('decided-on-site')).toBeNull();
  });
});

describe('ConflictsScreen on a site hub cut off from headquarters (issue 19)', () => {
  // The terminal is online (the hub answers it), so "sent when the server
  // can be reached" beside "Online" was a riddle (found in the real window,
  // .ci/e2e-hub). The hub answers a decision on a conflict of headquarters
  // 503 upstream_unavailable, and the decision stays queued: the words say
  // headquarters cannot be reached from the site.
  const cut = { headquarters: { up: false, lastSync: 1, waiting: 0 } } as unknown as Partial<SyncStatus>;
  afterEach(() => syncStatus.set(syncStatusOf()));

  it('says where the decision waits, in the banner and the notice', async () => {
    syncStatus.set(syncStatusOf(cut));
    let list = [conflict()];
    const Resolve = vi.fn(() => {
      list = [conflict({ decision: 'queued' })];
      return Promise.resolve('queued');
    });
    installBackend({ ConflictService: { List: () => Promise.resolve(list), Resolve } });
    render(ConflictsScreen);
    await fireEvent.click(await screen.findByTestId('take-theirs'));
    await fireEvent.input(screen.getByLabelText(/Reason/), { target: { value: 'Counted again' } });
    await fireEvent.click(screen.getByTestId('resolve'));
    const words = () => document.querySelector('section.conflicts')!.textContent!.replace(/\s+/g, ' ');
    await vi.waitFor(() => expect(words()).toContain('Decision saved on this computer. Headquarters cannot be reached'));
    await vi.waitFor(() =>
      expect(screen.getByTestId('queued').textContent).toContain('Your decision is saved on this terminal. Headquarters cannot be reached'),
    );
    expect(words()).not.toMatch(/server can be reached/);
  });

  it('an offline terminal (the hub not reached) says the usual words, not a stale "headquarters cannot be reached from this site"', async () => {
    // The hub said its link was down at the last sync that worked; then
    // this terminal lost the hub (offline). Whatever headquarters does, the
    // decision waits for this terminal's link to the hub (review of
    // fd178eb: headquartersDown looked at neither online nor enrolled).
    syncStatus.set(
      syncStatusOf({
        role: 'manager',
        openConflicts: 1,
        online: false,
        lastError: 'server unreachable',
        headquarters: { up: false, lastSync: 1, waiting: 0 },
      } as unknown as Partial<SyncStatus>),
    );
    installBackend({ ConflictService: { List: () => Promise.resolve([conflict({ decision: 'queued' })]) } });
    render(ConflictsScreen);
    const queued = await screen.findByTestId('queued');
    expect(queued.textContent).toContain('sent when the server can be reached');
    expect(queued.textContent).not.toContain('Headquarters');
  });

  it('keeps the usual words when the link is up', async () => {
    syncStatus.set(syncStatusOf({ headquarters: { up: true, lastSync: 1, waiting: 0 } } as unknown as Partial<SyncStatus>));
    installBackend({ ConflictService: { List: () => Promise.resolve([conflict({ decision: 'queued' })]) } });
    render(ConflictsScreen);
    await vi.waitFor(() => expect(document.body.textContent).toContain('sent when the server can be reached'));
    expect(document.body.textContent).not.toContain('Headquarters');
  });
});
