package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// LineConfig is one row of line_configs: the critical configuration of a
// production line (conflict policy manual).
type LineConfig struct {
	ID                string   `json:"id"`
	LineID            string   `json:"line_id"`
	Recipe            string   `json:"recipe"`
	TargetRatePerHour *int64   `json:"target_rate_per_hour"`
	TemperatureC      *float64 `json:"temperature_c"`
	SpeedRPM          *int64   `json:"speed_rpm"`
	Notes             *string  `json:"notes"`
	// UpdatedBy is the badge id of the person whose edit this state is
	// (nil before sign-in existed, or on a site without people).
	UpdatedBy       *string `json:"updated_by"`
	CreatedAt       int64   `json:"created_at"`
	UpdatedAt       int64   `json:"updated_at"`
	DeletedAt       *int64  `json:"deleted_at"`
	SyncedAt        *int64  `json:"synced_at"`
	ServerUpdatedAt *int64  `json:"server_updated_at"`
	Version         int64   `json:"version"`
	HLC             string  `json:"hlc"`
}

// Pending reports whether the last local change awaits the server.
func (c LineConfig) Pending() bool { return c.SyncedAt == nil }

// LineConfigInput holds the fields a person edits; nil leaves an optional
// field empty (NULL).
type LineConfigInput struct {
	LineID            string   `json:"line_id"`
	Recipe            string   `json:"recipe"`
	TargetRatePerHour *int64   `json:"target_rate_per_hour"`
	TemperatureC      *float64 `json:"temperature_c"`
	SpeedRPM          *int64   `json:"speed_rpm"`
	Notes             *string  `json:"notes"`
	// UpdatedBy is the signed-in person's badge id (nil: nobody signed in).
	// It is not a people's field: an edit that changes only it changes
	// nothing.
	UpdatedBy *string `json:"updated_by"`
}

// LineConfigFilter selects line configurations; the zero value lists every
// live one.
type LineConfigFilter struct {
	LineID         string `json:"line_id"`
	IncludeDeleted bool   `json:"include_deleted"`
}

const lineConfigCols = `id, line_id, recipe, target_rate_per_hour, temperature_c, speed_rpm, notes, updated_by,
	created_at, updated_at, deleted_at, synced_at, server_updated_at, version, hlc`

func scanLineConfig(sc scanner) (LineConfig, error) {
	var c LineConfig
	var rate, rpm, deleted, synced, server sql.Null[int64]
	var temp sql.Null[float64]
	var notes, by sql.Null[string]
	err := sc.Scan(&c.ID, &c.LineID, &c.Recipe, &rate, &temp, &rpm, &notes, &by,
		&c.CreatedAt, &c.UpdatedAt, &deleted, &synced, &server, &c.Version, &c.HLC)
	c.TargetRatePerHour, c.TemperatureC, c.SpeedRPM, c.Notes = ptr(rate), ptr(temp), ptr(rpm), ptr(notes)
	c.UpdatedBy = ptr(by)
	c.DeletedAt, c.SyncedAt, c.ServerUpdatedAt = ptr(deleted), ptr(synced), ptr(server)
	return c, err
}

func orNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func (s *Store) validateLineConfig(id string, in LineConfigInput, createdAt, updatedAt int64) error {
	_, err := s.configs.Validate(id, map[string]any{
		"line_id": in.LineID, "recipe": in.Recipe,
		"target_rate_per_hour": orNil(in.TargetRatePerHour), "temperature_c": orNil(in.TemperatureC),
		"speed_rpm": orNil(in.SpeedRPM), "notes": orNil(in.Notes), "updated_by": orNil(in.UpdatedBy),
		"created_at": createdAt, "updated_at": updatedAt,
	}, protocol.Complete)
	return err
}

const insertLineConfig = `INSERT INTO line_configs (id, line_id, recipe, target_rate_per_hour, temperature_c,
	speed_rpm, notes, updated_by, created_at, updated_at, deleted_at, synced_at, server_updated_at, version, hlc)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, 0, ?)`

// CreateLineConfig stores a new line configuration, pending sync. Invalid
// input returns a wrapped *protocol.ValidationError naming the field.
func (s *Store) CreateLineConfig(ctx context.Context, in LineConfigInput) (LineConfig, error) {
	var c LineConfig
	err := s.write(ctx, func(t *wtx) error {
		c = LineConfig{ID: uuid.NewString(), CreatedAt: t.now}
		if err := s.validateLineConfig(c.ID, in, t.now, t.now); err != nil {
			return err
		}
		setLineConfigInput(&c, in)
		c.UpdatedAt, c.HLC = t.now, t.stamp()
		_, err := t.exec(insertLineConfig, c.ID, c.LineID, c.Recipe, orNil(c.TargetRatePerHour), orNil(c.TemperatureC),
			orNil(c.SpeedRPM), orNil(c.Notes), orNil(c.UpdatedBy), c.CreatedAt, c.UpdatedAt, c.HLC)
		return err
	})
	if err != nil {
		return LineConfig{}, fmt.Errorf("create line config: %w", err)
	}
	return c, nil
}

