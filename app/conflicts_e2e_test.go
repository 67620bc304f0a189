package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/syncclient"
)

type device struct {
	sync      *SyncService
	conflicts *ConflictService
	lines     *LineConfigService
}

// cuttable is a transport whose network can be cut.
type cuttable struct{ down atomic.Bool }

func (c *cuttable) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.down.Load() {
		return nil, errors.New("network is down")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func newDevice(t *testing.T, url, code string, net ...*cuttable) device {
	t.Helper()
	dir := t.TempDir()
	o := SyncOptions{Tokens: &syncclient.MemoryTokens{}, ServerURL: url, Code: code}
	if len(net) > 0 {
		o.Transport = net[0]
	}
	svc := NewSyncService(o)
	ctx, cancel := context.WithCancel(context.Background())
	core := NewCore("test", svc.Wrap(OpenLocal(OpenOptions{DataDir: dir, KeyFile: filepath.Join(dir, "key")})))
	core.Start(ctx)
	t.Cleanup(func() { svc.Shutdown(); core.Shutdown(); cancel() })
	return device{sync: svc, conflicts: NewConflictService(svc), lines: NewLineConfigService(core)}
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func enrollCode(t *testing.T, db, role string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(serverBin, "enroll", "--db", db, "--site", "s1", "--role", role)
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	var code string
	for sc := bufio.NewScanner(&out); sc.Scan(); {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			code = l
		}
	}
	return code
}

// TestConflictService_ResolveAgainstServer: two manager devices change the
// same field of a line configuration; the conflict reaches both inboxes; one
// resolves it with a reason and both converge to the decision. A second
// conflict decided on a base the row has since moved past is refused (409
// stale_base): it stays open and the inbox shows the server's new state.
func TestConflictService_ResolveAgainstServer(t *testing.T) {
	url, codeA := startServer(t)
	db := lastServerDB
	aNet := &cuttable{}
	a := newDevice(t, url, codeA, aNet)
	b := newDevice(t, url, enrollCode(t, db, "manager"))
	for _, d := range []device{a, b} {
		eventually(t, "enrollment", func() bool { st, err := d.sync.Status(); return err == nil && st.Enrolled && st.Online })
	}
	temp := func(v float64) *float64 { return &v }
	lc, err := a.lines.Create(LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: temp(180)})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B to pull the line config", func() bool { _, err := b.lines.Get(lc.ID); return err == nil })

	conflictOn := func(ta, tb float64) Conflict {
		t.Helper()
		a.sync.Shutdown() // A edits offline so both edits start from the same version
		if _, err := a.lines.Update(lc.ID, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: temp(ta)}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.lines.Update(lc.ID, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: temp(tb)}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "B's edit on the server", func() bool { st, _ := b.sync.Status(); return st.Pending == 0 && st.InFlight == 0 })
		if _, err := a.sync.SyncNow(); err != nil {
			t.Fatal(err)
		}
		var open Conflict
		eventually(t, "the open conflict in A's inbox", func() bool {
			cs, _ := a.conflicts.List()
			for _, c := range cs {
				if c.Status == "open" && c.RowID == lc.ID {
					open = c
					return true
				}
			}
			return false
		})
		return open
	}
	temperature := func(d device) float64 {
		c, err := d.lines.Get(lc.ID)
		if err != nil || c.TemperatureC == nil {
			return -1
		}
		return *c.TemperatureC
	}

	syncState := func(d device) string {
		l, _ := d.lines.List()
		for _, c := range l {
			if c.ID == lc.ID {
				return c.SyncState
			}
		}
		return "missing"
	}

	// 1. Resolved with a reason; both devices converge to the decision.
	c1 := conflictOn(185, 190)
	// A's edit met the conflict: the operator sees it awaiting review.
	if st := syncState(a); st != "awaiting_review" {
		t.Fatalf("A's line config after the conflict: sync state %q", st)
	}
	if c1.Base == nil || c1.TheirsVersion == 0 {
		t.Fatalf("conflict without base or theirs version: %+v", c1)
	}
	chosen := map[string]any{}
	for k, v := range c1.Theirs.(map[string]any) {
		chosen[k] = v
	}
	chosen["temperature_c"] = 187.5
	if _, err := a.conflicts.Resolve(c1.ID, chosen, c1.TheirsVersion, " "); asError(t, err).Field != "reason" {
		t.Fatalf("a resolution without a reason: %v", err)
	}
	state, err := a.conflicts.Resolve(c1.ID, chosen, c1.TheirsVersion, "summer recipe")
	if err != nil || state != "sent" {
		t.Fatalf("resolve: %q, %v", state, err)
	}
	if _, err := a.sync.SyncNow(); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]device{"A": a, "B": b} {
		eventually(t, name+" to take the decision", func() bool {
			if temperature(d) != 187.5 {
				return false
			}
			cs, _ := d.conflicts.List()
			for _, c := range cs {
				if c.ID == c1.ID {
					return c.Status == "resolved" && c.Reason == "summer recipe"
				}
			}
			return false
		})
		if st := syncState(d); st != "" {
			t.Fatalf("%s's line config after the decision: sync state %q", name, st)
		}
	}

	// 2. Decided offline: kept on A, shown as queued, sent after the next
	// successful sync; both devices converge.
	c3 := conflictOn(150, 155)
	aNet.down.Store(true)
	chosen = map[string]any{}
	for k, v := range c3.Mine.(map[string]any) {
		chosen[k] = v
	}
	state, err = a.conflicts.Resolve(c3.ID, chosen, c3.TheirsVersion, "decided in the cold room")
	if err != nil || state != "queued" {
		t.Fatalf("resolve offline: %q, %v", state, err)
	}
	if cs, _ := a.conflicts.List(); !hasDecision(cs, c3.ID, "queued") {
		t.Fatal("the offline decision is not shown as queued")
	}
	aNet.down.Store(false)
	if _, err := a.sync.SyncNow(); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]device{"A": a, "B": b} {
		eventually(t, name+" to take the offline decision", func() bool {
			d.sync.SyncNow()
			return temperature(d) == 150
		})
	}

	// 3. The row moves on while A decides: 409 stale_base, still open, and
	// the inbox shows the server's new state.
	c2 := conflictOn(170, 175)
	if _, err := b.lines.Update(lc.ID, LineConfigInput{LineID: "L1", Recipe: "R2", TemperatureC: temp(176)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B's newer edit on the server", func() bool { st, _ := b.sync.Status(); return st.Pending == 0 && st.InFlight == 0 })
	chosen = map[string]any{}
	for k, v := range c2.Mine.(map[string]any) {
		chosen[k] = v
	}
	state, err = a.conflicts.Resolve(c2.ID, chosen, c2.TheirsVersion, "keep the device's value")
	if err != nil || state != "stale" {
		t.Fatalf("resolve on a stale base: %q, %v", state, err)
	}
	cs, err := a.conflicts.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.ID != c2.ID {
			continue
		}
		row, _ := c.StaleRow.(map[string]any)
		if c.Status != "open" || c.Decision != "stale" || row == nil || row["recipe"] != "R2" || c.StaleVersion <= c2.TheirsVersion {
			t.Fatalf("after 409 stale_base: %+v", c)
		}
		return
	}
	t.Fatal("the conflict left the inbox")
}

func hasDecision(cs []Conflict, id, decision string) bool {
	for _, c := range cs {
		if c.ID == id {
			return c.Decision == decision
		}
	}
	return false
}
