package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Sign-in lockout (issue 10): failed PIN entries are counted per badge on
// this device, in the local-only table signin_attempts, so a lockout
// survives a restart. Nothing of it is synced, and no PIN is ever stored.

// Attempts is the failed sign-in state of one badge on this device.
type Attempts struct {
	// Failures counts the failed PINs since the last lockout (or success).
	Failures int `json:"failures"`
	// Locks counts the lockouts so far; each doubles the next one's length.
	Locks int `json:"locks"`
	// LockedUntil is the end of the current lockout (device-clock ms); 0 or
	// a past time = not locked.
	LockedUntil int64 `json:"locked_until"`
	// LastFailure is the time of the last failure (ms), 0 = none.
	LastFailure int64 `json:"last_failure"`
}

// Locked reports whether the badge is locked out at now (ms).
func (a Attempts) Locked(now int64) bool { return a.LockedUntil > now }

const maxBadgeLen = 128

func checkBadge(badge string) error {
	if badge == "" || utf8.RuneCountInString(badge) > maxBadgeLen {
		return &protocol.ValidationError{Code: protocol.CodeInvalidValue, Column: "badge_id",
			Message: fmt.Sprintf("a badge id is 1 to %d characters", maxBadgeLen),
			Params:  map[string]any{"field": "badge_id", "rule": "length", "min": 1, "max": maxBadgeLen}}
	}
	return nil
}

const selectAttempts = "SELECT failures, locks, locked_until, last_failure FROM signin_attempts WHERE badge_id = ?"

// SigninAttempts returns the failed sign-in state of badge (the zero value
// when it has none).
func (s *Store) SigninAttempts(ctx context.Context, badge string) (Attempts, error) {
	if err := checkBadge(badge); err != nil {
		return Attempts{}, fmt.Errorf("sign-in attempts: %w", err)
	}
	var a Attempts
	err := s.readRow(ctx, selectAttempts, []any{badge}, func(r *sql.Row) error {
		return r.Scan(&a.Failures, &a.Locks, &a.LockedUntil, &a.LastFailure)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Attempts{}, nil
	}
	if err != nil {
		return Attempts{}, fmt.Errorf("sign-in attempts: %w", err)
	}
	return a, nil
}

// RecordSigninFailure counts one failed PIN for badge at now (ms), in one
// transaction. When the failures reach maxFailures the badge is locked until
// now + baseLock·2^locks (capped at maxLock), locks goes up by one and the
// failures start again from 0. It returns the new state.
func (s *Store) RecordSigninFailure(ctx context.Context, badge string, now int64, maxFailures int, baseLock, maxLock time.Duration) (Attempts, error) {
	if err := checkBadge(badge); err != nil {
		return Attempts{}, fmt.Errorf("record sign-in failure: %w", err)
	}
	if maxFailures < 1 || baseLock <= 0 || maxLock < baseLock {
		return Attempts{}, fmt.Errorf("record sign-in failure: bad limits (%d failures, lock %v to %v)", maxFailures, baseLock, maxLock)
	}
	var a Attempts
	err := s.write(ctx, func(t *wtx) error {
		err := t.tx.QueryRowContext(ctx, selectAttempts, badge).Scan(&a.Failures, &a.Locks, &a.LockedUntil, &a.LastFailure)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		a.Failures++
		a.LastFailure = now
		if a.Failures >= maxFailures {
			lock := baseLock
			for i := 0; i < a.Locks && lock < maxLock; i++ {
				lock *= 2
			}
			lock = min(lock, maxLock)
			a.LockedUntil = now + lock.Milliseconds()
			a.Locks++
			a.Failures = 0
		}
		_, err = t.tx.ExecContext(ctx, upsertAttempts, badge, a.Failures, a.Locks, a.LockedUntil, a.LastFailure)
		return err
	})
	if err != nil {
		return Attempts{}, fmt.Errorf("record sign-in failure: %w", err)
	}
	return a, nil
}

// PutSigninAttempts replaces badge's state with a (computed by the caller,
// e.g. backend/signin's Fail); a zero a is kept as a row of zeros.
func (s *Store) PutSigninAttempts(ctx context.Context, badge string, a Attempts) error {
	if err := checkBadge(badge); err != nil {
		return fmt.Errorf("put sign-in attempts: %w", err)
	}
	err := s.write(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(ctx, upsertAttempts, badge, a.Failures, a.Locks, a.LockedUntil, a.LastFailure)
		return err
	})
	if err != nil {
		return fmt.Errorf("put sign-in attempts: %w", err)
	}
	return nil
}

const upsertAttempts = `INSERT INTO signin_attempts (badge_id, failures, locks, locked_until, last_failure)
	VALUES (?, ?, ?, ?, ?) ON CONFLICT(badge_id) DO UPDATE SET failures = excluded.failures, locks = excluded.locks,
	locked_until = excluded.locked_until, last_failure = excluded.last_failure`

// ClearSigninFailures forgets badge's failures and lockouts (a successful
// sign-in).
func (s *Store) ClearSigninFailures(ctx context.Context, badge string) error {
	if err := checkBadge(badge); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	err := s.write(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(ctx, "DELETE FROM signin_attempts WHERE badge_id = ?", badge)
		return err
	})
	if err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}
