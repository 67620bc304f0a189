// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { intProblem, pinProblem, placeError, requiredProblem, shiftsProblem, quantityProblem, rangeLabel } from './sitedata';

describe('site data checks', () => {
  it('a PIN is empty (keep) or 4–32 digits', () => {
    expect(pinProblem('')).toBe('');
    expect(pinProblem('1234')).toBe('');
    expect(pinProblem('123')).toBe('A PIN has at least 4 digits.');
    expect(pinProblem('12a4')).toBe('A PIN is digits only.');
    expect(pinProblem('1'.repeat(33))).toBe('A PIN has at most 32 digits.');
    // Supervisors and managers: at least 6 digits (issue 17).
    expect(pinProblem('12345', 'manager')).toBe("A manager's PIN has at least 6 digits.");
    expect(pinProblem('12345', 'supervisor')).toBe("A supervisor's PIN has at least 6 digits.");
    expect(pinProblem('123456', 'manager')).toBe('');
    expect(pinProblem('1234', 'operator')).toBe('');
  });

  it.each([
    ['Early=06:00,Late=14:00,Night=22:00', ''],
    ['06:00, 18:00', ''],
    [' Day = 7:30 ', ''],
    ['', 'Write at least one shift as Name=HH:MM (e.g. Early=06:00,Late=14:00,Night=22:00).'],
    ['Early=6', 'Write each shift as Name=HH:MM, separated by commas (e.g. Early=06:00,Late=14:00,Night=22:00); “Early=6” is not.'],
    ['Late=24:00', '“Late=24:00” is not a time of day (00:00–23:59).'],
    ['A=06:00,B=6:00', 'Two shifts start at 06:00.'],
  ])('shifts %j → %j', (s, want) => {
    expect(shiftsProblem(s)).toBe(want);
  });

  it('optional whole numbers in a range', () => {
    expect(intProblem('Idle sign-out', '', 30, 86400)).toBe('');
    expect(intProblem('Idle sign-out', '300', 30, 86400)).toBe('');
    expect(intProblem('Idle sign-out', '10', 30, 86400)).toBe('Idle sign-out must be between 30 and 86,400.');
    expect(intProblem('Idle sign-out', '1.5', 30, 86400)).toBe('Idle sign-out must be a whole number.');
  });

  it('required texts', () => {
    expect(requiredProblem('Name', '  ')).toBe('Name is required.');
    expect(requiredProblem('Name', 'x'.repeat(129))).toBe('Name is 129 characters long; the limit is 128.');
  });

  it('places the Go error beside the field its column names', () => {
    const aliases = { time_zone: 'tz', badge_id: 'badge', badgeid: 'badge' };
    expect(placeError(new ApiError('invalid_value', 'Time zone “Mars/Base” is not known.', 'time_zone'), aliases)).toEqual({
      tz: 'Time zone “Mars/Base” is not known.',
    });
    expect(placeError(new ApiError('invalid_value', 'x', 'badgeId'), aliases)).toEqual({ badge: 'x' });
    expect(placeError(new ApiError('forbidden', 'Only a manager can change site data.'), aliases)).toEqual({
      '': 'Only a manager can change site data.',
    });
    expect(placeError(new ApiError('invalid_value', 'y', 'updated_by'), aliases)).toEqual({ '': 'y' });
  });
});

describe('product range (issue 20)', () => {
  it.each([
    ['', ''],
    ['500', ''],
    [' 0 ', ''],
    ['5.5', 'Max is a whole number, like 500.'],
    ['-1', 'Max is a whole number, like 500.'],
    ['lots', 'Max is a whole number, like 500.'],
    ['1000000001', 'Max is at most 1,000,000,000.'],
  ])('quantityProblem(%j)', (v, want) => {
    expect(quantityProblem('Max', v)).toBe(want);
  });
  it.each([
    [5, 500, 'kg', '5–500 kg'],
    [null, 500, '', 'up to 500'],
    [5, undefined, 'pcs', 'from 5 pcs'],
    [null, null, 'kg', '—'],
  ])('rangeLabel(%j, %j, %j)', (lo, hi, u, want) => {
    expect(rangeLabel(lo as number | null, hi as number | null, u as string)).toBe(want);
  });
});

describe('in the language shown (issue 21)', () => {
  it('says checks and ranges in German with its numbers', async () => {
    const { setLocale } = await import('../i18n');
    setLocale('de');
    try {
      expect(pinProblem('12345', 'manager')).toBe('Die PIN eines Betriebsleiters hat mindestens 6 Ziffern.');
      expect(pinProblem('123')).toBe('Eine PIN hat mindestens 4 Ziffern.');
      expect(rangeLabel(1000, 5000, 'kg')).toBe('1.000–5.000 kg');
      expect(rangeLabel(null, 500, '')).toBe('bis 500');
      expect(intProblem('Die automatische Abmeldung', '10', 30, 86400)).toBe(
        'Die automatische Abmeldung muss zwischen 30 und 86.400 liegen.',
      );
      expect(shiftsProblem('')).toContain('Früh=06:00');
    } finally {
      setLocale(null);
    }
  });
});
