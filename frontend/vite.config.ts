/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  build: {
    target: 'es2022',
    // Wails embeds dist/; keep its placeholder (.gitkeep) out of the way.
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  test: {
    // jsdom for the files that render or touch the page; the 18 that test
    // plain logic (lib, stores, messages) say `// @vitest-environment node`
    // in their first line: a jsdom per file cost them a third of their CPU
    // (18 files: 48-52 CPU-s with jsdom, 36-37 without, same 242 tests).
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    // Each file still gets a fresh jsdom and module graph (isolate), in a
    // worker thread rather than a child process: ~13% less CPU for the same
    // 400 tests on the 2-core machine (forks 89.7 CPU-s, threads 77.9,
    // back to back). Sharing one environment across files (isolate: false)
    // would save most of the rest but breaks files that mock modules.
    pool: 'threads',
  },
});
