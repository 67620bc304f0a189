// untranslated: what the pseudo-locale tests (en-XA) look for on a screen,
// shared by the tests of the screens in every language (issue 21).

export interface UntranslatedOptions {
  /** Also read placeholder, title and aria-label (default true). */
  attributes?: boolean;
  /** Leave out text with a clock time: Intl's weekday and month names are
   * not messages (default false). */
  skipTimes?: boolean;
  /** More elements whose text is data, not messages (a CSS selector). */
  skip?: string;
}

/** untranslated lists the visible text with words outside ⟦ ⟧ (the
 * pseudo-locale's brackets), leaving out the data the fixtures put on
 * screen. */
export function untranslated(root: HTMLElement, data: string[], opts: UntranslatedOptions = {}): string[] {
  const { attributes = true, skipTimes = false, skip } = opts;
  const hidden = 'script, style, [aria-hidden="true"]' + (skip ? `, ${skip}` : '');
  const out: string[] = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(hidden)) continue;
    let text = n.textContent ?? '';
    for (const d of data) text = text.split(d).join(' ');
    // Text inside a message is bracketed somewhere in its element.
    if (!/\p{L}{2,}/u.test(text)) continue;
    if (skipTimes && /\d{1,2}:\d{2}/.test(text)) continue;
    if (!(el.textContent ?? '').includes('⟦')) out.push(text.trim());
  }
  if (!attributes) return out;
  for (const a of root.querySelectorAll('[placeholder], [title], [aria-label]')) {
    for (const name of ['placeholder', 'title', 'aria-label']) {
      const v = a.getAttribute(name);
      if (v && /\p{L}{2,}/u.test(v) && !v.includes('⟦')) out.push(`${name}="${v}"`);
    }
  }
  return out;
}
