package keychain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// Rekeyer re-encrypts the open database with a new key (PRAGMA rekey). The
// store implements it; rekeying is one SQLCipher transaction, so after a crash
// the file is wholly under the old key or wholly under the new one.
type Rekeyer interface {
	Rekey(ctx context.Context, newKey []byte) error
}

// VerifyFunc opens the database with key and reports whether it reads (for
// SQLCipher: a query on sqlite_master succeeds). It must not create or change
// the database.
type VerifyFunc func(ctx context.Context, key []byte) error

// RotateOptions configures Rotate.
type RotateOptions struct {
	// DBPath and Recipient, when Recipient is set, keep the recovery file
	// (RecoveryPath(DBPath)) in step with the keys: both keys while the
	// rotation is under way, the new key alone once it is done.
	DBPath    string
	Recipient string
}

// Rotate replaces the database key, crash-safely (see the package doc):
//
//  1. settle the keys with Resolve (the current key must open the database),
//  2. generate the new key,
//  3. store it beside the current one (src.StageNext),
//  4. write the recovery file with both keys, when configured,
//  5. db.Rekey with the new key,
//  6. verify the database opens with the new key,
//  7. make the new key current and remove the staged one (src.Promote),
//  8. write the recovery file with the new key alone, when configured.
//
// It returns the new key. When a step after 3 fails, Rotate settles the
// stored keys on the one that opens the database (the old one, or the new one
// if the rekey went through) and returns the error; nothing is ever deleted
// before the database is known to open without it. Rotate must not run
// concurrently with itself or with Resolve on the same Source.
func Rotate(ctx context.Context, src Source, db Rekeyer, verify VerifyFunc, opts RotateOptions) ([]byte, error) {
	oldKey, err := Resolve(ctx, src, verify)
	if err != nil {
		return nil, fmt.Errorf("rotate key: %w", err)
	}
	newKey, err := NewKey()
	if err != nil {
		return nil, fmt.Errorf("rotate key: %w", err)
	}
	if err := src.StageNext(ctx, newKey); err != nil {
		return nil, fmt.Errorf("rotate key: stage new key: %w", settle(ctx, src, verify, opts, err))
	}
	if opts.Recipient != "" {
		if err := WriteRecovery(opts.DBPath, opts.Recipient, oldKey, newKey); err != nil {
			return nil, fmt.Errorf("rotate key: %w", settle(ctx, src, verify, opts, err))
		}
	}
	if err := db.Rekey(ctx, newKey); err != nil {
		return nil, fmt.Errorf("rotate key: rekey: %w", settle(ctx, src, verify, opts, err))
	}
	if err := verify(ctx, newKey); err != nil {
		return nil, fmt.Errorf("rotate key: open with new key: %w", settle(ctx, src, verify, opts, err))
	}
	if err := src.Promote(ctx, newKey); err != nil {
		// The database is under the new key and the new key is stored (as
		// next, maybe also as current): the next Resolve finishes the job.
		return nil, fmt.Errorf("rotate key: make new key current (the next start completes it): %w", err)
	}
	if opts.Recipient != "" {
		if err := WriteRecovery(opts.DBPath, opts.Recipient, newKey); err != nil {
			// The file still holds both keys, the new one among them.
			return newKey, fmt.Errorf("rotate key: key rotated, but: %w", err)
		}
	}
	return newKey, nil
}

// settle runs after a failed rotation step: it resolves the stored keys to
// the one that opens the database and rewrites the recovery file with it. It
// returns cause, joined with the settling error if settling failed too (the
// keys then stay as they are, and the next start settles them).
func settle(ctx context.Context, src Source, verify VerifyFunc, opts RotateOptions, cause error) error {
	ctx = context.WithoutCancel(ctx) // clean up even if the caller gave up; every call has its own timeout
	key, err := Resolve(ctx, src, verify)
	if err != nil {
		return errors.Join(cause, fmt.Errorf("settle keys: %w", err))
	}
	if opts.Recipient != "" {
		if err := WriteRecovery(opts.DBPath, opts.Recipient, key); err != nil {
			return errors.Join(cause, fmt.Errorf("settle keys: %w", err))
		}
	}
	return cause
}

// Resolve returns the stored key that opens the database, trying
// src.Candidates in order with open. It is what the opener of an existing
// database calls at start: if only the staged next key opens the database (a
// rotation died after rekeying), that key is promoted; if the current key
// opens it, a leftover next key is discarded. No key stored gives
// ErrKeyMissing; keys that all fail give ErrWrongKey, with open's errors.
func Resolve(ctx context.Context, src Source, open VerifyFunc) ([]byte, error) {
	// The current key alone, to know whether the one that opens is current
	// (Candidates does not say whether its first key is current or next).
	current, _, err := src.GetOrCreate(ctx, true)
	if err != nil && !errors.Is(err, ErrKeyMissing) {
		return nil, err
	}
	keys, err := src.Candidates(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: the database exists but the %s holds no key: restore it with outpost-recover (see docs/keys.md)", ErrKeyMissing, src)
	}
	if err != nil {
		return nil, err
	}
	var failures []error
	var tried [][]byte
	for i, key := range keys {
		if containsKey(tried, key) {
			continue
		}
		tried = append(tried, key)
		err := open(ctx, key)
		if err != nil {
			failures = append(failures, fmt.Errorf("key %d of %d: %w", i+1, len(keys), err))
			continue
		}
		switch {
		case !bytes.Equal(key, current):
			if err := src.Promote(ctx, key); err != nil {
				return nil, fmt.Errorf("promote next key: %w", err)
			}
		case len(keys) > 1:
			if err := src.DiscardNext(ctx); err != nil {
				return nil, fmt.Errorf("discard next key: %w", err)
			}
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w (%s): %w", ErrWrongKey, src, errors.Join(failures...))
}
