package app

import (
	"context"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// reviewReader reads the sync state of rows not yet accepted by the server.
type reviewReader interface {
	RowStates(ctx context.Context, table string, ids []string) (map[string]string, error)
}

// recordReader reads records as the screens show them: with the
// operator's name and, while pending, the review state.
type recordReader interface {
	reviewReader
	ListRecords(ctx context.Context, f store.RecordFilter) (store.RecordPage, error)
	PeopleNames(ctx context.Context) (map[string]string, error)
	PersonByBadge(ctx context.Context, badge string) (store.SiteRow, error)
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

// recordView is the record the screen gets from a store call's result.
func recordView(ctx context.Context, st recordReader, r store.Record, err error) (Record, error) {
	if err != nil {
		return Record{}, mapErr(err)
	}
	out := fromRecord(r)
	out.OperatorName = personName(ctx, st, r.OperatorID)
	return out, nil
}

// personName is the display name of badge, "" when no person has it.
func personName(ctx context.Context, st recordReader, badge string) string {
	p, err := st.PersonByBadge(ctx, badge)
	if err != nil {
		return ""
	}
	return p.Text("display_name")
}

// listRecords is one page of records as the list shows it.
func listRecords(ctx context.Context, st recordReader, f RecordFilter) (RecordPage, error) {
	p, err := st.ListRecords(ctx, store.RecordFilter{
		LineID: f.LineID, ProductID: f.ProductID, OperatorID: f.OperatorID,
		From: f.From, To: f.To, Sort: f.Sort, Desc: f.Desc, Offset: f.Offset, Limit: f.Limit,
	})
	if err != nil {
		return RecordPage{}, mapErr(err)
	}
	names := map[string]string{}
	if len(p.Records) > 0 {
		// One read for the page, not one per row.
		if names, err = st.PeopleNames(ctx); err != nil {
			return RecordPage{}, mapErr(err)
		}
	}
	var pending []string
	for _, r := range p.Records {
		if r.Pending() {
			pending = append(pending, r.ID)
		}
	}
	states := reviewStates(ctx, st, protocol.TableProductionRecords, pending)
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
func reviewStates(ctx context.Context, st reviewReader, table string, pending []string) map[string]string {
	out := map[string]string{}
	if len(pending) == 0 {
		return out
	}
	states, err := st.RowStates(ctx, table, pending)
	if err != nil {
		return out
	}
	for id, state := range states {
		switch state {
		case store.StateAwaitingReview, store.StateRejected:
			out[id] = state
		}
	}
	return out
}

// countsReader reads the status screen's counts.
type countsReader interface {
	Info(ctx context.Context) (store.Info, error)
}

// counts is what the status screen counts: live and deleted records, line
// configurations and pending rows.
func counts(ctx context.Context, st countsReader) (Counts, error) {
	info, err := st.Info(ctx)
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
