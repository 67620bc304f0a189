package keychain

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf16"
)

// EnvKeyFile names the environment variable through which IT opts a headless
// kiosk into a key file instead of the OS keychain. It is read by main only;
// a key file is never chosen silently.
const EnvKeyFile = "OUTPOST_KEY_FILE"

// KeyFile keeps the database key in a file of 64 hex characters: the explicit
// opt-in for headless kiosks with no OS keychain. The file must be 0600 (on
// Unix, wider permissions are refused); whoever can read it can read the
// database, so IT must place it where only the app's user can. A rotation
// stages the next key in Path+NextSuffix.
type KeyFile struct {
	path string
}

var _ Source = (*KeyFile)(nil)

// NewKeyFile returns a KeyFile source for path.
func NewKeyFile(path string) *KeyFile { return &KeyFile{path: path} }

// String names the file, e.g. `key file /etc/outpost/db.key`.
func (f *KeyFile) String() string { return "key file " + f.path }

func (f *KeyFile) nextPath() string { return f.path + NextSuffix }

// GetOrCreate returns the key in the file, creating the file (0600) only when
// it is missing and the database does not exist yet.
func (f *KeyFile) GetOrCreate(ctx context.Context, dbExists bool) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	missing := fmt.Errorf("%w: the database exists but the %s does not: restore it from backup or with outpost-recover (see docs/keys.md)", ErrKeyMissing, f)
	return getOrCreate(dbExists, missing,
		func() ([]byte, error) { return readKeyFile(f.path) },
		func(key []byte) error { return writeKeyFile(f.path, key) })
}

// Candidates returns the key in the file, then the staged next key if any.
func (f *KeyFile) Candidates(ctx context.Context) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return candidates([]string{f.path, f.nextPath()},
		fmt.Errorf("%w: the %s does not exist", ErrNotFound, f), readKeyFile)
}

// StageNext writes key to Path+NextSuffix.
func (f *KeyFile) StageNext(ctx context.Context, key []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	return writeKeyFile(f.nextPath(), key)
}

// Promote replaces the key file with key (atomically), then removes the next
// file.
func (f *KeyFile) Promote(ctx context.Context, key []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if err := writeKeyFile(f.path, key); err != nil {
		return err
	}
	return f.DiscardNext(ctx)
}

// DiscardNext removes the next file; a missing one is not an error.
func (f *KeyFile) DiscardNext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(f.nextPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove next key file: %w", err)
	}
	return syncDir(filepath.Dir(f.path))
}

// readKeyFile returns the key in path, ErrNotFound when the file does not
// exist, ErrInsecureKeyFile when others may read it.
func readKeyFile(path string) ([]byte, error) {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read key file %s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("read key file %s: not a regular file", path)
	}
	if err := checkPrivate(path, info.Mode()); err != nil {
		return nil, err
	}
	// Room for the key in UTF-16 with a byte order mark and a line end.
	data, err := io.ReadAll(io.LimitReader(file, 8*KeySize))
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	text, err := keyText(data)
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	key, err := DecodeKey(text)
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	return key, nil
}

// keyText returns the text of a key file: UTF-8, with or without a byte order
// mark, or UTF-16 with one. Windows PowerShell 5.1 writes the last two by
// default (Set-Content -Encoding UTF8, Out-File and >), as config.json
// accepts; IT should not have to know.
func keyText(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return string(data[3:]), nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		order := binary.ByteOrder(binary.LittleEndian)
		if data[0] == 0xFE {
			order = binary.BigEndian
		}
		data = data[2:]
		if len(data)%2 != 0 {
			return "", fmt.Errorf("%w: odd length for UTF-16 text", ErrInvalidKey)
		}
		u := make([]uint16, len(data)/2)
		for i := range u {
			u[i] = order.Uint16(data[2*i:])
		}
		return string(utf16.Decode(u)), nil
	}
	return string(data), nil
}

func writeKeyFile(path string, key []byte) error {
	if err := mkdirPrivate(filepath.Dir(path)); err != nil {
		return fmt.Errorf("create key file directory: %w", err)
	}
	if err := writeFileAtomic(path, []byte(EncodeKey(key)+"\n")); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data, mode 0600 (on Windows an ACL
// for SYSTEM, the Administrators and the app's account only): temp file in the same
// directory, fsync, rename, fsync of the directory. A crash leaves either the
// old file or the new one, never a torn one.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := privateFile(tmp); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}
