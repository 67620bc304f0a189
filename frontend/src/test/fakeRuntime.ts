// fakeRuntime installs window.runtime's event functions the way Wails
// injects them, so stores subscribed with EventsOn receive what a test
// emits ("session:changed", "sync:status", …).
type Cb = (...data: unknown[]) => void;

export function installRuntime() {
  const subs = new Map<string, Set<Cb>>();
  (globalThis as unknown as { runtime: unknown }).runtime = {
    EventsOnMultiple(name: string, cb: Cb) {
      if (!subs.has(name)) subs.set(name, new Set());
      subs.get(name)!.add(cb);
      return () => subs.get(name)?.delete(cb);
    },
    EventsOff(name: string) {
      subs.delete(name);
    },
  };
  return {
    emit(name: string, ...data: unknown[]) {
      for (const cb of subs.get(name) ?? []) cb(...data);
    },
    listeners: (name: string) => subs.get(name)?.size ?? 0,
  };
}

export function removeRuntime() {
  delete (globalThis as unknown as { runtime?: unknown }).runtime;
}
