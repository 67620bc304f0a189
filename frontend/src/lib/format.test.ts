// @vitest-environment node
import { afterEach, describe, expect, it } from 'vitest';
import { setLocale, type LocaleCode } from '../i18n';
import {
  cipherLabel,
  dayEnd,
  dayStart,
  formatDate,
  formatDateTime,
  formatQuantity,
  formatSpan,
  formatTime,
  formatWhen,
  pendingLabel,
  pendingNoun,
  sendingNoun,
} from './format';

afterEach(() => setLocale(null));

describe('format', () => {
  it('groups thousands', () => {
    expect(formatQuantity(1234567, 'en-US')).toBe('1,234,567');
    expect(formatQuantity(0, 'en-US')).toBe('0');
    expect(formatQuantity(1234567)).toBe('1,234,567');
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

  it('formats in the language shown, 24-hour everywhere', () => {
    const ms = new Date(2026, 11, 7, 14, 5).getTime();
    const cases: [LocaleCode, string, string, string][] = [
      ['de', '07.12.2026', '14:05', '12.345'],
      ['fr', '07/12/2026', '14:05', '12\u202f345'],
      ['es', '07/12/2026', '14:05', '12.345'],
      ['pt-BR', '07/12/2026', '14:05', '12.345'],
      ['pl', '07.12.2026', '14:05', '12\u00a0345'],
      ['zh-CN', '2026/12/07', '14:05', '12,345'],
    ];
    for (const [code, date, time, qty] of cases) {
      setLocale(code);
      expect(formatDate(ms), code).toBe(date);
      expect(formatTime(ms), code).toBe(time);
      expect(formatQuantity(12345), code).toBe(qty);
    }
    setLocale('en');
    expect(formatDate(ms)).toBe('2026-12-07');
    expect(formatTime(ms)).toBe('14:05');
    expect(formatSpan(ms, ms + 8 * 3600_000, 'en-GB')).toBe('Mon 7 Dec, 14:05 – Mon 7 Dec, 22:05');
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
    expect(pendingLabel(1)).toBe('1 change not yet synced');
    expect(pendingLabel(2500)).toBe('2,500 changes not yet synced');
    expect(pendingNoun(1)).toBe('change not synced');
    expect(pendingNoun(0)).toBe('changes not synced');
    expect(sendingNoun(1)).toBe('change being sent…');
    expect(sendingNoun(3)).toBe('changes being sent…');
  });
});
