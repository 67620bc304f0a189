package app

import (
	"context"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// lineConfigReader reads line configurations as the screen lists them.
type lineConfigReader interface {
	reviewReader
	ListLineConfigs(ctx context.Context, f store.LineConfigFilter) ([]store.LineConfig, error)
}

func fromLineConfig(c store.LineConfig) LineConfig {
	return LineConfig{
		ID: c.ID, LineID: c.LineID, Recipe: c.Recipe,
		TargetRatePerHour: c.TargetRatePerHour, TemperatureC: c.TemperatureC, SpeedRPM: c.SpeedRPM, Notes: c.Notes,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Pending: c.Pending(),
	}
}

func toLineConfigInput(in LineConfigInput) store.LineConfigInput {
	out := store.LineConfigInput{
		LineID: in.LineID, Recipe: in.Recipe,
		TargetRatePerHour: in.TargetRatePerHour, TemperatureC: in.TemperatureC, SpeedRPM: in.SpeedRPM, Notes: in.Notes,
	}
	if in.updatedBy != "" {
		by := in.updatedBy
		out.UpdatedBy = &by
	}
	return out
}

// lineConfigView is the configuration the screen gets from a store call's
// result.
func lineConfigView(c store.LineConfig, err error) (LineConfig, error) {
	if err != nil {
		return LineConfig{}, mapErr(err)
	}
	return fromLineConfig(c), nil
}

// listLineConfigs is every line configuration that is not deleted, as the
// list shows it.
func listLineConfigs(ctx context.Context, st lineConfigReader) ([]LineConfig, error) {
	l, err := st.ListLineConfigs(ctx, store.LineConfigFilter{})
	if err != nil {
		return nil, mapErr(err)
	}
	var pending []string
	for _, c := range l {
		if c.Pending() {
			pending = append(pending, c.ID)
		}
	}
	states := reviewStates(ctx, st, protocol.TableLineConfigs, pending)
	out := make([]LineConfig, len(l))
	for i, c := range l {
		out[i] = fromLineConfig(c)
		out[i].SyncState = states[c.ID]
	}
	return out, nil
}
