// @vitest-environment node
import { afterEach, describe, expect, it } from 'vitest';
import { setLocale } from '../i18n';
import {
  byName,
  clock24,
  foldUnchanged,
  openConflictRows,
  sideNames,
  display,
  isSecret,
  secretChange,
  classify,
  defaultChoices,
  deleteSide,
  diffRows,
  filterInbox,
  emptyInboxFilter,
  mergedRow,
  sortInbox,
  wordDiff,
  parseTyped,
  decisionVersion,
  decidedRow,
  decidedSides,
  localDecision,
  fieldLabel,
  editable,
  decimalSeparator,
  around,
} from './conflict';
import { registryMerged } from '../test/schema';

// The fields a line config's diff compares, from the fixture the Go
// registry writes.
const lineConfigFields = registryMerged('line_configs');

const base = {
  id: 'c1',
  line_id: 'L1',
  recipe: 'R-1',
  target_rate_per_hour: 100,
  temperature_c: 180,
  speed_rpm: 60,
  notes: 'run slow on nights',
  deleted_at: null,
};
const mine = { ...base, temperature_c: 185, notes: 'run fast on nights', speed_rpm: 70 };
const theirs = { ...base, temperature_c: 190, notes: 'run slow on nights', recipe: 'R-2', speed_rpm: 70 };

describe('classify', () => {
  it.each([
    [1, 1, 1, 'same'],
    [1, 2, 1, 'mine'],
    [1, 1, 2, 'theirs'],
    [1, 2, 2, 'both-same'],
    [1, 2, 3, 'conflict'],
    [null, undefined, null, 'same'],
  ])('%s/%s/%s → %s', (b, m, t, want) => {
    expect(classify(b, m, t)).toBe(want);
    // symmetric: swapping the sides swaps mine and theirs only
    const swapped = classify(b, t, m);
    expect(swapped).toBe(want === 'mine' ? 'theirs' : want === 'theirs' ? 'mine' : want);
  });
  it('without a base, any difference is a conflict', () => {
    expect(classify(null, 1, 2, false)).toBe('conflict');
    expect(classify(null, 1, 1, false)).toBe('same');
  });
});

describe('diffRows', () => {
  it('classifies every people field of the table', () => {
    const d = diffRows(lineConfigFields, base, mine, theirs);
    const kinds = Object.fromEntries(d.map((f) => [f.field, f.kind]));
    expect(kinds).toEqual({
      line_id: 'same',
      recipe: 'theirs',
      target_rate_per_hour: 'same',
      temperature_c: 'conflict',
      speed_rpm: 'both-same',
      notes: 'mine',
      deleted_at: 'same',
    });
  });
});

describe('fields of a diff (issue 18 point 4)', () => {
  it("takes every table's fields and their order from the registry", () => {
    const person = { id: 'p1', badge_id: 'B-7', display_name: 'Ana', role: 'operator', active: 1, updated_by: 'B-1', deleted_at: null };
    const d = diffRows(registryMerged('people'), person, { ...person, role: 'manager', updated_by: 'B-2' }, person);
    expect(d.map((f) => f.field)).toEqual(['badge_id', 'display_name', 'role', 'active', 'pin_hash', 'language', 'deleted_at']);
    expect(d.find((f) => f.field === 'role')?.kind).toBe('mine');
  });
  it("lists the rows' own fields before the registry arrived", () => {
    const d = diffRows(undefined, { id: 'x', code: 'L1', version: 3 }, { id: 'x', code: 'L2' }, { id: 'x', code: 'L1', name: 'N' });
    expect(d.map((f) => f.field)).toEqual(['code', 'name']);
  });
});

describe('wordDiff', () => {
  it('marks the changed words only', () => {
    const parts = wordDiff('run slow on nights', 'run fast on nights');
    expect(parts.filter((p) => p.removed).map((p) => p.text.trim())).toEqual(['slow']);
    expect(parts.filter((p) => p.added).map((p) => p.text.trim())).toEqual(['fast']);
    expect(
      parts
        .filter((p) => !p.added && !p.removed)
        .map((p) => p.text)
        .join(''),
    ).toContain('on nights');
  });
});

describe('mergedRow', () => {
  it('takes each choice and reports undecided conflicts', () => {
    const d = diffRows(lineConfigFields, base, mine, theirs);
    const choices = defaultChoices(d);
    let m = mergedRow(d, choices, theirs);
    expect(m.undecided).toEqual(['temperature_c']);
    expect(m.row.notes).toBe('run fast on nights'); // only mine changed it
    expect(m.row.recipe).toBe('R-2'); // only theirs changed it
    choices.temperature_c = { typed: '187.5' };
    m = mergedRow(d, choices, theirs);
    expect(m.undecided).toEqual([]);
    expect(m.row.temperature_c).toBe(187.5);
    expect(m.row.id).toBe('c1');
  });
  it('parses typed values like the other states', () => {
    expect(parseTyped(' 42 ', [1, 2])).toBe(42);
    expect(parseTyped('', ['a'])).toBeNull();
    expect(parseTyped('text', ['a'])).toBe('text');
  });
});

