package app

import (
	"context"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

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

func lineConfig(c store.LineConfig, err error) (LineConfig, error) {
	if err != nil {
		return LineConfig{}, mapErr(err)
	}
	return fromLineConfig(c), nil
}

func (a *storeAdapter) ListLineConfigs(ctx context.Context) ([]LineConfig, error) {
	l, err := a.st.ListLineConfigs(ctx, store.LineConfigFilter{})
	if err != nil {
		return nil, mapErr(err)
	}
	var pending []string
	for _, c := range l {
		if c.Pending() {
			pending = append(pending, c.ID)
		}
	}
	states := a.reviewStates(ctx, protocol.TableLineConfigs, pending)
	out := make([]LineConfig, len(l))
	for i, c := range l {
		out[i] = fromLineConfig(c)
		out[i].SyncState = states[c.ID]
	}
	return out, nil
}

func (a *storeAdapter) GetLineConfig(ctx context.Context, id string) (LineConfig, error) {
	return lineConfig(a.st.GetLineConfig(ctx, id))
}

func (a *storeAdapter) CreateLineConfig(ctx context.Context, in LineConfigInput) (LineConfig, error) {
	return lineConfig(a.st.CreateLineConfig(ctx, toLineConfigInput(in)))
}

func (a *storeAdapter) UpdateLineConfig(ctx context.Context, id string, in LineConfigInput) (LineConfig, error) {
	return lineConfig(a.st.UpdateLineConfig(ctx, id, toLineConfigInput(in)))
}

func (a *storeAdapter) DeleteLineConfig(ctx context.Context, id string) error {
	_, err := a.st.DeleteLineConfig(ctx, id)
	return mapErr(err)
}
