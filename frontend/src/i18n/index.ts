// The i18n module: import { t } from '../i18n' (see docs/i18n.md).
export * from './i18n.svelte';
