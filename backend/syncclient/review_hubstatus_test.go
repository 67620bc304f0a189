package syncclient

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Review of 7958e64 (Status.Upstream, read from the server's /v1/health
// after a sync by readUpstream). What a site hub said of its link to
// headquarters belongs to that enrollment; the client keeps it, and the
// time of its last read (healthAt), across a change of enrollment.

// A terminal that syncs with headquarters itself, then is enrolled at a
// site hub (a terminal moved to a site): the first sync with the hub reads
// nothing of the hub's link, because headquarters' health was read less
// than a minute before and the status, having no upstream, does not say
// "hub". For up to a minute the terminal says nothing of a cut site.
func TestReview_ReenrolledAtAHub_FirstSyncReadsTheHubsLink(t *testing.T) {
	ctx := context.Background()
	central := startRealServer(t)
	hub := startRealServer(t, "--upstream", central.url(), "--upstream-code", central.enroll(protocol.RoleHub), "--upstream-every", "200ms")
	d := newDevice(t, central, "laptop", "operator")
	d.sync(t)
	if u := d.c.Status(ctx).Upstream; u != nil {
		t.Fatalf("with headquarters: upstream %+v, want none", u)
	}
	hubUp(t, hub, true)
	if _, err := d.c.Enroll(ctx, hub.url(), hub.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	d.sync(t)
	if u := d.c.Status(ctx).Upstream; u == nil {
		t.Fatal("the first sync with the site hub: the status says nothing of its link to headquarters (health not read: read from headquarters less than a minute before)")
	}
}

// A terminal of a site hub cut off from headquarters is enrolled at
// headquarters itself, or disconnected: what the hub said stays in the
// status (Upstream {up: false}) until a sync with the new server succeeds,
// forever when disconnected. The window reads it as "Headquarters cannot be
// reached from this site" (conflicts.svelte.ts headquartersDown does not
// look at the enrollment).
func TestReview_EnrollAndUnenroll_ForgetWhatTheHubSaid(t *testing.T) {
	ctx := context.Background()
	central := startRealServer(t)
	hub := startRealServer(t, "--upstream", central.url(), "--upstream-code", central.enroll(protocol.RoleHub), "--upstream-every", "200ms")
	codeAtHQ := central.enroll("operator")
	d := newDevice(t, hub, "deck", "operator")
	hubUp(t, hub, true)
	central.stop()
	hubUp(t, hub, false)
	d.sync(t)
	if u := d.c.Status(ctx).Upstream; u == nil || u.Up {
		t.Fatalf("cut off: upstream %+v, want down", u)
	}

	// Enrolled at headquarters (which answers the enrollment, the sync
	// not yet run).
	central.start()
	if _, err := d.c.Enroll(ctx, central.url(), codeAtHQ); err != nil {
		t.Fatal(err)
	}
	if u := d.c.Status(ctx).Upstream; u != nil {
		t.Errorf("enrolled at headquarters: the status still holds the former hub's link %+v", u)
	}

	// Disconnected while headquarters does not answer either (Unenroll's
	// last sync fails).
	central.stop()
	if err := d.c.Unenroll(ctx, true); err != nil {
		t.Fatal(err)
	}
	if s := d.c.Status(ctx); s.Upstream != nil {
		t.Errorf("disconnected: the status still holds a hub's link %+v", s.Upstream)
	}
}
