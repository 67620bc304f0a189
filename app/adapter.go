package app

import (
	"context"
	"errors"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// storeAdapter is the Store of the bound services over backend/store: it
// converts between the UI's types and the store's and names the errors a
// person can act on.
type storeAdapter struct {
	st *store.Store
	// release, when set, runs after the store closes (the data directory's
	// lock, see lockDataDir).
	release func()
}

var _ Store = (*storeAdapter)(nil)

// ErrDeleted is returned for an edit of a deleted row.
var ErrDeleted = &Error{Code: "deleted", Message: "This item was deleted. Undo the delete before editing it."}

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrDeleted):
		return ErrDeleted
	case errors.Is(err, store.ErrClosed):
		return &Error{Code: CodeStoreClosed, Message: "The local database is closed. Start Outpost again."}
	}
	if _, ok := protocol.AsValidation(err); ok {
		return err // FormatError puts it next to its field
	}
	return err
}

func fromRecord(r store.Record) Record {
	return Record{
		ID: r.ID, LineID: r.LineID, ProductID: r.ProductID, Quantity: r.Quantity, OperatorID: r.OperatorID,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DeletedAt: r.DeletedAt, Pending: r.Pending(),
	}
}

func toRecordInput(in RecordInput) store.RecordInput {
	return store.RecordInput{LineID: in.LineID, ProductID: in.ProductID, Quantity: in.Quantity, OperatorID: in.OperatorID}
}

func (a *storeAdapter) record(ctx context.Context, r store.Record, err error) (Record, error) {
	if err != nil {
		return Record{}, mapErr(err)
	}
	out := fromRecord(r)
	out.OperatorName = a.personName(ctx, r.OperatorID)
	return out, nil
}

// personName is the display name of badge, "" when no person has it.
func (a *storeAdapter) personName(ctx context.Context, badge string) string {
	p, err := a.st.PersonByBadge(ctx, badge)
	if err != nil {
		return ""
	}
	return p.Text("display_name")
}

func (a *storeAdapter) ListRecords(ctx context.Context, f RecordFilter) (RecordPage, error) {
	p, err := a.st.ListRecords(ctx, store.RecordFilter{
		LineID: f.LineID, ProductID: f.ProductID, OperatorID: f.OperatorID,
		From: f.From, To: f.To, Sort: f.Sort, Desc: f.Desc, Offset: f.Offset, Limit: f.Limit,
	})
	if err != nil {
		return RecordPage{}, mapErr(err)
	}
	names := map[string]string{}
	if len(p.Records) > 0 {
		// One read for the page, not one per row.
		if names, err = a.st.PeopleNames(ctx); err != nil {
			return RecordPage{}, mapErr(err)
		}
	}
	var pending []string
	for _, r := range p.Records {
		if r.Pending() {
			pending = append(pending, r.ID)
		}
	}
	states := a.reviewStates(ctx, protocol.TableProductionRecords, pending)
	out := RecordPage{Records: make([]Record, len(p.Records)), Total: int(p.Total), Offset: f.Offset}
	for i, r := range p.Records {
		out.Records[i] = fromRecord(r)
		out.Records[i].OperatorName = names[r.OperatorID]
		out.Records[i].SyncState = states[r.ID]
	}
	return out, nil
}

// reviewStates is the SyncState of a list's pending rows: only rows not
// yet accepted can await review or be rejected, so clean rows are not
// asked about, and the rest in one query per page, not one per row (a
// terminal offline for a shift lists hundreds of pending rows). Rows
// missing from the map have no SyncState.
func (a *storeAdapter) reviewStates(ctx context.Context, table string, pending []string) map[string]string {
	out := map[string]string{}
	if len(pending) == 0 {
		return out
	}
	states, err := a.st.RowStates(ctx, table, pending)
	if err != nil {
		return out
	}
	for id, st := range states {
		switch st {
		case store.StateAwaitingReview, store.StateRejected:
			out[id] = st
		}
	}
	return out
}

func (a *storeAdapter) GetRecord(ctx context.Context, id string) (Record, error) {
	r, err := a.st.GetRecord(ctx, id)
	return a.record(ctx, r, err)
}

func (a *storeAdapter) CreateRecord(ctx context.Context, in RecordInput) (Record, error) {
	r, err := a.st.CreateRecord(ctx, toRecordInput(in))
	return a.record(ctx, r, err)
}

func (a *storeAdapter) UpdateRecord(ctx context.Context, id string, in RecordInput) (Record, error) {
	r, err := a.st.UpdateRecord(ctx, id, toRecordInput(in))
	return a.record(ctx, r, err)
}

func (a *storeAdapter) DeleteRecord(ctx context.Context, id string) (Record, error) {
	r, err := a.st.DeleteRecord(ctx, id)
	return a.record(ctx, r, err)
}

func (a *storeAdapter) RestoreRecord(ctx context.Context, id string) (Record, error) {
	r, err := a.st.RestoreRecord(ctx, id)
	return a.record(ctx, r, err)
}

func (a *storeAdapter) Counts(ctx context.Context) (Counts, error) {
	info, err := a.st.Info(ctx)
	if err != nil {
		return Counts{}, mapErr(err)
	}
	var c Counts
	for _, t := range info.Tables {
		switch t.Table {
		case protocol.TableProductionRecords:
			c.Records, c.DeletedRecords = int(t.Live), int(t.Deleted)
		case protocol.TableLineConfigs:
			c.LineConfigs = int(t.Live)
		}
	}
	c.Pending = int(info.Pending)
	return c, nil
}

// Close closes the store, then releases the data directory.
func (a *storeAdapter) Close() error {
	err := a.st.Close()
	if a.release != nil {
		a.release()
	}
	return err
}
