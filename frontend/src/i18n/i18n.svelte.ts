// The language Outpost speaks right now, and t() to say things in it.
//
// Which language: a person's language while they are signed in
// (applyPersonLanguage), else this terminal's own choice (setLocale, kept in
// the WebView's localStorage like the theme: a language is not personal
// data), else IT's managed default (setManagedDefault), else English.
// Switching re-renders every screen at once: t() and the formatters read the
// locale from rune state, so whatever called them runs again.
//
// Messages are formatted by svelte-i18n (ICU MessageFormat through FormatJS
// intl-messageformat: plurals, selects, numbers in the locale).
import { addMessages, format, init, locale as i18nLocale, unwrapFunctionStore } from 'svelte-i18n';
import { readonly } from 'svelte/store';
import en from './ui/en.json';
import { dictionaries } from './messages';
import { pseudoLocalize } from './pseudo';
import { DEFAULT_LOCALE, localeInfo, matchLocale, PSEUDO, type LocaleCode, type LocaleInfo } from './locales';

export { LOCALES, PSEUDO, matchLocale, localeInfo, type LocaleCode, type LocaleInfo } from './locales';

/** MessageKey is a key of the English UI messages: t() with a key that is
 * not in src/i18n/ui/en.json fails svelte-check. */
export type MessageKey = keyof typeof en;

/** Values are the arguments of a message ({count}, {name}, …). */
export type Values = Record<string, string | number | Date | null | undefined>;

const STORAGE_KEY = 'outpost.language.v1';

const state = $state<{ terminal: LocaleCode | null; managed: LocaleCode | null; person: LocaleCode | null }>({
  terminal: readSaved(),
  managed: null,
  person: null,
});

function readSaved(): LocaleCode | null {
  try {
    return matchLocale(globalThis.localStorage?.getItem(STORAGE_KEY));
  } catch {
    return null;
  }
}

function save(code: LocaleCode | null) {
  try {
    if (code) globalThis.localStorage?.setItem(STORAGE_KEY, code);
    else globalThis.localStorage?.removeItem(STORAGE_KEY);
  } catch {
    // A WebView without storage keeps the choice until the app closes.
  }
}

/** terminalLocale is the language of this terminal when nobody with a
 * language of their own is signed in. */
export function terminalLocale(): LocaleCode {
  return state.terminal ?? state.managed ?? DEFAULT_LOCALE;
}

/** currentLocale is the language shown now. Reading it in a component or
 * $derived re-runs that code when the language changes. */
export function currentLocale(): LocaleCode {
  return state.person ?? terminalLocale();
}

/** intlLocale is the locale to give Intl for numbers, dates and plurals. */
export function intlLocale(): string {
  return localeInfo(currentLocale()).intl;
}

/** currentLocaleInfo describes the language shown now (its Intl locale, its
 * date style). */
export function currentLocaleInfo(): LocaleInfo {
  return localeInfo(currentLocale());
}

function apply() {
  const code = currentLocale();
  void i18nLocale.set(code);
  if (typeof document !== 'undefined') document.documentElement.lang = code;
}

/** setLocale makes code this terminal's language, remembered across
 * restarts, and shows it now (also while a person's language was shown: the
 * person at the terminal chose). null forgets the choice: IT's default, or
 * English. */
export function setLocale(code: LocaleCode | null) {
  state.terminal = code;
  state.person = null;
  save(code);
  apply();
}

/** setManagedDefault sets IT's default language from the managed config
 * (a tag such as "de-DE"; null or one Outpost does not speak: none). A
 * terminal's own choice still wins. */
export function setManagedDefault(tag: string | null) {
  state.managed = matchLocale(tag);
  apply();
}

/** applyPersonLanguage shows the language of the person who signed in
 * (a tag from the people list) and, with null at sign-out or for a person
 * without one, goes back to the terminal's language. */
export function applyPersonLanguage(tag: string | null) {
  state.person = matchLocale(tag);
  apply();
}

/** locale is the current language as a Svelte store, for code that is not
 * a component (stores, derived stores). */
export const locale = readonly(i18nLocale);

const formatMessage = unwrapFunctionStore(format);
const all = dictionaries();
const english = all.get(DEFAULT_LOCALE) ?? {};

function setup() {
  for (const [code, messages] of all) addMessages(code, messages);
  const pseudo: Record<string, string> = {};
  for (const [k, v] of Object.entries(english)) pseudo[k] = pseudoLocalize(v);
  addMessages(PSEUDO.code, pseudo);
  void init({ fallbackLocale: DEFAULT_LOCALE, initialLocale: currentLocale() });
  apply();
}
setup();

/** t says the message key in the current language, with values for its
 * arguments; a message missing in that language falls back to English. */
export function t(key: MessageKey, values?: Values): string {
  return formatMessage(key, { values, locale: currentLocale() });
}

/** hasMessage tells whether key has a message (in English, the fallback). */
export function hasMessage(key: string): boolean {
  return Object.prototype.hasOwnProperty.call(english, key);
}

/** tDynamic is t() for keys known only at run time (an error code from Go:
 * "errors.store.locked"); null when there is no message for key, so the
 * caller can show what it has instead. */
export function tDynamic(key: string, values?: Values): string | null {
  if (!hasMessage(key)) return null;
  return formatMessage(key, { values, locale: currentLocale() });
}