func setLineConfigInput(c *LineConfig, in LineConfigInput) {
	c.LineID, c.Recipe = in.LineID, in.Recipe
	c.TargetRatePerHour, c.TemperatureC = clonePtr(in.TargetRatePerHour), clonePtr(in.TemperatureC)
	c.SpeedRPM, c.Notes = clonePtr(in.SpeedRPM), clonePtr(in.Notes)
	c.UpdatedBy = clonePtr(in.UpdatedBy)
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func eqPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

const getLineConfig = `SELECT ` + lineConfigCols + ` FROM line_configs WHERE id = ?`

// GetLineConfig returns the line configuration, deleted or not, or
// ErrNotFound.
func (s *Store) GetLineConfig(ctx context.Context, id string) (LineConfig, error) {
	if !protocol.ValidID(id) {
		return LineConfig{}, fmt.Errorf("get line config %q: %w", id, ErrNotFound)
	}
	var c LineConfig
	err := s.readRow(ctx, getLineConfig, []any{id}, func(row *sql.Row) error {
		var err error
		c, err = scanLineConfig(row)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return LineConfig{}, fmt.Errorf("get line config %s: %w", id, err)
	}
	return c, nil
}

func getLineConfigTx(t *wtx, id string) (LineConfig, error) {
	if !protocol.ValidID(id) {
		return LineConfig{}, ErrNotFound
	}
	c, err := scanLineConfig(t.queryRow(getLineConfig, id))
	if errors.Is(err, sql.ErrNoRows) {
		return LineConfig{}, ErrNotFound
	}
	return c, err
}

const updateLineConfig = `UPDATE line_configs SET line_id = ?, recipe = ?, target_rate_per_hour = ?,
	temperature_c = ?, speed_rpm = ?, notes = ?, updated_by = ?, updated_at = ?, deleted_at = ?, synced_at = NULL, hlc = ?
	WHERE id = ?`

func saveLineConfig(t *wtx, c *LineConfig) error {
	c.UpdatedAt, c.SyncedAt, c.HLC = t.now, nil, t.stamp()
	if _, err := t.exec(updateLineConfig, c.LineID, c.Recipe, orNil(c.TargetRatePerHour), orNil(c.TemperatureC),
		orNil(c.SpeedRPM), orNil(c.Notes), orNil(c.UpdatedBy), c.UpdatedAt, orNil(c.DeletedAt), c.HLC, c.ID); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

// editLineConfig saves c as a local edit; an edit of a row awaiting review
// starts from the conflict's server state (reedit.go), and c is read back.
func (s *Store) editLineConfig(t *wtx, c *LineConfig) error {
	re, err := beforeEdit(t, s.configs, c.ID)
	if err != nil {
		return err
	}
	own, err := beforeOwnEdit(t, s.configs, c.ID)
	if err != nil {
		return err
	}
	if err := saveLineConfig(t, c); err != nil {
		return err
	}
	if re == nil {
		return own.after(t)
	}
	if err := re.afterEdit(t); err != nil {
		return err
	}
	if err := own.after(t); err != nil {
		return err
	}
	*c, err = getLineConfigTx(t, c.ID)
	return err
}

// UpdateLineConfig replaces every field of line configuration id (nil clears
// an optional one). An edit that changes nothing returns the row as it is; a
// deleted row returns ErrDeleted.
func (s *Store) UpdateLineConfig(ctx context.Context, id string, in LineConfigInput) (LineConfig, error) {
	var c LineConfig
	err := s.write(ctx, func(t *wtx) error {
		var err error
		if c, err = getLineConfigTx(t, id); err != nil {
			return err
		}
		if c.DeletedAt != nil {
			return ErrDeleted
		}
		if err := s.validateLineConfig(id, in, c.CreatedAt, t.now); err != nil {
			return err
		}
		if c.LineID == in.LineID && c.Recipe == in.Recipe && eqPtr(c.TargetRatePerHour, in.TargetRatePerHour) &&
			eqPtr(c.TemperatureC, in.TemperatureC) && eqPtr(c.SpeedRPM, in.SpeedRPM) && eqPtr(c.Notes, in.Notes) {
			return nil
		}
		setLineConfigInput(&c, in)
		return s.editLineConfig(t, &c)
	})
	if err != nil {
		return LineConfig{}, fmt.Errorf("update line config %s: %w", id, err)
	}
	return c, nil
}

// DeleteLineConfig soft-deletes line configuration id (a tombstone that
// syncs). Deleting a deleted row changes nothing.
func (s *Store) DeleteLineConfig(ctx context.Context, id string) (LineConfig, error) {
	c, err := s.setLineConfigDeleted(ctx, id, true)
	if err != nil {
		return LineConfig{}, fmt.Errorf("delete line config %s: %w", id, err)
	}
	return c, nil
}

// RestoreLineConfig undoes a soft delete of line configuration id.
func (s *Store) RestoreLineConfig(ctx context.Context, id string) (LineConfig, error) {
	c, err := s.setLineConfigDeleted(ctx, id, false)
	if err != nil {
		return LineConfig{}, fmt.Errorf("restore line config %s: %w", id, err)
	}
	return c, nil
}

// setLineConfigDeleted sets (deleted) or clears the tombstone of line
// configuration id, as an edit that syncs; a row already so is left as it
// is.
func (s *Store) setLineConfigDeleted(ctx context.Context, id string, deleted bool) (c LineConfig, err error) {
	err = s.write(ctx, func(t *wtx) error {
		if c, err = getLineConfigTx(t, id); err != nil || (c.DeletedAt != nil) == deleted {
			return err
		}
		c.DeletedAt = nil
		if deleted {
			now := t.now
			c.DeletedAt = &now
		}
		return s.editLineConfig(t, &c)
	})
	return c, err
}

// ListLineConfigs returns the line configurations matching f, by line and
// then creation time. There are few of them: no paging.
func (s *Store) ListLineConfigs(ctx context.Context, f LineConfigFilter) ([]LineConfig, error) {
	q := "SELECT " + lineConfigCols + " FROM line_configs WHERE (? OR deleted_at IS NULL) AND (? = '' OR line_id = ?) ORDER BY line_id, created_at, rowid"
	out, err := readAll(ctx, s, q, []any{f.IncludeDeleted, f.LineID, f.LineID}, scanLineConfig)
	if err != nil {
		return nil, fmt.Errorf("list line configs: %w", err)
	}
	return out, nil
}
