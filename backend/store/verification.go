package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/outpost-app/outpost/backend/syncstate"
)

// metaVerified keeps the last verification (docs/design.md section 8) as JSON.
const metaVerified = "sync_verified"

// Verification is the last time the device proved it held the server's
// state (syncstate.Verification).
type Verification = syncstate.Verification

// LastVerification returns the last verification saved, the zero value
// before the first.
func (s *Store) LastVerification(ctx context.Context) (Verification, error) {
	var v Verification
	release, err := s.acquire()
	if err != nil {
		return v, fmt.Errorf("last verification: %w", err)
	}
	defer release()
	raw, err := s.metaGet(ctx, s.r, metaVerified)
	if err != nil || raw == "" {
		return v, err
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return Verification{}, fmt.Errorf("last verification: %w", err)
	}
	return v, nil
}

// SaveVerification records v as the last verification.
func (s *Store) SaveVerification(ctx context.Context, v Verification) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("save verification: %w", err)
	}
	err = s.write(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(ctx, upsertMeta, metaVerified, string(b))
		return err
	})
	if err != nil {
		return fmt.Errorf("save verification: %w", err)
	}
	return nil
}
