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

// synced tells sync about a write that succeeded, and returns err.
func (db *localDB) synced(err error) error {
	if err == nil && db.wrote != nil {
		db.wrote()
	}
	return err
}

func (db *localDB) CreateRecord(ctx context.Context, in store.RecordInput) (r store.Record, err error) {
	r, err = db.Store.CreateRecord(ctx, in)
	return r, db.synced(err)
}

func (db *localDB) CreateRecords(ctx context.Context, ins []store.RecordInput) (rs []store.Record, err error) {
	rs, err = db.Store.CreateRecords(ctx, ins)
	return rs, db.synced(err)
}

func (db *localDB) UpdateRecord(ctx context.Context, id string, in store.RecordInput) (r store.Record, err error) {
	r, err = db.Store.UpdateRecord(ctx, id, in)
	return r, db.synced(err)
}

func (db *localDB) DeleteRecord(ctx context.Context, id string) (r store.Record, err error) {
	r, err = db.Store.DeleteRecord(ctx, id)
	return r, db.synced(err)
}

func (db *localDB) RestoreRecord(ctx context.Context, id string) (r store.Record, err error) {
	r, err = db.Store.RestoreRecord(ctx, id)
	return r, db.synced(err)
}

func (db *localDB) CreateLineConfig(ctx context.Context, in store.LineConfigInput) (c store.LineConfig, err error) {
	c, err = db.Store.CreateLineConfig(ctx, in)
	return c, db.synced(err)
}

func (db *localDB) UpdateLineConfig(ctx context.Context, id string, in store.LineConfigInput) (c store.LineConfig, err error) {
	c, err = db.Store.UpdateLineConfig(ctx, id, in)
	return c, db.synced(err)
}

func (db *localDB) DeleteLineConfig(ctx context.Context, id string) (c store.LineConfig, err error) {
	c, err = db.Store.DeleteLineConfig(ctx, id)
	return c, db.synced(err)
}

func (db *localDB) RestoreLineConfig(ctx context.Context, id string) (c store.LineConfig, err error) {
	c, err = db.Store.RestoreLineConfig(ctx, id)
	return c, db.synced(err)
}

// PutSiteRow writes a line, product, person or the settings (a manager's
// computer).
func (db *localDB) PutSiteRow(ctx context.Context, table string, fields map[string]any) (r store.SiteRow, err error) {
	r, err = db.Store.PutSiteRow(ctx, table, fields)
	return r, db.synced(err)
}
