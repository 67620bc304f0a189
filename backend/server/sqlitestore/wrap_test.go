package sqlitestore

import (
	"database/sql"
	"errors"
	"fmt"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/outpost-app/outpost/backend/server"
)

// TestWrap: wrap marks what the server answers 503 with, maps no row to
// ErrNotFound, and leaves an error it marked already as it is (issue 18: a
// scan error is wrapped by scanRow and again by the loop), so a second wrap
// changes neither errors.Is nor the message.
func TestWrap(t *testing.T) {
	busy := sqlite3.Error{Code: sqlite3.ErrBusy}
	constraint := sqlite3.Error{Code: sqlite3.ErrConstraint}
	for name, tc := range map[string]struct {
		err         error
		unavailable bool
		notFound    bool
	}{
		"busy":             {err: busy, unavailable: true},
		"busy, in context": {err: fmt.Errorf("read page: %w", busy), unavailable: true},
		"closed":           {err: sql.ErrConnDone, unavailable: true},
		"no row":           {err: sql.ErrNoRows, notFound: true},
		"constraint":       {err: constraint},
		"not found":        {err: server.ErrNotFound, notFound: true},
	} {
		once := wrap(tc.err)
		if errors.Is(once, server.ErrUnavailable) != tc.unavailable || errors.Is(once, server.ErrNotFound) != tc.notFound {
			t.Errorf("%s: wrap = %v (unavailable %v, not found %v)", name, once, errors.Is(once, server.ErrUnavailable), errors.Is(once, server.ErrNotFound))
		}
		if twice := wrap(once); twice.Error() != once.Error() || errors.Is(twice, server.ErrUnavailable) != tc.unavailable || errors.Is(twice, server.ErrNotFound) != tc.notFound {
			t.Errorf("%s: wrap twice = %q, once %q", name, twice, once)
		}
	}
	if wrap(nil) != nil {
		t.Error("wrap(nil) != nil")
	}
}
