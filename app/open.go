package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/outpost-app/outpost/backend/keychain"
	"github.com/outpost-app/outpost/backend/store"
)

// OpenOptions configures OpenLocal. main fills it from the environment.
type OpenOptions struct {
	// DataDir holds the database (DataDir()).
	DataDir string
	// KeyFile, when set, is IT's explicit opt-in for a headless kiosk: the
	// key lives in this file instead of the OS keychain (keychain.EnvKeyFile).
	KeyFile string
	// Recipient, when set, is the site recovery public key
	// (keychain.EnvRecoveryRecipient): the key is also kept wrapped with it
	// beside the database.
	Recipient string
	// KeyFileErr, when set, is why the key file IT named is not valid
	// (Config.KeyFileErr): nothing is opened, neither with the keychain nor
	// with another file.
	KeyFileErr error
	// Keychain overrides the keychain options (tests).
	Keychain keychain.Options
}

// OpenLocal returns the OpenFunc that opens the local encrypted store: a new
// database gets a new random key stored first in the keychain; an existing
// one is opened only with a stored key that decrypts it. It never creates,
// overwrites or re-keys an existing database when the key is missing or
// wrong.
func OpenLocal(opts OpenOptions) OpenFunc {
	return func(ctx context.Context) (Opened, error) {
		if opts.KeyFileErr != nil {
			return Opened{}, &OpenError{Failure: Failure{
				Code:  "key_file_setting_invalid",
				Title: "The key file setting is not valid",
				Message: "IT's configuration names a key file for this computer's database, but the setting is not valid. " +
					"Ask IT to correct kiosk_key_file in the managed configuration; the database is not opened until then.",
			}, Err: opts.KeyFileErr}
		}
		// Before anything reads or creates the database: a second instance
		// on this data directory stops here with a sentence.
		lock, err := lockDataDir(opts.DataDir)
		if err != nil {
			return Opened{}, classify(err)
		}
		opened := false
		defer func() {
			if !opened {
				lock.Unlock()
			}
		}()
		path := filepath.Join(opts.DataDir, DBFileName)
		src := keychain.SourceFor(opts.KeyFile, opts.Keychain)
		exists, err := dbExists(path)
		if err != nil {
			return Opened{}, classify(fmt.Errorf("inspect %s: %w", path, err))
		}
		var key []byte
		if exists {
			key, err = keychain.Resolve(ctx, src, func(ctx context.Context, k []byte) error {
				return store.Verify(ctx, path, k)
			})
		} else {
			var created bool
			key, created, err = src.GetOrCreate(ctx, false)
			if created {
				slog.Info("created a new database key", "in", src.String())
			}
		}
		if err != nil {
			return Opened{}, classify(err)
		}
		st, err := store.Open(ctx, store.Options{Path: path, Key: key})
		if err != nil {
			return Opened{}, classify(err)
		}
		if opts.Recipient != "" {
			// Rewritten at every start: cheap, and follows a changed recipient.
			if err := keychain.WriteRecovery(path, opts.Recipient, key); err != nil {
				slog.Error("write recovery file", "err", err)
			}
		}
		clear(key)
		info, err := st.Info(ctx)
		if err != nil {
			st.Close()
			return Opened{}, classify(err)
		}
		opened = true
		return Opened{
			db:            &localDB{Store: st, release: func() { lock.Unlock() }},
			DBPath:        info.Path,
			Encrypted:     info.Encrypted,
			CipherVersion: info.CipherVersion,
			KeySource:     src.String(),
		}, nil
	}
}

// dbExists reports whether a database worth protecting is at path. An empty
// file without a WAL (a first start that stopped before writing anything)
// holds nothing and counts as absent.
func dbExists(path string) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fi.Size() > 0 {
		return true, nil
	}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
		return true, nil
	}
	return false, nil
}

// classify wraps an open error with the sentence the failure screen shows.
func classify(err error) error {
	f := Failure{
		Code:    "open_failed",
		Title:   "The local database could not be opened",
		Message: "Close every Outpost window and start Outpost again. If this keeps happening, call IT and give them the details below.",
	}
	switch {
	case errors.Is(err, ErrAlreadyRunning):
		f = Failure{
			Code:  "already_running",
			Title: "Outpost is already running",
			Message: "Outpost is already open on this computer with this database (another window, or one started in another session). " +
				"Close the other Outpost first, then start this one again. Two copies must not work on one database at the same time.",
		}
	case errors.Is(err, keychain.ErrUnavailable):
		f = Failure{
			Code:  "keychain_unavailable",
			Title: "The system keychain is not available",
			Message: "Outpost keeps the key of its encrypted database in the system keychain, and the keychain did not answer. " +
				"Log in to the desktop normally (the keychain unlocks with your login), then start Outpost again. " +
				"On a kiosk without a keychain, IT must set up a key file.",
		}
	case errors.Is(err, keychain.ErrKeyMissing):
		f = Failure{
			Code:  "key_missing",
			Title: "The database key is missing",
			Message: "This computer has an Outpost database, but its key is no longer in the system keychain (this happens after a password reset or on a new user profile). " +
				"Call IT: they can restore the key with the site recovery key. Do not delete the database file: it may hold work that is not synced yet.",
		}
	case errors.Is(err, keychain.ErrWrongKey), errors.Is(err, store.ErrWrongKey):
		f = Failure{
			Code:  "wrong_key",
			Title: "The database cannot be unlocked",
			Message: "The key in the system keychain does not open this computer's Outpost database, or the file is not an Outpost database. " +
				"Call IT with the details below; they can unlock it with the site recovery key. Do not delete the file.",
		}
		if strings.Contains(err.Error(), "truncated or damaged") {
			f.Code = "database_damaged"
			f.Title = "The database file is damaged"
			f.Message = "The Outpost database file on this computer looks damaged. Call IT with the details below; do not delete the file."
		}
	case errors.Is(err, keychain.ErrInsecureKeyFile):
		f = Failure{
			Code:    "key_file_insecure",
			Title:   "The key file is not protected",
			Message: "The key file IT configured for this kiosk can be read by other users. Ask IT to make it readable by the Outpost user only (permissions 0600).",
		}
	case errors.Is(err, keychain.ErrInvalidKey):
		f = Failure{
			Code:    "key_invalid",
			Title:   "The stored database key is malformed",
			Message: "The database key stored for Outpost is not valid. Call IT with the details below; they can restore it with the site recovery key.",
		}
	case errors.Is(err, store.ErrSchemaTooNew):
		f = Failure{
			Code:    "schema_too_new",
			Title:   "This database needs a newer Outpost",
			Message: "The database on this computer was written by a newer version of Outpost. Install the latest version of Outpost.",
		}
	}
	return &OpenError{Failure: f, Err: err}
}
