package main

import (
	"encoding/json"
	"testing"
)

// TestHub_NeverDropsAnEvent: a client that reads late still gets every
// event, in order, as the WebView does from Wails' runtime. The screens
// follow sync:status and data:changed without a poll, so the 64-event
// buffer the hub had (a slow client missed the rest) could leave a screen
// stale in the browser tests where the real window is not.
func TestHub_NeverDropsAnEvent(t *testing.T) {
	h := &hub{subs: map[*subscriber]struct{}{}}
	c := &subscriber{ready: make(chan struct{}, 1)}
	h.subs[c] = struct{}{}
	const n = 1000
	for i := 0; i < n; i++ {
		h.emit("sync:status", i)
	}
	<-c.ready
	got := c.take()
	if len(got) != n {
		t.Fatalf("the client got %d events of %d", len(got), n)
	}
	for i, b := range got {
		var ev struct {
			Name string `json:"name"`
			Data int    `json:"data"`
		}
		if err := json.Unmarshal(b, &ev); err != nil || ev.Name != "sync:status" || ev.Data != i {
			t.Fatalf("event %d is %s (%v), want sync:status %d", i, b, err, i)
		}
	}
	if len(c.take()) != 0 {
		t.Fatal("take did not empty the queue")
	}
}
