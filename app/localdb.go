package app

import (
	"context"

	"github.com/outpost-app/outpost/backend/store"
)

// localDB is the open local database, the one way every service reaches
// it (through Core's call, the sync service and the sign-in directory).
// It is the store, plus two things the store cannot know: the data
// directory's lock to release when it closes, and the sync client to tell
// after every write people make to a table that syncs, so the write
// reaches the server shortly after (debounced by the client).
//
// Those writes are the store's Create, Update, Delete, Restore and Put
// methods, overridden below; every other method is the store's own. A
// store write of that kind without an override here fails
// TestLocalDB_WritesNotifySync.
type localDB struct {
	*store.Store
	// release, when set, runs after the store closes (see lockDataDir).
	release func()
	// wrote, when set (SyncService.Wrap, before Core hands the database
	// out), is told about each successful write that syncs.
	wrote func()
}

// Close closes the store, then releases the data directory.
func (db *localDB) Close() error {
	err := db.Store.Close()
	if db.release != nil {
		db.release()
	}
	return err
}

// synced returns a write's results once it has told sync about the write
// when it succeeded: synced(db.Store.X(…))(db).
func synced[T any](v T, err error) func(db *localDB) (T, error) {
	return func(db *localDB) (T, error) {
		if err == nil && db.wrote != nil {
			db.wrote()
		}
		return v, err
	}
}

// CreateRecord stores a production record someone entered.
func (db *localDB) CreateRecord(ctx context.Context, in store.RecordInput) (store.Record, error) {
	return synced(db.Store.CreateRecord(ctx, in))(db)
}

// CreateRecords stores several records in one transaction.
func (db *localDB) CreateRecords(ctx context.Context, ins []store.RecordInput) ([]store.Record, error) {
	return synced(db.Store.CreateRecords(ctx, ins))(db)
}

// UpdateRecord replaces a record's people's fields.
func (db *localDB) UpdateRecord(ctx context.Context, id string, in store.RecordInput) (store.Record, error) {
	return synced(db.Store.UpdateRecord(ctx, id, in))(db)
}

// DeleteRecord soft-deletes a record: the tombstone syncs too.
func (db *localDB) DeleteRecord(ctx context.Context, id string) (store.Record, error) {
	return synced(db.Store.DeleteRecord(ctx, id))(db)
}

// RestoreRecord undoes a record's delete.
func (db *localDB) RestoreRecord(ctx context.Context, id string) (store.Record, error) {
	return synced(db.Store.RestoreRecord(ctx, id))(db)
}

// CreateLineConfig stores a new line configuration.
func (db *localDB) CreateLineConfig(ctx context.Context, in store.LineConfigInput) (store.LineConfig, error) {
	return synced(db.Store.CreateLineConfig(ctx, in))(db)
}

// UpdateLineConfig replaces a line configuration's fields.
func (db *localDB) UpdateLineConfig(ctx context.Context, id string, in store.LineConfigInput) (store.LineConfig, error) {
	return synced(db.Store.UpdateLineConfig(ctx, id, in))(db)
}

// DeleteLineConfig soft-deletes a line configuration.
func (db *localDB) DeleteLineConfig(ctx context.Context, id string) (store.LineConfig, error) {
	return synced(db.Store.DeleteLineConfig(ctx, id))(db)
}

// RestoreLineConfig undoes a line configuration's delete.
func (db *localDB) RestoreLineConfig(ctx context.Context, id string) (store.LineConfig, error) {
	return synced(db.Store.RestoreLineConfig(ctx, id))(db)
}

// PutSiteRow writes a line, product, person or the settings: site data
// is changed on a manager's computer, and the server refuses it from others.
func (db *localDB) PutSiteRow(ctx context.Context, table string, fields map[string]any) (store.SiteRow, error) {
	return synced(db.Store.PutSiteRow(ctx, table, fields))(db)
}
