package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// RecordService is bound into the WebView: production records.
type RecordService struct{ core *Core }

// NewRecordService returns the records service over core.
func NewRecordService(core *Core) *RecordService { return &RecordService{core: core} }

var sortKeys = map[string]bool{
	SortUpdatedAt: true, SortCreatedAt: true, SortLine: true,
	SortProduct: true, SortOperator: true, SortQuantity: true,
}

// List returns one page of records matching f. Soft-deleted records are left
// out. An empty sort means newest change first.
func (s *RecordService) List(f RecordFilter) (RecordPage, error) {
	f.LineID = strings.TrimSpace(f.LineID)
	f.ProductID = strings.TrimSpace(f.ProductID)
	f.OperatorID = strings.TrimSpace(f.OperatorID)
	if f.Sort == "" {
		f.Sort, f.Desc = SortUpdatedAt, true
	}
	if !sortKeys[f.Sort] {
		return RecordPage{}, fieldError(CodeInvalidInput, "sort", "The list cannot be sorted by %q.", f.Sort).With("rule", "sort")
	}
	if f.From < 0 || f.To < 0 || (f.To != 0 && f.To <= f.From) {
		return RecordPage{}, fieldError(CodeInvalidInput, "to", "The end date must be after the start date.").With("rule", "end_before_start")
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	switch {
	case f.Limit <= 0:
		f.Limit = defaultLimit
	case f.Limit > maxRecordLimit:
		f.Limit = maxRecordLimit
	}
	return call(s.core, func(ctx context.Context, db *localDB) (RecordPage, error) {
		p, err := listRecords(ctx, db, f)
		if p.Records == nil {
			p.Records = []Record{}
		}
		return p, err
	})
}

// Get returns one record, deleted or not.
func (s *RecordService) Get(id string) (Record, error) {
	return call(s.core, func(ctx context.Context, db *localDB) (Record, error) {
		r, err := db.GetRecord(ctx, id)
		return recordView(ctx, db, r, err)
	})
}

// Create stores a new record; text fields are trimmed (a scanner may add a
// trailing newline or space).
func (s *RecordService) Create(in RecordInput) (Record, error) {
	in = in.trimmed()
	return writeCall(s.core, func(ctx context.Context, db *localDB, a actor) (Record, error) {
		r, err := db.CreateRecord(ctx, toRecordInput(in.byOperator(a)))
		return recordView(ctx, db, r, err)
	})
}

// Update replaces the people's fields of record id.
func (s *RecordService) Update(id string, in RecordInput) (Record, error) {
	in = in.trimmed()
	return writeCall(s.core, func(ctx context.Context, db *localDB, a actor) (Record, error) {
		r, err := db.UpdateRecord(ctx, id, toRecordInput(in.byOperator(a)))
		return recordView(ctx, db, r, err)
	})
}

// Delete soft-deletes record id (a tombstone that syncs); Restore undoes it.
func (s *RecordService) Delete(id string) (Record, error) {
	return s.change(id, (*localDB).DeleteRecord)
}

// Restore undoes a soft delete of record id.
func (s *RecordService) Restore(id string) (Record, error) {
	return s.change(id, (*localDB).RestoreRecord)
}

// change runs op (delete or restore) on record id for whoever may write.
func (s *RecordService) change(id string, op func(*localDB, context.Context, string) (store.Record, error)) (Record, error) {
	return writeCall(s.core, func(ctx context.Context, db *localDB, _ actor) (Record, error) {
		r, err := op(db, ctx, id)
		return recordView(ctx, db, r, err)
	})
}

// writeCall is call for a write: fn runs once signedIn lets it, with who
// acts.
func writeCall[T any](c *Core, fn func(ctx context.Context, db *localDB, a actor) (T, error)) (T, error) {
	return call(c, func(ctx context.Context, db *localDB) (T, error) {
		a, err := c.signedIn(ctx, db)
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(ctx, db, a)
	})
}

// writerReader reads who may write on this terminal now.
type writerReader interface {
	peopleReader
	enrollmentReader
}

// signedIn returns who acts; when the site requires sign-in and nobody is
// signed in, it refuses with sign_in_required.
func (c *Core) signedIn(ctx context.Context, st writerReader) (actor, error) {
	if c.sess == nil {
		return actor{}, nil
	}
	a, err := actorOf(ctx, c.sess, st)
	if err != nil {
		return a, err
	}
	if a.required && a.person == nil {
		return a, errSignInRequired
	}
	if !a.required {
		if err := c.siteReached(ctx, st); err != nil {
			return a, err
		}
	}
	return a, nil
}

// enrollmentReader reads whether this terminal has ever received its
// site's data.
type enrollmentReader interface {
	DeviceID(ctx context.Context) (string, error)
	CountLive(ctx context.Context, table string) (int, error)
}

// errNoSiteData refuses a write on a terminal that has never received the
// site's people and products: nobody could be checked, nor any code.
var errNoSiteData = &Error{Code: CodeNoSiteData, Message: "This computer has not received your site's people and products yet, so it cannot record: connect it to the sync server once (Sync screen, Alt+4) with the address and code from IT."}

// siteReached refuses with errNoSiteData unless the site's lists are the
// judge: this terminal is enrolled (its site's lists, even empty ones, come
// from the server), or lines, products or people pulled before are still
// on it (after a disconnect). A terminal only ever used offline has none.
func (c *Core) siteReached(ctx context.Context, st enrollmentReader) error {
	if c.sess.sync.deviceRole() != "" {
		return nil
	}
	// The store keeps the enrollment too, before sync has read the keychain.
	if id, err := st.DeviceID(ctx); err != nil {
		return fmt.Errorf("read the enrollment: %w", err)
	} else if id != "" {
		return nil
	}
	for _, table := range []string{protocol.TableLines, protocol.TableProducts, protocol.TablePeople} {
		n, err := st.CountLive(ctx, table)
		if err != nil {
			return fmt.Errorf("look for the site's data: %w", err)
		}
		if n > 0 {
			return nil
		}
	}
	return errNoSiteData
}

// byOperator sets a record's operator to the signed-in person when the
// site requires sign-in (what was typed is ignored); otherwise the typed
// operator stays, as before the site had people.
func (in RecordInput) byOperator(a actor) RecordInput {
	if a.required {
		in.OperatorID = a.person.BadgeID
	}
	return in
}

func (in RecordInput) trimmed() RecordInput {
	in.LineID = strings.TrimSpace(in.LineID)
	in.ProductID = strings.TrimSpace(in.ProductID)
	in.OperatorID = strings.TrimSpace(in.OperatorID)
	return in
}

// LineConfigService is bound into the WebView: line configurations.
type LineConfigService struct{ core *Core }

// NewLineConfigService returns the line configuration service over core.
func NewLineConfigService(core *Core) *LineConfigService { return &LineConfigService{core: core} }

// List returns every line configuration that is not deleted, by line.
func (s *LineConfigService) List() ([]LineConfig, error) {
	return call(s.core, func(ctx context.Context, db *localDB) ([]LineConfig, error) {
		l, err := listLineConfigs(ctx, db)
		if l == nil {
			l = []LineConfig{}
		}
		return l, err
	})
}

// Get returns one line configuration.
func (s *LineConfigService) Get(id string) (LineConfig, error) {
	return call(s.core, func(ctx context.Context, db *localDB) (LineConfig, error) {
		return lineConfigView(db.GetLineConfig(ctx, id))
	})
}

// Create stores a new line configuration.
func (s *LineConfigService) Create(in LineConfigInput) (LineConfig, error) {
	in = in.trimmed()
	return writeCall(s.core, func(ctx context.Context, db *localDB, a actor) (LineConfig, error) {
		in.updatedBy = a.badge()
		return lineConfigView(db.CreateLineConfig(ctx, toLineConfigInput(in)))
	})
}

// Update replaces the fields of line configuration id.
func (s *LineConfigService) Update(id string, in LineConfigInput) (LineConfig, error) {
	in = in.trimmed()
	return writeCall(s.core, func(ctx context.Context, db *localDB, a actor) (LineConfig, error) {
		in.updatedBy = a.badge()
		return lineConfigView(db.UpdateLineConfig(ctx, id, toLineConfigInput(in)))
	})
}

// Delete soft-deletes line configuration id.
func (s *LineConfigService) Delete(id string) error {
	_, err := writeCall(s.core, func(ctx context.Context, db *localDB, _ actor) (struct{}, error) {
		_, err := db.DeleteLineConfig(ctx, id)
		return struct{}{}, mapErr(err)
	})
	return err
}

func (in LineConfigInput) trimmed() LineConfigInput {
	in.LineID = strings.TrimSpace(in.LineID)
	in.Recipe = strings.TrimSpace(in.Recipe)
	if in.Notes != nil && strings.TrimSpace(*in.Notes) == "" {
		in.Notes = nil
	}
	return in
}

// SyncOffline is the sync state until a sync server is configured.
const SyncOffline = "offline / no server configured"

// StatusService is bound into the WebView: what the status screen and the
// status bar show.
type StatusService struct{ core *Core }

// NewStatusService returns the status service over core.
func NewStatusService(core *Core) *StatusService { return &StatusService{core: core} }

// Get returns the app's status. It waits for the store to finish opening and
// never fails: an open failure is reported in Status.Failure.
func (s *StatusService) Get() (Status, error) {
	c := s.core
	st := Status{Version: c.version, Sync: SyncOffline}
	select {
	case <-c.ready:
	case <-c.ctx.Done():
		return st, &Error{Code: CodeStoreClosed, Message: "Outpost is shutting down."}
	}
	if c.failure != nil {
		f := *c.failure
		st.Failure = &f
		return st, nil
	}
	st.StoreOpen = true
	st.Encrypted = c.opened.Encrypted
	st.CipherVersion = c.opened.CipherVersion
	st.DBPath = c.opened.DBPath
	st.KeySource = c.opened.KeySource
	n, err := call(c, func(ctx context.Context, db *localDB) (Counts, error) { return counts(ctx, db) })
	if err != nil {
		return st, err
	}
	st.Counts = n
	return st, nil
}

// Version returns the app version stamped at build time.
func (s *StatusService) Version() string { return s.core.version }
