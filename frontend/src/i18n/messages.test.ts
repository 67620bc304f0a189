// @vitest-environment node
// Every language has exactly the English keys, each message parses as ICU
// MessageFormat, uses the same arguments as English, and gives every plural
// the "other" case; the pseudo-locale keeps the arguments too.
import { describe, expect, it } from 'vitest';
import { IntlMessageFormat } from 'intl-messageformat';
import { messageFiles, type Dictionary } from './messages';
import { LOCALES } from './locales';
import { pseudoLocalize } from './pseudo';

type Ast = ReturnType<IntlMessageFormat['getAst']>;

/** args lists a message's arguments as "name:type" (plural, select, number…). */
function args(message: string, locale: string): string[] {
  const out = new Set<string>();
  const visit = (ast: Ast) => {
    for (const el of ast) {
      // Types from @formatjs/icu-messageformat-parser: 1 argument, 2 number,
      // 3 date, 4 time, 5 select, 6 plural, 8 tag.
      const e = el as unknown as { type: number; value?: string; options?: Record<string, { value: Ast }>; children?: Ast };
      if (e.type >= 1 && e.type <= 6 && e.value !== undefined) out.add(`${e.value}:${e.type === 1 ? 'arg' : e.type}`);
      if (e.options) for (const o of Object.values(e.options)) visit(o.value);
      if (e.children) visit(e.children);
    }
  };
  visit(new IntlMessageFormat(message, locale, undefined, { ignoreTag: true }).getAst());
  return [...out].sort();
}

/** pluralsHaveOther reports plurals without an "other" case. */
function pluralsWithoutOther(message: string, locale: string): number {
  let missing = 0;
  const visit = (ast: Ast) => {
    for (const el of ast) {
      const e = el as unknown as { type: number; options?: Record<string, { value: Ast }> };
      if (e.type === 6 && e.options && !('other' in e.options)) missing++;
      if (e.options) for (const o of Object.values(e.options)) visit(o.value);
    }
  };
  visit(new IntlMessageFormat(message, locale, undefined, { ignoreTag: true }).getAst());
  return missing;
}

const files = messageFiles();
const dictionaryNames = [...new Set(files.map((f) => f.dictionary))];

describe('message files', () => {
  for (const dict of dictionaryNames) {
    const english = files.find((f) => f.dictionary === dict && f.locale === 'en')?.messages as Dictionary;

    it(`${dict}: English exists and its messages parse`, () => {
      expect(english, `${dict}/en.json`).toBeTruthy();
      for (const [k, v] of Object.entries(english)) {
        expect(() => args(v, 'en'), k).not.toThrow();
        expect(pluralsWithoutOther(v, 'en'), k).toBe(0);
        expect(args(pseudoLocalize(v), 'en'), `en-XA ${k}`).toEqual(args(v, 'en'));
      }
    });

    for (const { code } of LOCALES.filter((l) => l.code !== 'en')) {
      it(`${dict}/${code}.json has the English keys and arguments`, () => {
        const f = files.find((x) => x.dictionary === dict && x.locale === code);
        expect(f, `${dict}/${code}.json is missing`).toBeTruthy();
        const m = f!.messages;
        expect(Object.keys(m).sort()).toEqual(Object.keys(english).sort());
        for (const [k, v] of Object.entries(m)) {
          expect(typeof v === 'string' && v.trim() !== '', `${code} ${k} is empty`).toBe(true);
          expect(args(v, code), `${code} ${k}`).toEqual(args(english[k], 'en'));
          expect(pluralsWithoutOther(v, code), `${code} ${k}`).toBe(0);
        }
      });
    }
  }

  it('no key is in two dictionaries', () => {
    const seen = new Map<string, string>();
    for (const f of files.filter((x) => x.locale === 'en')) {
      for (const k of Object.keys(f.messages)) {
        expect(seen.get(k), `${k} is in ${seen.get(k)} and ${f.dictionary}`).toBeUndefined();
        seen.set(k, f.dictionary);
      }
    }
  });

  it('no file for a language Outpost does not list', () => {
    const known = new Set(LOCALES.map((l) => l.code as string));
    for (const f of files) expect(known.has(f.locale), `${f.dictionary}/${f.locale}.json`).toBe(true);
  });
});
