// fakeBackend installs window.go.app.* the way the Wails runtime does, so
// tests exercise the generated bindings and api.ts unchanged.
type Fn = (...args: unknown[]) => Promise<unknown>;
export type Services = { [service: string]: { [method: string]: Fn } };

export function installBackend(services: Services): void {
  (globalThis as unknown as { go: { app: Services } }).go = { app: services };
}

export function removeBackend(): void {
  delete (globalThis as unknown as { go?: unknown }).go;
}
