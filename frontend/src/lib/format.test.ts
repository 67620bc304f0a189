import { describe, expect, it } from 'vitest';
import { cipherLabel, dayEnd, dayStart, formatCount, formatDateTime, formatQuantity, formatWhen, pendingLabel, pendingNoun, sendingNoun } from './format';

describe('format', () => {
  it('groups thousands', () => {
    expect(formatQuantity(1234567, 'en-US')).toBe('1,234,567');
    expect(formatQuantity(0, 'en-US')).toBe('0');
  });

  it('counts with the right noun', () => {
    expect(formatCount(1, 'record', 'records', 'en-US')).toBe('1 record');
    expect(formatCount(100000, 'record', 'records', 'en-US')).toBe('100,000 records');
  });

  it('renders local date and time', () => {
    const ms = new Date(2026, 10, 5, 7, 4).getTime();
    expect(formatDateTime(ms)).toBe('2026-11-05 07:04');
  });

  it('says Today for times of the current day', () => {
    const now = new Date(2026, 10, 5, 18, 0).getTime();
    expect(formatWhen(new Date(2026, 10, 5, 7, 4).getTime(), now)).toBe('Today 07:04');
    expect(formatWhen(new Date(2026, 10, 4, 23, 59).getTime(), now)).toBe('2026-11-04 23:59');
  });

  it('turns date inputs into a half-open day range', () => {
    expect(dayStart('')).toBe(0);
    expect(dayEnd('')).toBe(0);
    expect(dayStart('garbage')).toBe(0);
    const start = dayStart('2026-03-28');
    expect(start).toBe(new Date(2026, 2, 28).getTime());
    expect(dayEnd('2026-03-28')).toBe(new Date(2026, 2, 29).getTime());
  });

  it('describes encryption and pending changes', () => {
    expect(cipherLabel(true, '4.4.2 community')).toBe('Encrypted · SQLCipher 4.4.2 community (AES-256)');
    expect(cipherLabel(false, '')).toBe('Not encrypted');
    expect(pendingLabel(0)).toBe('Nothing waiting to sync');
    expect(pendingLabel(1, 'en-US')).toBe('1 change not yet synced');
    expect(pendingLabel(2500, 'en-US')).toBe('2,500 changes not yet synced');
    expect(pendingNoun(1)).toBe('change not synced');
    expect(pendingNoun(0)).toBe('changes not synced');
    expect(sendingNoun(1)).toBe('change being sent…');
    expect(sendingNoun(3)).toBe('changes being sent…');
  });
});
