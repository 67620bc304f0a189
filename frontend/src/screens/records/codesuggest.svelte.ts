// The state of one code field's suggestions (issue 20): open only while the
// field has the focus, something is typed and it is not a whole code; ↓/↑
// move, Enter takes the marked one (never an unmarked one: a scanner's
// Enter must not turn a scan into another code), Escape closes.
import { suggestCodes, type CodeOption } from './suggest';

export class CodeSuggest {
  focused = $state(false);
  dismissed = $state(false);
  active = $state(-1);
  readonly listId: string;
  #options: () => CodeOption[];
  #value: () => string;
  #off: () => boolean;

  constructor(listId: string, options: () => CodeOption[], value: () => string, off: () => boolean) {
    this.listId = listId;
    this.#options = options;
    this.#value = value;
    this.#off = off;
  }

  matches = $derived.by(() => (this.focused && !this.dismissed && !this.#off() ? suggestCodes(this.#options(), this.#value()) : []));

  get open(): boolean {
    return this.matches.length > 0;
  }

  optionId(i: number): string {
    return `${this.listId}-${i}`;
  }

  get activeId(): string | undefined {
    return this.open && this.active >= 0 && this.active < this.matches.length ? this.optionId(this.active) : undefined;
  }

  /** typed: the text changed, so the list comes back with nothing marked. */
  typed() {
    this.dismissed = false;
    this.active = -1;
  }

  close() {
    this.dismissed = true;
    this.active = -1;
  }

  /** key handles the list's keys while it is open; it returns the code
   * Enter took, or '' (the event then goes on to the form). */
  key(e: KeyboardEvent): string {
    if (!this.open) return '';
    const n = this.matches.length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      this.active = e.key === 'ArrowDown' ? (this.active + 1) % n : this.active <= 0 ? n - 1 : this.active - 1;
    } else if (e.key === 'Enter' && this.activeId) {
      e.preventDefault();
      e.stopPropagation();
      const code = this.matches[this.active].code;
      this.close();
      return code;
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this.close();
    }
    return '';
  }
}
