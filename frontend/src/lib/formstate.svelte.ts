// The state a site data form keeps around a save: the sentences beside its
// fields, whether a save is under way, and the steps of a submit (check,
// save, place the Go side's error, focus the first field with a problem).
// Each form keeps its own fields, checks and input mapping.
import { placeError, firstError } from './sitedata';
import type { FieldErrors } from './validate';

export interface FormFields {
  /** a form key → the id of its field (`${id}-error` is its message) */
  ids: { [key: string]: string };
  /** the keys in the order the fields stand: the first with a problem gets the focus */
  order: string[];
  /** the Go side's field names (and the input's) → the form's keys, for placeError */
  aliases: { [goField: string]: string };
}

export interface Submit<T> {
  /** the form's own checks; any error stops the save */
  check: () => FieldErrors;
  /** sends the form; its result goes to saved */
  save: () => Promise<T>;
  /** after a save, the errors cleared */
  saved?: (result: T) => void;
  /** after a refused save, the error placed, before the focus moves */
  failed?: () => void;
}

export class FormState {
  errors = $state<FieldErrors>({});
  saving = $state(false);

  readonly #fields: FormFields;

  constructor(fields: FormFields) {
    this.#fields = fields;
  }

  /** aria-describedby of a field while it has an error, else undefined. */
  describedBy = (key: string): string | undefined => (this.errors[key] ? `${this.#fields.ids[key]}-error` : undefined);

  /**
   * loadOn fills the form (fill, from what it edits) each time key() names
   * another row, with the errors cleared: a form opened on another row starts
   * afresh, one whose row is only refreshed keeps what was typed. Call it
   * while the component is set up (it makes an $effect).
   */
  loadOn(key: () => string | null, fill: () => void) {
    let loadedFor: string | null | undefined = undefined;
    $effect(() => {
      const k = key();
      if (k === loadedFor) return;
      loadedFor = k;
      this.errors = {};
      fill();
    });
  }

  /** focusFirst moves the focus to the first field (in order) with an error. */
  focusFirst(errors: FieldErrors = this.errors) {
    const f = firstError(errors, this.#fields.order);
    if (f) document.getElementById(this.#fields.ids[f])?.focus();
  }

  /** submit checks, then saves once at a time. It resolves true when saved. */
  async submit<T>({ check, save, saved, failed }: Submit<T>): Promise<boolean> {
    if (this.saving) return false;
    const found = check();
    if (Object.keys(found).length) {
      this.errors = found;
      this.focusFirst(found);
      return false;
    }
    this.saving = true;
    try {
      const result = await save();
      this.errors = {};
      saved?.(result);
      return true;
    } catch (e) {
      this.errors = placeError(e, this.#fields.aliases);
      failed?.();
      this.focusFirst();
      return false;
    } finally {
      this.saving = false;
    }
  }
}
