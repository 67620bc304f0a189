// The languages Outpost speaks. Each is shown in its own name (an autonym is
// the same in every language, so these names are not in the message files).

/** LocaleCode is a language Outpost has messages for; "en-XA" is the
 * pseudo-locale generated from English to find untranslated or clipped text. */
export type LocaleCode = 'en' | 'de' | 'fr' | 'es' | 'pt-BR' | 'pl' | 'zh-CN' | 'en-XA';

export interface LocaleInfo {
  code: LocaleCode;
  /** name is the language in its own words, for the language picker. */
  name: string;
  /** intl is the locale given to Intl for numbers, dates and plural rules. */
  intl: string;
  /** isoDate: dates as 2026-12-07. English readers on sites in many
   * countries cannot tell 07/12 from 12/07; ISO is what Outpost showed before. */
  isoDate?: boolean;
}

/** LOCALES is the picker's list, English first; the pseudo-locale is last
 * and only offered to testers (see PSEUDO). */
export const LOCALES: readonly LocaleInfo[] = [
  { code: 'en', name: 'English', intl: 'en', isoDate: true },
  { code: 'de', name: 'Deutsch', intl: 'de' },
  { code: 'fr', name: 'Français', intl: 'fr' },
  { code: 'es', name: 'Español', intl: 'es' },
  { code: 'pt-BR', name: 'Português (Brasil)', intl: 'pt-BR' },
  { code: 'pl', name: 'Polski', intl: 'pl' },
  { code: 'zh-CN', name: '中文（简体）', intl: 'zh-CN' },
];

/** PSEUDO is the pseudo-locale: English wrapped in ⟦ ⟧, accented and 40%
 * longer, numbers and dates as English. */
export const PSEUDO: LocaleInfo = { code: 'en-XA', name: '⟦Ƥšéúðó⟧', intl: 'en', isoDate: true };

/** DEFAULT_LOCALE is the language when neither IT nor the terminal chose one. */
export const DEFAULT_LOCALE: LocaleCode = 'en';

/** localeInfo returns the entry for code (English for an unknown code). */
export function localeInfo(code: LocaleCode): LocaleInfo {
  if (code === PSEUDO.code) return PSEUDO;
  return LOCALES.find((l) => l.code === code) ?? LOCALES[0];
}

/** matchLocale maps a language tag from a person, IT's config or a saved
 * choice to a LocaleCode: exact first ("pt-BR"), then by language ("de-AT" →
 * de, "pt" → pt-BR, "zh-Hans-CN" → zh-CN). Tags Outpost does not speak give null. */
export function matchLocale(tag: string | null | undefined): LocaleCode | null {
  const s = (tag ?? '').trim().replace(/_/g, '-');
  if (!s) return null;
  const lower = s.toLowerCase();
  if (lower === PSEUDO.code.toLowerCase()) return PSEUDO.code;
  const exact = LOCALES.find((l) => l.code.toLowerCase() === lower);
  if (exact) return exact.code;
  const lang = lower.split('-')[0];
  // Traditional Chinese readers are not served by Simplified.
  if (lang === 'zh' && /-(hant|tw|hk|mo)\b/.test(lower)) return null;
  const byLang = LOCALES.find((l) => l.code.toLowerCase().split('-')[0] === lang);
  return byLang ? byLang.code : null;
}
