// @vitest-environment node
// No string shown to a person outside the message files: every .svelte file
// is parsed, and words in its text, in its user-visible attributes, in the
// strings its markup prints and in the notices its script raises are
// reported. Files in ALLOW are not converted yet (later waves of issue 21
// take them off; the test says when one is clean and should leave the list).
import { describe, expect, it } from 'vitest';
import { parse } from 'svelte/compiler';

const sources = import.meta.glob<string>('../**/*.svelte', { eager: true, query: '?raw', import: 'default' });

/** ALLOW lists the files and folders not converted yet, relative to src/. */
const ALLOW: string[] = [];

/** VISIBLE are the attributes a person reads or hears. */
const VISIBLE = new Set([
  'placeholder',
  'title',
  'aria-label',
  'alt',
  'label',
  'hint',
  'aria-description',
  'aria-roledescription',
  'aria-valuetext',
  'aria-placeholder',
]);

/** words: a run of two letters or more (a lone "×" or "·" or "—" is a sign, not a word). */
const words = (s: string) => /\p{L}{2,}/u.test(s);

type Node = { type: string; [k: string]: unknown };

function isNode(x: unknown): x is Node {
  return !!x && typeof x === 'object' && typeof (x as Node).type === 'string';
}

/** shown returns the string literals an expression can evaluate to as text:
 * itself, either branch of a ?:, the right of || and ??, the parts of a
 * template or of a + concatenation. Arguments of calls (t('key'), a
 * formatter) and comparisons are not shown. */
function shown(e: unknown, out: string[]) {
  if (!isNode(e)) return;
  switch (e.type) {
    case 'Literal':
      if (typeof e.value === 'string') out.push(e.value);
      return;
    case 'TemplateLiteral':
      for (const q of e.quasis as { value: { cooked: string } }[]) out.push(q.value.cooked);
      for (const x of e.expressions as unknown[]) shown(x, out);
      return;
    case 'ConditionalExpression':
      shown(e.consequent, out);
      shown(e.alternate, out);
      return;
    case 'LogicalExpression':
      shown(e.right, out);
      if (e.operator !== '&&') shown(e.left, out);
      return;
    case 'BinaryExpression':
      if (e.operator === '+') {
        shown(e.left, out);
        shown(e.right, out);
      }
      return;
  }
}

/** NOTICES are calls whose first argument a person reads. */
const NOTICES = /^(toasts\.\w+|feedback\.refuse|confirm|alert)$/;

function calleeName(c: unknown): string {
  if (!isNode(c)) return '';
  if (c.type === 'Identifier') return String(c.name);
  if (c.type === 'MemberExpression') return `${calleeName(c.object)}.${calleeName(c.property)}`;
  return '';
}

/** walk visits every node under n; a visitor returning false skips the
 * node's children. */
function walk(n: unknown, visit: (n: Node) => boolean | void) {
  if (Array.isArray(n)) {
    for (const x of n) walk(x, visit);
    return;
  }
  if (!n || typeof n !== 'object') return;
  if (isNode(n) && visit(n) === false) return;
  for (const [k, v] of Object.entries(n)) {
    if (k === 'parent' || k === 'metadata' || k === 'loc') continue;
    if (v && typeof v === 'object') walk(v, visit);
  }
}

/** literals returns what a file shows that is not from the message files. */
export function literals(source: string): string[] {
  const ast = parse(source, { modern: true }) as unknown as { fragment: unknown; instance?: unknown; module?: unknown };
  const found: string[] = [];
  walk(ast.fragment, (n) => {
    if (n.type === 'Text' && words(String(n.data))) found.push(String(n.data).trim());
    if (n.type === 'ExpressionTag') {
      const out: string[] = [];
      shown(n.expression, out);
      found.push(...out.filter(words));
      return false;
    }
    if (n.type === 'Attribute') {
      if (!VISIBLE.has(String(n.name))) return false;
      const parts = (Array.isArray(n.value) ? n.value : [n.value]) as Node[];
      for (const part of parts) {
        if (!isNode(part)) continue;
        if (part.type === 'Text' && words(String(part.data))) found.push(`${n.name}="${String(part.data)}"`);
        if (part.type === 'ExpressionTag') {
          const out: string[] = [];
          shown(part.expression, out);
          found.push(...out.filter(words).map((w) => `${n.name}="${w}"`));
        }
      }
      return false;
    }
    // Directives (bind:, on:, class:, style:, use:) hold code, not text.
    if (/Directive$/.test(n.type)) return false;
  });
  for (const script of [ast.instance, ast.module, ast.fragment]) {
    walk(script, (n) => {
      if (n.type !== 'CallExpression' || !NOTICES.test(calleeName(n.callee))) return;
      const out: string[] = [];
      shown((n.arguments as unknown[])[0], out);
      found.push(...out.filter(words));
    });
  }
  return found;
}

const files = Object.entries(sources).map(([path, src]) => ({ path: path.replace(/^\.\.\//, ''), src }));

describe('no string literal shown to a person outside the message files', () => {
  it('finds words where a person sees them', () => {
    const src = `<script>toasts.error('Saved'); toasts.success(t('x'));</script>
<p title="Hello">Some text {a ? 'Yes' : t('k')} {x === 'raw' ? n : m}</p><input placeholder={t('p')} aria-label="Name" /> <span>·</span>`;
    expect(literals(src).sort()).toEqual(['Saved', 'Some text', 'Yes', 'aria-label="Name"', 'title="Hello"'].sort());
  });

  for (const f of files.filter((f) => !ALLOW.some((a) => f.path.startsWith(a)))) {
    it(f.path, () => {
      expect(literals(f.src), `${f.path} shows text not from src/i18n`).toEqual([]);
    });
  }

  for (const a of ALLOW) {
    it(`${a} is not converted yet`, () => {
      const left = files.filter((f) => f.path.startsWith(a)).flatMap((f) => literals(f.src));
      expect(left.length, `${a} is clean: take it off ALLOW`).toBeGreaterThan(0);
    });
  }
});
