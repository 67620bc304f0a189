package migrate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// fakeDB records what Run does to it; its transaction is itself.
type fakeDB struct {
	version  int
	ran      []string
	recorded []string
	failOn   string
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

func TestRun(t *testing.T) {
	ctx := context.Background()
	files := fstest.MapFS{
		"m/0002_two.sql":   {Data: []byte("two")},
		"m/0001_one.sql":   {Data: []byte("one")},
		"m/0003_three.sql": {Data: []byte("three")},
		"m/README":         {Data: []byte("not a migration")},
	}

	t.Run("applies what the database lacks, in order, and records each", func(t *testing.T) {
		db := &fakeDB{version: 1, ran: []string{"one"}, recorded: []string{"0001_one.sql"}}
		n, err := Run(ctx, files, "m", db.dialect())
		if err != nil || n != 3 {
			t.Fatalf("Run = %d, %v", n, err)
		}
		if want := []string{"one", "two", "after 2", "three"}; !slices.Equal(db.ran, want) {
			t.Fatalf("ran %q, want %q", db.ran, want)
		}
		if want := []string{"0001_one.sql", "0002_two.sql", "0003_three.sql"}; !slices.Equal(db.recorded, want) || db.version != 3 {
			t.Fatalf("recorded %q at version %d", db.recorded, db.version)
		}
		if n, err := Run(ctx, files, "m", db.dialect()); err != nil || n != 3 || len(db.ran) != 4 {
			t.Fatalf("second Run = %d, %v, ran %q", n, err, db.ran)
		}
	})

	t.Run("a failing migration leaves the database as it was", func(t *testing.T) {
		db := &fakeDB{failOn: "three"}
		_, err := Run(ctx, files, "m", db.dialect())
		if err == nil || !strings.Contains(err.Error(), "apply migration m/0003_three.sql") {
			t.Fatalf("Run = %v", err)
		}
		if db.version != 0 || len(db.ran) != 0 || len(db.recorded) != 0 {
			t.Fatalf("after a failed Run: %+v", db)
		}
	})

	t.Run("a newer database is refused", func(t *testing.T) {
		db := &fakeDB{version: 4}
		_, err := Run(ctx, files, "m", db.dialect())
		if err == nil || !strings.Contains(err.Error(), "newer than this server's 3: upgrade the server") || len(db.ran) != 0 {
			t.Fatalf("Run = %v, ran %q", err, db.ran)
		}
	})

	t.Run("a gap in the numbers is refused before the database is touched", func(t *testing.T) {
		gap := fstest.MapFS{"m/0001_one.sql": {Data: []byte("one")}, "m/0003_three.sql": {Data: []byte("three")}}
		db := &fakeDB{}
		_, err := Run(ctx, gap, "m", db.dialect())
		if err == nil || !strings.Contains(err.Error(), "0003_three.sql is out of sequence") || len(db.ran) != 0 {
			t.Fatalf("Run = %v, ran %q", err, db.ran)
		}
	})
}
