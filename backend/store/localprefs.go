package store

import (
	"context"
	"fmt"
	"strings"
)

// prefPrefix keeps a terminal's preferences apart from the sync state in the
// meta table.
const prefPrefix = "pref."

// LocalPref returns this terminal's preference key, "" when unset.
// Preferences live in the encrypted database's meta table, are never synced
// and survive unenrollment: they may name people (the last operator), so
// they are kept nowhere else.
func (s *Store) LocalPref(ctx context.Context, key string) (string, error) {
	if key == "" || strings.ContainsAny(key, "\x00") {
		return "", fmt.Errorf("local pref: invalid key %q", key)
	}
	release, err := s.acquire()
	if err != nil {
		return "", fmt.Errorf("local pref %s: %w", key, err)
	}
	defer release()
	return s.metaGet(ctx, s.r, prefPrefix+key)
}

// SetLocalPref stores value as this terminal's preference key; "" removes
// it.
func (s *Store) SetLocalPref(ctx context.Context, key, value string) error {
	if key == "" || strings.ContainsAny(key, "\x00") {
		return fmt.Errorf("set local pref: invalid key %q", key)
	}
	err := s.write(ctx, func(t *wtx) error {
		var err error
		if value == "" {
			_, err = t.tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", prefPrefix+key)
		} else {
			_, err = t.tx.ExecContext(ctx, upsertMeta, prefPrefix+key, value)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("set local pref %s: %w", key, err)
	}
	return nil
}
