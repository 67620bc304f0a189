// ESLint flat config (issue 18): the recommended rule sets of ESLint,
// typescript-eslint and eslint-plugin-svelte; eslint-config-prettier last so
// no rule argues with Prettier's formatting.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import ts from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import svelteConfig from './svelte.config.js';

export default defineConfig(
  // dist is the build, wailsjs the bindings Wails generates.
  { ignores: ['dist/', 'wailsjs/', 'node_modules/'] },
  js.configs.recommended,
  ts.configs.recommended,
  svelte.configs.recommended,
  prettier,
  svelte.configs.prettier,
  {
    languageOptions: { globals: globals.browser },
    rules: {
      // Svelte 5 drops whitespace at the edge of a tag or block, so a space
      // there must be written {' '}, which this rule would turn back into a
      // bare space; such a mustache carries a comment saying so.
      'svelte/no-useless-mustaches': ['error', { ignoreIncludesComment: true }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'], svelteConfig } },
  },
  // The e2e scripts and the config files run in Node.
  { files: ['e2e/**/*.mjs', '*.config.{js,ts}'], languageOptions: { globals: globals.node } },
);
