package uplink_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/uplink"
)

// A record deleted on site after central's last backup: central takes
// the delete, the hub's retention then purges the tombstone (every site
// terminal has it, central answered it: 00399d1's horizon allows it).
// Central is then restored from the backup (design section 9: central
// restored while linked "gets every site write back"). The hub resends
// its writes above central's mark from its own history, where the delete
// no longer is, and its pass from 0 brings central's live row back onto
// the site: the record deleted on site is live again everywhere.
func TestAttack2_HubRetentionThenCentralRestoredResurrectsASiteDelete(t *testing.T) {
	const site = "rig-r2"
	central := newNode(t, "central")
	hub := newHub(t, central, "deck", site)
	hq := enrollDevice(t, central, "office", site, protocol.RoleOperator)
	op := enrollDevice(t, hub, "deck 1", site, protocol.RoleOperator)

	gone := uuid.NewString()
	op.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, op)

	backup := central.path + ".backup"
	restartCentral(t, central, func(path string) { backupFile(t, path, backup) })

	op.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpDelete)
	converge(t, 20*time.Second, hq, op)
	settled(t, central, hub, site)
	commitAll(op)
	time.Sleep(20 * time.Millisecond)
	if _, err := hub.srv.Engine().Purge(t.Context(), server.Retention{StaleAfter: 90 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := hub.current(t, site, protocol.TableProductionRecords, gone); ok {
		t.Skip("the hub's retention kept the tombstone; the attack needs it purged")
	}

	restoreCentral(t, central, backup)
	hq.cursor, hq.versions = 0, map[rowKey]int64{}
	// A later site write shows the link has caught up with the restore.
	marker := uuid.NewString()
	op.write(protocol.TableProductionRecords, record(marker, "L2", 1), protocol.OpUpsert)
	waitFor(t, "the site's later write at central", func() bool {
		_, _, ok := central.current(t, site, protocol.TableProductionRecords, marker)
		return ok
	})
	settled(t, central, hub, site)
	time.Sleep(300 * time.Millisecond)
	settled(t, central, hub, site)

	if row, deleted, ok := central.current(t, site, protocol.TableProductionRecords, gone); ok && !deleted {
		t.Errorf("central holds the record deleted on site live again after its restore: %v", row)
	}
	if _, deleted, ok := hub.current(t, site, protocol.TableProductionRecords, gone); ok && !deleted {
		t.Errorf("the hub republished the record deleted on site, live, to every terminal of the site")
	}
}

// Central restored from a backup while linked: the hub forgets central's
// versions of every row (up/base/…) and pulls from 0 (UpstreamCentralRestored),
// but its next sync pushes before it pulls. A site edit made before that
// pass has brought the rows again goes up with base_version 0: judged as
// a write made on nothing, central's three-way merge with no base makes
// every field the edit changed a conflict. A device in the same place
// runs its full pass before its next push (design section 3, "After a
// timeline change"), precisely so that only what the restore lost is
// judged on base 0. Here a routine correction of a line's notes, on a row
// central's backup holds unchanged, becomes an open conflict at
// headquarters and the site's row goes back to the old notes.
//
// The link runs by hand (its loop stopped, verification off) to place the
// site's edit between the sync that sees central's new timeline and the
// next one; on a running hub the window is the kick between the two.
func TestAttack2_HubEditAfterCentralRestoredPushedOnNoBase(t *testing.T) {
	const site = "rig-b2"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "deck", "deck office")
	settled(t, central, hub, site)

	backup := central.path + ".backup"
	restartCentral(t, central, func(path string) { backupFile(t, path, backup) })
	mgr.write(protocol.TableProductionRecords, record(uuid.NewString(), "L1", 1), protocol.OpUpsert) // lost by the restore
	settled(t, central, hub, site)

	hub.restartPaused(t, func(string) {})
	restoreCentral(t, central, backup)
	ctx := t.Context()
	link, err := uplink.New(uplink.Config{Engine: hub.srv.Engine(), ID: hub.link.Identity(), VerifyEvery: -1,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_ = link.Once(ctx) // sees central's new timeline
	if tl, _ := hub.srv.Engine().UpstreamCentralTimeline(ctx, site); tl == "" {
		t.Fatal("the hub recorded no central timeline")
	}
	bm.pull()
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "valve 3 replaced"), protocol.OpUpsert)
	for i := 0; i < 3; i++ {
		if err := link.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}

	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	if open := central.openAt(t, site, cfg); len(open) != 0 || row["notes"] != "valve 3 replaced" {
		t.Fatalf("central after the site's edit of a row its backup holds unchanged: notes %q, %d open conflict(s) (fields %v); want the edit applied, no conflict",
			row["notes"], len(open), fieldsOf(open))
	}
}
