package uplink_test

import (
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
)

// A site manager corrects a line's notes during a cut; headquarters'
// manager changed its rate a little earlier. Central merges the site's
// write (disjoint fields) and stamps the merged row with the later of
// the two hlcs: the site write's own (sync.go, manual: central is no hub,
// so no hubStamp). The hub is then restored from a backup taken during
// the cut, where that write is still unsent. It sends it again; its
// origin_seq is at or below central's mark, and hubBatch.before finds the
// row's current hlc equal to the write's, so it answers "applied" with
// the merged version (76f5ae5 answers merged only when the hlc differs).
// The hub records that version as the echo of its own write and skips it
// on the full pass: the site keeps the write without headquarters' rate,
// for good. (The backup is taken before the link built a batch of the
// write: a batch central still holds the answer of is answered from it.)
// Verification hashes central's version only, and the hub's base
// is that version: it verifies, and nothing repairs the site.
func TestAttack2_RestoredHubTakesCentralsMergeForItsOwnWrite(t *testing.T) {
	const site = "ship-m2"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "ship", "bridge")

	hub.cut(true)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 70, "start"), protocol.OpUpsert)
	time.Sleep(5 * time.Millisecond)
	// The link stopped while the write is made, so the backup holds the
	// write and no batch of it (a batch central answered would be
	// answered again from central's stored answer).
	hub.restartPaused(t, func(string) {})
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "valves"), protocol.OpUpsert) // the later hlc
	backup := hub.path + ".backup"
	hub.restart(t, func(path string) { backupFile(t, path, backup) })
	hub.cut(false)
	settled(t, central, hub, site)
	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	if rate(row) != "70" || row["notes"] != "valves" {
		t.Fatalf("central did not merge the site's notes with its rate: %v", row)
	}

	hub.restartPaused(t, func(path string) { restoreFile(t, path, backup) })
	hub.run(t)
	settled(t, central, hub, site)
	time.Sleep(300 * time.Millisecond)
	settled(t, central, hub, site)

	ver, err := hub.link.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := hub.current(t, site, protocol.TableLineConfigs, cfg)
	if rate(got) != "70" || got["notes"] != "valves" {
		t.Fatalf("the restored hub holds rate %s, notes %v; central holds rate 70, notes valves (its merge of the site's write); the hub's verification against central: %+v",
			rate(got), got["notes"], ver)
	}
}

// The same without any restore: a hub killed after central merged its
// batch and before it recorded the answer, with central's stored answer
// expired before it comes back (away longer than --stale-after). The
// batch sent again is unknown to central, falls to the origin_seq mark,
// and is answered "applied" because central stamped its merge with the
// site write's hlc: the site keeps its write without headquarters' rate
// for good, verification agreeing.
func TestAttack2_HubLostAnswerTakesCentralsMergeForItsOwnWrite(t *testing.T) {
	const site = "plant-m3"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	hub.stop()
	ident := hub.link.Identity()
	eng := hub.srv.Engine()
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 70, "start"), protocol.OpUpsert)
	time.Sleep(5 * time.Millisecond)
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "valves"), protocol.OpUpsert) // the later hlc
	body, ok, err := eng.UpstreamBatch(t.Context(), site, ident.Device, 500)
	if err != nil || !ok {
		t.Fatalf("batch: %v %v", ok, err)
	}
	resp, err := upstreamAPI(t, hub).Push(t.Context(), body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Results[0].Status != protocol.StatusMerged {
		t.Fatalf("central answered %s; the attack needs a merge", resp.Results[0].Status)
	}
	// The answer is lost with the hub; central forgets the batch.
	if err := central.st.DeleteExpired(t.Context(), time.Now().Add(time.Hour).UnixMilli(), 0, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	hub.srv.Close()
	hub.ts.Close()
	hub.serveHub(t, ident)
	hub.run(t)
	settled(t, central, hub, site)
	time.Sleep(300 * time.Millisecond)
	settled(t, central, hub, site)

	ver, err := hub.link.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := hub.current(t, site, protocol.TableLineConfigs, cfg)
	if rate(got) != "70" || got["notes"] != "valves" {
		t.Fatalf("the hub holds rate %s, notes %v; central holds rate 70, notes valves (its merge of the site's write); the hub's verification against central: %+v",
			rate(got), got["notes"], ver)
	}
}
