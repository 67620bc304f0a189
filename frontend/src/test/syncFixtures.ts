// A sync status as the Go side pushes it (sync:status), for the tests of
// the stores and screens: an enrolled manager computer, online and idle,
// unless over says otherwise.
import type { SyncStatus } from '../lib/api';

export const syncStatusOf = (over: Partial<SyncStatus> = {}): SyncStatus =>
  ({
    enrolled: true,
    server_url: 'https://sync.example.com',
    site_id: 'demo',
    role: 'manager',
    device_id: 'd',
    online: true,
    syncing: false,
    pending: 0,
    in_flight: 0,
    awaiting_review: 0,
    rejected: 0,
    open_conflicts: 0,
    last_sync: 0,
    last_error: '',
    clock_offset_ms: 0,
    clock_warning: false,
    progress: { phase: '', pushed: 0, pulled: 0, cursor: 0, target: 0 },
    ...over,
  }) as SyncStatus;
