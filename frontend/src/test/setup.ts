import { setSchema } from '../stores/schema';
import { registryTables } from './schema';

// jsdom lacks a few browser APIs the components use.
if (!('ResizeObserver' in globalThis)) {
  class RO {
    observe() {}
    unobserve() {}
    disconnect() {}
  }
  (globalThis as unknown as { ResizeObserver: typeof RO }).ResizeObserver = RO;
}

// The screens hold the registry's tables once the app started
// (stores/schema.ts, loadSchema): so do the tests, from the fixture the Go
// registry writes.
setSchema(registryTables);