describe('delete vs edit', () => {
  it('names the side that deleted', () => {
    expect(deleteSide({ deleted_at: 5 }, { deleted_at: null })).toBe('mine');
    expect(deleteSide({ deleted_at: null }, { deleted_at: 7 })).toBe('theirs');
    expect(deleteSide({}, {})).toBeNull();
  });
});

describe('inbox', () => {
  const c = (status: string, createdAt: number, table = 'line_configs', line = 'L1', deviceId = 'dev-a') => ({
    status,
    createdAt,
    table,
    deviceId,
    mine: { line_id: line },
    theirs: { line_id: line },
  });
  it('puts open first, then auto-resolved, then resolved, newest first', () => {
    const xs = sortInbox([c('resolved', 3), c('open', 1), c('auto_resolved', 5), c('open', 2)]);
    expect(xs.map((x) => `${x.status}:${x.createdAt}`)).toEqual(['open:2', 'open:1', 'auto_resolved:5', 'resolved:3']);
  });
  it('filters by status, table, line, device and date', () => {
    const xs = [c('open', 10, 'line_configs', 'L1', 'dev-a'), c('open', 20, 'production_records', 'L2', 'dev-b')];
    expect(filterInbox(xs, { ...emptyInboxFilter, table: 'production_records' })).toHaveLength(1);
    expect(filterInbox(xs, { ...emptyInboxFilter, line: 'l1' })).toHaveLength(1);
    expect(filterInbox(xs, { ...emptyInboxFilter, device: 'B' })).toHaveLength(1);
    expect(filterInbox(xs, { ...emptyInboxFilter, from: 15 })).toHaveLength(1);
    expect(filterInbox(xs, { ...emptyInboxFilter, status: 'resolved' })).toHaveLength(0);
  });
  it('"Person or device" matches who made the change by name too', () => {
    const xs = [
      { ...c('open', 10, 'production_records', 'L1', 'dev-a'), mineByName: 'Ana Lima' },
      { ...c('open', 20, 'production_records', 'L1', 'dev-b'), mineByName: 'device dev-b' },
    ];
    expect(filterInbox(xs, { ...emptyInboxFilter, device: 'ana' }).map((x) => x.createdAt)).toEqual([10]);
    expect(filterInbox(xs, { ...emptyInboxFilter, device: 'dev-' })).toHaveLength(2);
  });
});

describe('byName', () => {
  it('prefers the name the Go side found, else the short device id', () => {
    expect(byName('Ana Lima', '0123456789abcdef')).toBe('Ana Lima');
    expect(byName('B-1', '0123456789abcdef')).toBe('B-1');
    expect(byName('', '0123456789abcdef')).toBe('device 01234567');
    expect(byName(undefined, '')).toBe('unknown');
  });
});

