package contracttest

import (
	"testing"
	"time"
)

// Two server processes on one database: a write through one wakes the event
// streams of the other (no state lives only in a server's memory).
func TestTwoProcessesOneDatabase(t *testing.T) {
	t.Parallel()
	db := newDB()
	s1 := startServer(t, db, nil, "--listen", "127.0.0.1:0", "--db", db)
	s2 := startServer(t, db, nil, "--listen", "127.0.0.1:0", "--db", db)
	devs := s1.enroll(t, site(t), "operator", 2)
	listener, writer := devs[0], devs[1]
	writer.s = s2
	st := listener.events(t)
	time.Sleep(100 * time.Millisecond)
	id := newID()
	v := num(t, writer.mustPush(t, writer.upsert("production_records", id, 0, prodRow(id)))[0]["version"])
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, ok := st.next(t, time.Until(deadline))
		if !ok {
			t.Fatalf("no event on process 1 within 5 s of a write through process 2")
		}
		if c == v {
			break
		}
	}
	// The same batch through either process: one stored response.
	batch := map[string]any{"batch_id": newID(), "changes": []any{writer.upsert("production_records", newID(), 0, nil)}}
	r1 := writer.call(t, "POST", "/v1/push", batch)
	writer.s = s1
	r2 := writer.call(t, "POST", "/v1/push", batch)
	if r1.Status != 200 || string(r1.Raw) != string(r2.Raw) {
		t.Errorf("one batch through two processes:\n%v\n%v", r1, r2)
	}
}
