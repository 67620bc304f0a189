package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestServer_NoGap runs concurrent pushers and a puller and checks that the
// puller, following cursors, sees every acknowledged change: sequence numbers
// are assigned in commit order, so a cursor never passes a change that
// commits later.
func TestServer_NoGap(t *testing.T) {
	h := newHarness(t)
	const pushers, batches, perBatch = 8, 15, 20
	devs := make([]*device, pushers)
	for i := range devs {
		devs[i] = h.enroll("S", "operator")
	}
	reader := h.enroll("S", "operator")

	var mu sync.Mutex
	acked := map[string]int64{} // row id → version the push acknowledged
	seen := map[string]int64{}
	stop := make(chan struct{})
	pullErr := make(chan error, 1)
	var cursor int64
	pullOnce := func() error {
		res, err := rawPull(h, reader.Token, cursor)
		if err != nil {
			return err
		}
		last := cursor
		for _, c := range res.Changes {
			if c.Version <= last {
				return fmt.Errorf("versions out of order: %d after %d", c.Version, last)
			}
			last = c.Version
			seen[c.ID] = c.Version
		}
		cursor = res.Cursor
		return nil
	}
	go func() {
		defer close(pullErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := pullOnce(); err != nil {
				pullErr <- err
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Add(1)
		go func(d *device) {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				var cs []map[string]any
				for i := 0; i < perBatch; i++ {
					id := newID()
					cs = append(cs, change("production_records", id, "upsert", 0, d.hlc(0), record(id, nil)))
				}
				res := h.push(d, cs...)
				mu.Lock()
				for _, r := range res.results() {
					if r["status"] != "applied" {
						t.Errorf("push result %v", r)
					}
					acked[r["id"].(string)] = num(r["version"])
				}
				mu.Unlock()
			}
		}(d)
	}
	wg.Wait()
	close(stop)
	if err := <-pullErr; err != nil {
		t.Fatal(err)
	}
	// Catch up: everything committed is now behind the site's sequence.
	for {
		before := cursor
		if err := pullOnce(); err != nil {
			t.Fatal(err)
		}
		if cursor == before {
			break
		}
	}
	if len(acked) != pushers*batches*perBatch {
		t.Fatalf("%d acknowledged, want %d", len(acked), pushers*batches*perBatch)
	}
	for id, v := range acked {
		if seen[id] != v {
			t.Fatalf("puller missed acknowledged change %s (version %d; saw %d)", id, v, seen[id])
		}
	}
	if st, _ := h.st.SiteState(context.Background(), "S"); st.Seq != int64(len(acked)) || cursor != st.Seq {
		t.Fatalf("sequence %d, cursor %d, %d changes: gaps", st.Seq, cursor, len(acked))
	}
}

type pullAnswer struct {
	Changes []struct {
		ID      string `json:"id"`
		Version int64  `json:"version"`
	} `json:"changes"`
	Cursor int64 `json:"cursor"`
}

// rawPull pulls without the harness's t.Fatal (it runs off the test goroutine).
func rawPull(h *harness, token string, cursor int64) (pullAnswer, error) {
	var out pullAnswer
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/pull?cursor=%d&limit=50", h.ts.URL, cursor), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return out, fmt.Errorf("pull answered %d", resp.StatusCode)
	}
	return out, json.NewDecoder(resp.Body).Decode(&out)
}
