// A keyboard-wedge scanner types a code and Enter, a few milliseconds a
// character; a person types far slower. createScanDetector watches the keys
// of the whole window and reports such a burst as a scan (issue 20: a badge
// is recognised on every screen, and a scan where nothing takes one is
// refused out loud instead of pressing whatever button has the focus).

/** GAP_MS: the longest pause between two characters of one scan. */
export const GAP_MS = 120;
/** AVG_MS: the longest mean pause of a scan (scanners: under 20 ms; a fast
 * typist's burst: over 100 ms). */
export const AVG_MS = 80;
/** MIN_LEN: the shortest code taken as a scan. */
export const MIN_LEN = 3;

export interface KeyLike {
  key: string;
  altKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
}

/** createScanDetector returns key(e, now): the scanned code when e (an
 * Enter) ends a burst, else ''. */
export function createScanDetector() {
  let buf = '';
  let first = 0;
  let last = -Infinity;
  return {
    key(e: KeyLike, now: number): string {
      if (e.altKey || e.ctrlKey || e.metaKey) {
        buf = '';
        return '';
      }
      const fast = now - last <= GAP_MS;
      if (e.key === 'Enter') {
        const mean = (now - first) / Math.max(1, buf.length);
        const code = fast && buf.length >= MIN_LEN && mean <= AVG_MS ? buf : '';
        buf = '';
        last = -Infinity;
        return code;
      }
      if (e.key.length !== 1) {
        if (e.key !== 'Shift') buf = '';
        return '';
      }
      if (!fast || !buf) first = now;
      buf = fast ? buf + e.key : e.key;
      last = now;
      return '';
    },
  };
}

/** isEditable: the element takes typed text (a field not read-only). */
export function isEditable(t: EventTarget | null): boolean {
  if (t instanceof HTMLTextAreaElement) return !t.readOnly && !t.disabled;
  if (t instanceof HTMLInputElement) {
    const textual = ['text', 'search', 'number', 'tel', 'password', 'email', 'url', ''].includes(t.type);
    return textual && !t.readOnly && !t.disabled;
  }
  return t instanceof HTMLElement && t.isContentEditable === true;
}