describe('the decision of a resolved conflict', () => {
  const record = (version: number, over: object) => ({ version, row: { id: 'k1', status: 'open', row_version: 0, ...over } });

  it('takes the row version from the latest resolved version of the conflict record', () => {
    expect(decisionVersion([record(3, {}), record(8, { status: 'resolved', row_version: 9 })])).toBe(9);
    // in any order, the latest resolved record wins
    expect(decisionVersion([record(12, { status: 'resolved', row_version: 13 }), record(8, { status: 'resolved', row_version: 9 })])).toBe(
      13,
    );
  });

  it('knows no decision from an open record, a record without row_version, or nothing', () => {
    expect(decisionVersion([record(3, {})])).toBe(0);
    expect(decisionVersion([{ version: 4, row: { status: 'resolved' } }])).toBe(0);
    expect(decisionVersion([])).toBe(0);
    expect(decisionVersion(null)).toBe(0);
  });

  it('finds the decided row in the row history, or nothing when it is gone', () => {
    const versions = [
      { version: 2, row: { ...base } },
      { version: 9, row: { ...theirs, temperature_c: 185 } },
    ];
    expect(decidedRow(versions, 9)?.temperature_c).toBe(185);
    expect(decidedRow(versions, 5)).toBeNull();
    expect(decidedRow(versions, 0)).toBeNull();
  });

  it('takes the decision from this computer when the Go side found the local row clean at the decided version', () => {
    const row = { ...theirs, temperature_c: 185 };
    expect(localDecision({ status: 'resolved', decided: row, rowVersion: 9 })).toEqual({ row, version: 9 });
  });

  it('has no local decision for a conflict not resolved, without the row, or without the version', () => {
    const row = { ...theirs, temperature_c: 185 };
    expect(localDecision({ status: 'open', decided: row, rowVersion: 9 })).toBeNull();
    expect(localDecision({ status: 'auto_resolved', decided: row, rowVersion: 9 })).toBeNull();
    expect(localDecision({ status: 'resolved', decided: null, rowVersion: 9 })).toBeNull();
    expect(localDecision({ status: 'resolved', rowVersion: 9 })).toBeNull();
    expect(localDecision({ status: 'resolved', decided: row, rowVersion: 0 })).toBeNull();
    expect(localDecision({ status: 'resolved', decided: row })).toBeNull();
    expect(localDecision({ status: 'resolved', decided: [row], rowVersion: 9 })).toBeNull();
    expect(localDecision(null)).toBeNull();
  });

  it('names the sides that hold the decided value', () => {
    const d = diffRows(lineConfigFields, base, mine, theirs);
    const temp = d.find((x) => x.field === 'temperature_c')!;
    expect(decidedSides(temp, 185)).toEqual(['mine']);
    expect(decidedSides(temp, 187)).toEqual([]);
    const speed = d.find((x) => x.field === 'speed_rpm')!;
    expect(decidedSides(speed, 70)).toEqual(['mine', 'theirs']);
    const deleted = d.find((x) => x.field === 'deleted_at')!;
    expect(decidedSides(deleted, undefined)).toEqual(['base', 'mine', 'theirs']);
  });
});

describe('secrets (issue 17)', () => {
  it('a PIN is shown as set / changed / removed, never as its value', () => {
    expect(display('pin_hash', null)).toBe('No PIN');
    expect(display('pin_hash', 'secret:00aa11bb22cc33dd')).toBe('PIN set');
    expect(display('other', 'secret:00aa11bb22cc33dd')).toBe('PIN set');
    expect(secretChange(null, 'secret:1')).toBe('PIN set');
    expect(secretChange('secret:1', 'secret:2')).toBe('PIN changed');
    expect(secretChange('secret:1', null)).toBe('PIN removed');
    expect(secretChange('secret:1', 'secret:1')).toBe('');
    expect(isSecret('pin_hash')).toBe(true);
    expect(isSecret('notes', 'plain')).toBe(false);
  });
});

describe('plain words (issue 20)', () => {
  const now = new Date(2026, 11, 7, 15, 0).getTime();
  const at = (h: number, m: number) => new Date(2026, 11, 7, h, m).getTime();
  const c = {
    deviceId: 'dev-here-1234',
    mineByName: 'Ana Operator',
    theirsByName: 'Sam Supervisor',
    base: { updated_at: at(13, 40) },
    mine: { updated_at: at(14, 5) },
    theirs: { updated_at: at(14, 2) },
  };
  it('names people and 24-hour times, never Mine/Theirs/Base', () => {
    const n = sideNames(c, 'dev-here-1234', c.theirs, now);
    expect(n.heading.theirs).toBe('Sam Supervisor, 14:02 — saved first');
    expect(n.heading.mine).toBe('Ana Operator, 14:05 — this terminal');
    expect(n.heading.base).toBe('Before both changes, 13:40');
    for (const h of Object.values(n.heading)) expect(h).not.toMatch(/\b(Mine|Theirs|Base|server|version)\b/);
  });
  it('says "saved second" for a change made on another terminal', () => {
    const n = sideNames({ ...c, theirsByName: '' }, 'another-device', c.theirs, now);
    expect(n.heading.mine).toBe('Ana Operator, 14:05 — saved second');
    expect(n.heading.theirs).toBe('The other change, 14:02 — saved first');
  });
  it('writes other days with their date', () => {
    expect(clock24(new Date(2026, 11, 6, 23, 41).getTime(), now)).toBe('2026-12-06 23:41');
    expect(clock24(at(9, 5), now)).toBe('09:05');
  });
  it('folds unchanged fields away', () => {
    const d = diffRows(
      lineConfigFields,
      { recipe: 'R', temperature_c: 180 },
      { recipe: 'R', temperature_c: 185 },
      { recipe: 'R', temperature_c: 190 },
    );
    const { changed, unchanged } = foldUnchanged(d);
    expect(changed.map((x) => x.field)).toEqual(['temperature_c']);
    expect(unchanged.map((x) => x.field)).toContain('recipe');
  });
  it('flags the rows with an open conflict', () => {
    const rows = openConflictRows(
      [
        { status: 'open', table: 'line_configs', rowId: 'a' },
        { status: 'resolved', table: 'line_configs', rowId: 'b' },
        { status: 'open', table: 'production_records', rowId: 'c' },
      ],
      'line_configs',
    );
    expect([...rows]).toEqual(['a']);
  });
});

