// Short notices at the bottom of the screen, optionally with one action
// (Undo). Errors stay until dismissed; other notices leave after a while.
import { writable } from 'svelte/store';

export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
  action?: { label: string; run: () => void | Promise<void> };
}

export function createToasts(timeoutMs = 6000) {
  const { subscribe, update } = writable<Toast[]>([]);
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
    update((l) => [...l.slice(-2), { id, kind, text, action }]);
    if (kind !== 'error') timers.set(id, setTimeout(() => dismiss(id), timeoutMs));
    return id;
  }

  return {
    subscribe,
    dismiss,
    info: (text: string, action?: Toast['action']) => show('info', text, action),
    success: (text: string, action?: Toast['action']) => show('success', text, action),
    error: (text: string) => show('error', text),
  };
}

export const toasts = createToasts();
