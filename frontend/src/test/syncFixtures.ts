// A sync status as the Go side pushes it (sync:status), for the tests of
// the stores and screens: an enrolled manager computer, online and idle,
// unless over says otherwise.
import type { SyncStatus } from '../lib/api';

export const syncStatusOf = (over: Partial<SyncStatus> = {}): SyncStatus =>
  ({
    enrolled: true,
    serverUrl: 'https://sync.example.com',
    siteId: 'demo',
    role: 'manager',
    deviceId: 'd',
    online: true,
    syncing: false,
    pending: 0,
    inFlight: 0,
    awaitingReview: 0,
    rejected: 0,
    openConflicts: 0,
    lastSync: 0,
    lastError: '',
    clockOffsetMs: 0,
    clockWarning: false,
    progress: { phase: '', pushed: 0, pulled: 0, cursor: 0, target: 0 },
    ...over,
  }) as SyncStatus;
