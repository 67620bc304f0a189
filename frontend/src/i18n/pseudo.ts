// The pseudo-locale "en-XA": every English message wrapped in ⟦ ⟧, its letters
// accented and its text 40% longer, ICU arguments ({count}, {n, plural, ...},
// #) left intact so it formats like English. A screen in en-XA shows at a
// glance any text that did not come from the message files (no brackets, no
// accents) and any control too narrow for a longer language.

const ACCENTED: Record<string, string> = {
  a: 'á',
  b: 'ƀ',
  c: 'ç',
  d: 'ð',
  e: 'é',
  f: 'ƒ',
  g: 'ĝ',
  h: 'ĥ',
  i: 'í',
  j: 'ĵ',
  k: 'ķ',
  l: 'ļ',
  m: 'ɱ',
  n: 'ñ',
  o: 'ó',
  p: 'þ',
  q: 'ǫ',
  r: 'ŕ',
  s: 'š',
  t: 'ţ',
  u: 'ú',
  v: 'ṽ',
  w: 'ŵ',
  x: 'ẋ',
  y: 'ý',
  z: 'ž',
  A: 'Á',
  B: 'Ɓ',
  C: 'Ç',
  D: 'Ð',
  E: 'É',
  F: 'Ƒ',
  G: 'Ĝ',
  H: 'Ĥ',
  I: 'Í',
  J: 'Ĵ',
  K: 'Ķ',
  L: 'Ļ',
  M: 'Ṁ',
  N: 'Ñ',
  O: 'Ó',
  P: 'Ƥ',
  Q: 'Ǫ',
  R: 'Ŕ',
  S: 'Š',
  T: 'Ţ',
  U: 'Ú',
  V: 'Ṽ',
  W: 'Ŵ',
  X: 'Ẋ',
  Y: 'Ý',
  Z: 'Ž',
};

const VOWELS = 'aeiouAEIOU';
const FILL = 'ǻéíóú';

/** stretch accents a run of literal text and makes it 40% longer by
 * repeating vowels (then by appending accented vowels when it has too few). */
function stretch(text: string): string {
  const letters = [...text].filter((c) => /\S/.test(c)).length;
  let extra = Math.ceil(letters * 0.4);
  let out = '';
  for (const c of text) {
    out += ACCENTED[c] ?? c;
    if (extra > 0 && VOWELS.includes(c)) {
      out += ACCENTED[c];
      extra--;
    }
  }
  for (let i = 0; extra > 0; i++, extra--) out += FILL[i % FILL.length];
  return out;
}

/** pseudoLocalize turns one English ICU message into its en-XA form. */
export function pseudoLocalize(message: string): string {
  const [body] = walk(message, 0, false, false);
  return `⟦${body}⟧`;
}

/** walk copies an ICU message from i, stretching literal text, until the end
 * of the message or an unmatched '}' (nested: the end of a plural branch). */
function walk(s: string, i: number, nested: boolean, inPlural: boolean): [string, number] {
  let out = '';
  let lit = '';
  const flush = () => {
    out += stretch(lit);
    lit = '';
  };
  while (i < s.length) {
    const c = s[i];
    if (c === "'" && i + 1 < s.length) {
      const n = s[i + 1];
      if (n === "'") {
        lit += "''";
        i += 2;
        continue;
      }
      if (n === '{' || n === '}' || (inPlural && n === '#')) {
        // A quoted run: literal syntax characters, copied as they are.
        const end = s.indexOf("'", i + 1);
        const stop = end < 0 ? s.length : end + 1;
        flush();
        out += s.slice(i, stop);
        i = stop;
        continue;
      }
    }
    if (c === '{') {
      flush();
      const [arg, next] = argument(s, i);
      out += arg;
      i = next;
      continue;
    }
    if (c === '}' && nested) break;
    if (c === '#' && inPlural) {
      flush();
      out += '#';
      i++;
      continue;
    }
    lit += c;
    i++;
  }
  flush();
  return [out, i];
}

/** argument copies one {…} argument starting at s[i] === '{'; the branches
 * of a plural or select are walked as messages of their own. */
function argument(s: string, i: number): [string, number] {
  const close = (from: number): number => {
    let depth = 0;
    for (let j = from; j < s.length; j++) {
      if (s[j] === '{') depth++;
      else if (s[j] === '}') {
        if (depth === 0) return j;
        depth--;
      }
    }
    return s.length;
  };
  const head = /^\{\s*([^,{}\s]+)\s*(?:,\s*(\w+)\s*)?(,|\})/.exec(s.slice(i));
  if (!head) {
    const end = close(i + 1);
    return [s.slice(i, end + 1), end + 1];
  }
  const type = head[2];
  let j = i + head[0].length;
  if (head[3] === '}' || !type || !['plural', 'select', 'selectordinal'].includes(type)) {
    if (head[3] === '}') return [head[0], j];
    const end = close(j);
    return [s.slice(i, end + 1), end + 1];
  }
  let out = head[0];
  const inPlural = type !== 'select';
  while (j < s.length) {
    const ws = /^\s*/.exec(s.slice(j))![0];
    out += ws;
    j += ws.length;
    if (s[j] === '}') return [out + '}', j + 1];
    const sel = /^[^\s{}]+/.exec(s.slice(j));
    if (!sel) break;
    out += sel[0];
    j += sel[0].length;
    if (sel[0].startsWith('offset:')) continue;
    const ws2 = /^\s*/.exec(s.slice(j))![0];
    out += ws2;
    j += ws2.length;
    if (s[j] !== '{') break;
    const [branch, next] = walk(s, j + 1, true, inPlural);
    out += '{' + branch + '}';
    j = next + 1;
  }
  return [out + s.slice(j), s.length];
}
