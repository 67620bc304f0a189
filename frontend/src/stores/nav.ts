import { writable } from 'svelte/store';

export type Screen = 'records' | 'lines' | 'status' | 'sync' | 'conflicts' | 'dashboard' | 'site';

export const screens: { id: Screen; label: string; key: string }[] = [
  { id: 'records', label: 'Records', key: '1' },
  { id: 'lines', label: 'Line configs', key: '2' },
  { id: 'status', label: 'Status', key: '3' },
  { id: 'sync', label: 'Sync', key: '4' },
  { id: 'conflicts', label: 'Conflicts', key: '5' },
  { id: 'dashboard', label: 'Dashboard', key: '6' },
  { id: 'site', label: 'Site', key: '7' },
];

export const screen = writable<Screen>('records');

/** SIGN_OUT_KEY with Alt signs the person out from anywhere (issue 20), as
 * Alt+1…7 go to the screens and Alt+T turns the theme. */
export const SIGN_OUT_KEY = 'Q';
