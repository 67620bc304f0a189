// Short notices at the bottom of the screen, optionally with one action
// (Undo). Errors stay until dismissed; a success leaves by itself after a
// few seconds, other notices (an Undo among them) a little later. Signing
// out clears them all: the next person at the terminal must not see the
// last one's notices, nor undo their delete.
import { writable } from 'svelte/store';
import { errorText } from '../lib/api';

export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
  action?: { label: string; run: () => void | Promise<void> };
}

export interface ToastTimes {
  /** ms a success stays */
  successMs?: number;
  /** ms an info notice stays (long enough to reach its Undo) */
  infoMs?: number;
}

/** How long notices stay by default; errors stay until dismissed. */
export const toastTimes = { successMs: 4000, infoMs: 6000 };

export function createToasts(times: ToastTimes = {}) {
  const ms = { ...toastTimes, ...times };
  const { subscribe, update, set } = writable<Toast[]>([]);
  let next = 1;
  const timers = new Map<number, ReturnType<typeof setTimeout>>();

  function dismiss(id: number) {
    const t = timers.get(id);
    if (t) clearTimeout(t);
    timers.delete(id);
    update((l) => l.filter((x) => x.id !== id));
  }

  function show(kind: Toast['kind'], text: string, action?: Toast['action']): number {
    const id = next++;
    update((l) => {
      // At most three at once: the oldest goes (with its timer).
      const kept = l.slice(-2);
      for (const x of l) if (!kept.includes(x)) dismissTimer(x.id);
      return [...kept, { id, kind, text, action }];
    });
    if (kind !== 'error')
      timers.set(
        id,
        setTimeout(() => dismiss(id), kind === 'success' ? ms.successMs : ms.infoMs),
      );
    return id;
  }

  function dismissTimer(id: number) {
    const t = timers.get(id);
    if (t) clearTimeout(t);
    timers.delete(id);
  }

  /** clear drops every notice, errors too (someone else is at the terminal). */
  function clear() {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
    set([]);
  }

  return {
    subscribe,
    dismiss,
    clear,
    info: (text: string, action?: Toast['action']) => show('info', text, action),
    success: (text: string, action?: Toast['action']) => show('success', text, action),
    error: (text: string) => show('error', text),
  };
}

export const toasts = createToasts();

/**
 * attempt runs call (a change the person asked for) and shows its failure
 * as an error notice in errorText's words. It resolves true when call
 * succeeded.
 */
export async function attempt(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (e) {
    toasts.error(errorText(e));
    return false;
  }
}
