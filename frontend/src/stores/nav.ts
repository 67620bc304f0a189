import { writable } from 'svelte/store';

export type Screen = 'records' | 'lines' | 'status';

export const screens: { id: Screen; label: string; key: string }[] = [
  { id: 'records', label: 'Records', key: '1' },
  { id: 'lines', label: 'Line configs', key: '2' },
  { id: 'status', label: 'Status', key: '3' },
];

export const screen = writable<Screen>('records');
