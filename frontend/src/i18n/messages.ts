// The message files: src/i18n/<dictionary>/<locale>.json, flat objects of
// dotted keys to ICU MessageFormat strings. Every dictionary of a locale is
// merged into one (ui/ holds the screens' words, errors/ the sentences for
// the Go side's error codes); English is complete and the fallback.
import type { LocaleCode } from './locales';

export type Dictionary = Record<string, string>;

const files = import.meta.glob<Dictionary>('./*/*.json', { eager: true, import: 'default' });

/** dictionaries merges the message files by locale: "./ui/de.json" and
 * "./errors/de.json" both go to "de". A key in two dictionaries of one
 * locale is a mistake the i18n tests report. */
export function dictionaries(): Map<string, Dictionary> {
  const out = new Map<string, Dictionary>();
  for (const [path, messages] of Object.entries(files)) {
    const m = /^\.\/([^/]+)\/([^/]+)\.json$/.exec(path);
    if (!m) continue;
    const locale = m[2];
    out.set(locale, { ...(out.get(locale) ?? {}), ...messages });
  }
  return out;
}

/** messageFiles lists each file with its dictionary, locale and messages,
 * for the tests that compare every locale with English. */
export function messageFiles(): { dictionary: string; locale: string; messages: Dictionary }[] {
  return Object.entries(files).flatMap(([path, messages]) => {
    const m = /^\.\/([^/]+)\/([^/]+)\.json$/.exec(path);
    return m ? [{ dictionary: m[1], locale: m[2], messages }] : [];
  });
}

export type { LocaleCode };
