package migrate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// fakeDB records what Run does to it; its transaction is a copy of it,
// kept only when the transaction commits.
type fakeDB struct {
	version  int
	ran      []string
	recorded []string
	failOn   string
	commits  int
}

func (db *fakeDB) dialect() Dialect[*fakeDB] {
	return Dialect[*fakeDB]{
		InTx: func(_ context.Context, fn func(*fakeDB) error) error {
			tx := *db
			tx.ran, tx.recorded = slices.Clone(db.ran), slices.Clone(db.recorded)
			if err := fn(&tx); err != nil {
				return err
			}
			*db = tx
			db.commits++
			return nil
		},
		Version: func(_ context.Context, tx *fakeDB) (int, error) { return tx.version, nil },
		Exec: func(_ context.Context, tx *fakeDB, sql string) error {
			if sql == tx.failOn {
				return errors.New("syntax error")
			}
			tx.ran = append(tx.ran, sql)
			return nil
		},
		Record: func(_ context.Context, tx *fakeDB, version int, name string) error {
			tx.version = version
			tx.recorded = append(tx.recorded, name)
			return nil
		},
		After: map[int]func(context.Context, *fakeDB) error{2: func(_ context.Context, tx *fakeDB) error {
			tx.ran = append(tx.ran, "after 2")
			return nil
		}},
	}
}

var files = fstest.MapFS{
	"m/0002_two.sql":   {Data: []byte("two")},
	"m/0001_one.sql":   {Data: []byte("one")},
	"m/0003_three.sql": {Data: []byte("three")},
	"m/README":         {Data: []byte("not a migration")},
}

var errOwn = errors.New("update the app")

func TestRun(t *testing.T) {
	all := []string{"0001_one.sql", "0002_two.sql", "0003_three.sql"}
	for _, tc := range []struct {
		name   string
		db     fakeDB
		tooNew error
		want   fakeDB // the database after Run (commits not compared)
		err    string // a part of Run's error; "" for none
		is     error  // what Run's error wraps
	}{{
		name: "a fresh database gets every migration, in order, and the work after 2",
		db:   fakeDB{},
		want: fakeDB{version: 3, ran: []string{"one", "two", "after 2", "three"}, recorded: all},
	}, {
		name: "a partly migrated database gets what it lacks",
		db:   fakeDB{version: 1, ran: []string{"one"}, recorded: all[:1]},
		want: fakeDB{version: 3, ran: []string{"one", "two", "after 2", "three"}, recorded: all},
	}, {
		name: "a database at the latest version is left alone",
		db:   fakeDB{version: 3, ran: []string{"x"}, recorded: all},
		want: fakeDB{version: 3, ran: []string{"x"}, recorded: all},
	}, {
		name: "a failing migration leaves the database as it was",
		db:   fakeDB{version: 1, ran: []string{"one"}, recorded: all[:1], failOn: "three"},
		want: fakeDB{version: 1, ran: []string{"one"}, recorded: all[:1], failOn: "three"},
		err:  "apply migration 0003_three.sql: syntax error",
	}, {
		name: "a newer database is refused and left alone",
		db:   fakeDB{version: 4},
		want: fakeDB{version: 4},
		err:  "the database schema is newer than this build's (database at version 4, this build's 3)",
		is:   ErrTooNew,
	}, {
		name:   "a newer database is refused with the dialect's own error",
		db:     fakeDB{version: 5},
		tooNew: errOwn,
		want:   fakeDB{version: 5},
		err:    "update the app (database at version 5, this build's 3)",
		is:     errOwn,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.db
			d := db.dialect()
			d.TooNew = tc.tooNew
			n, err := Run(context.Background(), files, "m", d)
			if n != 3 {
				t.Errorf("Run knows %d migrations, want 3", n)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Run = %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Run = %v, want an error with %q", err, tc.err)
			case tc.is != nil && !errors.Is(err, tc.is):
				t.Fatalf("Run = %v, want one wrapping %v", err, tc.is)
			}
			db.commits = 0
			if db.version != tc.want.version || !slices.Equal(db.ran, tc.want.ran) || !slices.Equal(db.recorded, tc.want.recorded) {
				t.Fatalf("after Run: %+v, want %+v", db, tc.want)
			}
		})
	}

	t.Run("a second Run finds nothing to do", func(t *testing.T) {
		db := &fakeDB{}
		for range 2 {
			if _, err := Run(context.Background(), files, "m", db.dialect()); err != nil {
				t.Fatal(err)
			}
		}
		if len(db.ran) != 4 || db.version != 3 || db.commits != 2 {
			t.Fatalf("after two Runs: %+v", db)
		}
	})
}

func TestLoad(t *testing.T) {
	ms, err := Load(files, "m")
	if err != nil {
		t.Fatal(err)
	}
	want := []Migration{{1, "0001_one.sql", "one"}, {2, "0002_two.sql", "two"}, {3, "0003_three.sql", "three"}}
	if !slices.Equal(ms, want) {
		t.Fatalf("Load = %+v, want %+v", ms, want)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"0003_three.sql": {"m/0001_one.sql": {Data: []byte("one")}, "m/0003_three.sql": {Data: []byte("three")}},
		"two.sql":        {"m/0001_one.sql": {Data: []byte("one")}, "m/two.sql": {Data: []byte("two")}},
		"0001one.sql":    {"m/0001one.sql": {Data: []byte("one")}},
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			if _, err := Load(fsys, "m"); err == nil || !strings.Contains(err.Error(), name+" is out of sequence") {
				t.Fatalf("Load = %v", err)
			}
			// Run refuses it before the database is touched.
			db := &fakeDB{}
			if _, err := Run(context.Background(), fsys, "m", db.dialect()); err == nil || db.commits != 0 || len(db.ran) != 0 {
				t.Fatalf("Run = %v, database %+v", err, db)
			}
		})
	}
}
