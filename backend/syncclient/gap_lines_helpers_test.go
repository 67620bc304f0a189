package syncclient

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// lineScene is where every re-edit-under-review restore test starts: a
// real server, three managers' devices s, a and b that hold line L1 (hall
// A, active, written by s), and a backup of the server taken then.
type lineScene struct {
	srv     *realServer
	s, a, b *device
	id      string
	backup  string
}

func newLineScene(t *testing.T) *lineScene {
	t.Helper()
	sc := &lineScene{srv: startRealServer(t)}
	sc.s = newDevice(t, sc.srv, "s", "manager")
	sc.a = newDevice(t, sc.srv, "a", "manager")
	sc.b = newDevice(t, sc.srv, "b", "manager")
	sc.id = putLine(t, sc.s, map[string]any{"name": "Line L1", "area": "Hall A", "active": true})
	sc.s.sync(t)
	sc.a.sync(t)
	sc.b.sync(t)
	sc.backup = t.TempDir()
	sc.srv.stop()
	sc.srv.backup(sc.backup)
	sc.srv.start()
	return sc
}

// restore brings the server back from the scene's backup, then a, b and s
// sync three rounds each; their errors are logged, not fatal (the first
// syncs meet the restored timeline).
func (sc *lineScene) restore(t *testing.T) {
	t.Helper()
	sc.srv.stop()
	if !sc.srv.restoreFrom(sc.backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	sc.srv.start()
	for i := 0; i < 3; i++ {
		for _, d := range []*device{sc.a, sc.b, sc.s} {
			if _, err := d.c.Sync(context.Background()); err != nil {
				t.Logf("%s: sync: %v", d.name, err)
			}
		}
	}
}

// putLine writes line L1 on d with fields f (its code and updated_by
// set), as the manager's Lines screen does, and returns the row's id.
func putLine(t *testing.T, d *device, f map[string]any) string {
	t.Helper()
	f["code"], f["updated_by"] = "L1", "B-01"
	r, err := d.st.PutSiteRow(context.Background(), protocol.TableLines, f)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID()
}

// editLine changes one field of line id on d, starting from the row as d
// holds it (a re-edit under review starts from theirs).
func editLine(t *testing.T, d *device, id, k string, v any) {
	t.Helper()
	editLineFields(t, d, id, map[string]any{k: v})
}

// editLineFields changes several fields of line id on d at once, the
// way the edit form sends every field as shown with the changed ones.
func editLineFields(t *testing.T, d *device, id string, set map[string]any) {
	t.Helper()
	cur, err := d.st.SiteRow(context.Background(), protocol.TableLines, id)
	if err != nil {
		t.Fatal(err)
	}
	f := map[string]any{}
	for k, v := range cur.Fields {
		f[k] = v
	}
	delete(f, "created_at")
	delete(f, "updated_at")
	delete(f, "server_updated_at")
	for k, v := range set {
		f[k] = v
	}
	putLine(t, d, f)
}
