// Review of fd178eb: "Headquarters not reached since …" shows the hub's
// lastSync, a time of the hub's clock (UpstreamHealth.last_sync), as if it
// were this terminal's. Every other time the window shows is the
// terminal's clock (DESIGN section 5: device clocks are untrusted, the
// client measures its offset from server_time, clockOffsetMs = server −
// device). On a terminal whose clock is 3 h behind, the bar said
// headquarters was last reached at a time 3 h in this terminal's future.
import { describe, expect, it } from 'vitest';
import { headquartersLabel } from '../lib/sync';
import { syncStatusOf } from '../test/syncFixtures';

describe('review: the headquarters label and the hub clock', () => {
  it("shows the hub's last sync on this terminal's clock", () => {
    const hour = 3_600_000;
    const deviceNow = new Date(2026, 11, 7, 11, 10).getTime();
    const hubLastSync = new Date(2026, 11, 7, 14, 2).getTime(); // hub clock: 8 min before the hub's now (14:10)
    const s = syncStatusOf({
      clockOffsetMs: 3 * hour, // the hub's clock is 3 h ahead of this terminal's
      clockWarning: true,
      headquarters: { up: false, lastSync: hubLastSync, waiting: 0 },
    } as never);
    const { label } = headquartersLabel(s, deviceNow);
    expect(label).toContain('11:02');
    expect(label).not.toContain('14:02');
  });
});