describe('in the operator’s language (issue 21)', () => {
  const now = new Date(2026, 11, 7, 15, 0).getTime();
  const at = (h: number, m: number) => new Date(2026, 11, 7, h, m).getTime();
  const c = {
    deviceId: 'dev-here-1234',
    mineByName: 'Ana Operator',
    theirsByName: 'Sam Supervisor',
    base: { updated_at: at(13, 40) },
    mine: { updated_at: at(14, 5) },
    theirs: { updated_at: at(14, 2) },
  };
  afterEach(() => setLocale(null));

  it('names the sides, times and dates in German', () => {
    setLocale('de');
    const n = sideNames(c, 'dev-here-1234', c.theirs, now);
    expect(n.heading.theirs).toBe('Sam Supervisor, 14:02 — zuerst gespeichert');
    expect(n.heading.mine).toBe('Ana Operator, 14:05 — dieses Terminal');
    expect(n.heading.base).toBe('Vor beiden Änderungen, 13:40');
    expect(sideNames({ ...c, theirsByName: '' }, 'other', c.theirs, now).heading.theirs).toBe(
      'Die andere Änderung, 14:02 — zuerst gespeichert',
    );
    expect(clock24(new Date(2026, 11, 6, 23, 41).getTime(), now)).toBe('06.12.2026 23:41');
  });

  it('says fields, PINs, devices and numbers in the language shown', () => {
    setLocale('de');
    expect(fieldLabel('speed_rpm')).toBe('Drehzahl U/min');
    expect(fieldLabel('min_quantity')).toBe('Kleinste Menge');
    expect(fieldLabel('no_such_column')).toBe('no_such_column');
    expect(display('pin_hash', null)).toBe('Keine PIN');
    expect(secretChange('secret:1', 'secret:2')).toBe('PIN geändert');
    expect(display('temperature_c', 180.5)).toBe('180,5');
    expect(display('quantity', 1200)).toBe('1.200');
    // Go's name of last resort for a device, and the screen's own
    expect(byName('device 0123abcd', '0123abcd99')).toBe('Gerät 0123abcd');
    expect(byName('', '0123456789abcdef')).toBe('Gerät 01234567');
    expect(byName('Ana Lima', '0123456789abcdef')).toBe('Ana Lima');
    setLocale('zh-CN');
    expect(sideNames(c, 'dev-here-1234', c.theirs, now).heading.mine).toBe('Ana Operator，14:05 — 本终端');
  });

  it('reads a typed number with the decimal comma, and offers numbers so', () => {
    expect(parseTyped('187,5', [180, 190], ',')).toBe(187.5);
    expect(parseTyped('187.5', [180, 190], ',')).toBe(187.5);
    // the other sign groups thousands: 1.200 in German, 1,200 in English, spaces in French
    expect(parseTyped('1.200', [1], ',')).toBe(1200);
    expect(parseTyped('1.200,5', [1], ',')).toBe(1200.5);
    expect(parseTyped('1,200', [1], '.')).toBe(1200);
    expect(parseTyped('1\u202f200', [1], ',')).toBe(1200);
    expect(parseTyped('-3,5', [1], ',')).toBe(-3.5);
    // not a number: kept as typed, for the Go side to refuse with its rule
    expect(parseTyped('12,3,4', [1], ',')).toBe('12,3,4');
    expect(parseTyped('abc', [1], ',')).toBe('abc');
    expect(parseTyped('1,5', [1], '.')).toBe('1,5');
    expect(editable(187.5, ',')).toBe('187,5');
    expect(editable(1200, ',')).toBe('1200');
    expect(editable(null)).toBe('');
    setLocale('fr');
    expect(decimalSeparator()).toBe(',');
    expect(parseTyped('187,5', [180])).toBe(187.5);
    setLocale(null);
    expect(decimalSeparator()).toBe('.');
  });

  it('puts a slot where the language puts it', () => {
    expect(around('conflicts.head.decided', { when: 'Today 14:02' }, 'name')).toEqual(['· decided Today 14:02 by ', '']);
    setLocale('zh-CN');
    expect(around('conflicts.head.decided', { when: '今天 14:02' }, 'name')).toEqual(['· 今天 14:02 由 ', ' 决定']);
  });
});
