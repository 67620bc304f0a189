package keychain_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"

	"github.com/outpost-app/outpost/backend/keychain"
)

func TestKeyFile_GetOrCreate(t *testing.T) {
	ctx := t.Context()
	hexLine := regexp.MustCompile(`^[0-9a-f]{64}\n$`)

	t.Run("created 0600 when the database does not exist", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "conf", "db.key")
		kf := keychain.NewKeyFile(path)
		key, created, err := kf.GetOrCreate(ctx, false)
		if err != nil || !created || len(key) != keychain.KeySize {
			t.Fatalf("GetOrCreate = %x, %v, %v", key, created, err)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
			t.Errorf("mode %04o, want 0600", info.Mode().Perm())
		}
		data, _ := os.ReadFile(path)
		if !hexLine.Match(data) || !bytes.Equal(data[:64], []byte(keychain.EncodeKey(key))) {
			t.Errorf("file holds %q", data)
		}
		again, created, err := kf.GetOrCreate(ctx, true)
		if err != nil || created || !bytes.Equal(again, key) {
			t.Fatalf("second GetOrCreate = %x, %v, %v", again, created, err)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("directory holds %d entries, want the key file alone", len(entries))
		}
	})

	tests := []struct {
		name     string
		content  string // "" = no file
		mode     fs.FileMode
		dbExists bool
		want     error
		unixOnly bool
	}{
		{name: "missing file with existing database", dbExists: true, want: keychain.ErrKeyMissing},
		{name: "world readable", content: keychain.EncodeKey(make([]byte, 32)), mode: 0o644, want: keychain.ErrInsecureKeyFile, unixOnly: true},
		{name: "group readable", content: keychain.EncodeKey(make([]byte, 32)), mode: 0o640, want: keychain.ErrInsecureKeyFile, unixOnly: true},
		{name: "others writable", content: keychain.EncodeKey(make([]byte, 32)), mode: 0o602, want: keychain.ErrInsecureKeyFile, unixOnly: true},
		{name: "read-only for owner is fine", content: keychain.EncodeKey(make([]byte, 32)), mode: 0o400, dbExists: true},
		{name: "malformed", content: "hunter2\n", mode: 0o600, want: keychain.ErrInvalidKey},
		{name: "too short", content: keychain.EncodeKey(make([]byte, 16)), mode: 0o600, want: keychain.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.unixOnly && runtime.GOOS == "windows" {
				t.Skip("Windows permissions are ACLs")
			}
			path := filepath.Join(t.TempDir(), "db.key")
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.mode); err != nil { // umask
					t.Fatal(err)
				}
				if runtime.GOOS == "windows" {
					if err := keychain.MakePrivateForTest(path); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, created, err := keychain.NewKeyFile(path).GetOrCreate(ctx, tt.dbExists)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("GetOrCreate: %v, want %v", err, tt.want)
			}
			if created {
				t.Fatal("created a key")
			}
			after, readErr := os.ReadFile(path)
			if tt.content == "" && !errors.Is(readErr, fs.ErrNotExist) {
				t.Fatalf("a key file was created: %q", after)
			}
			if tt.content != "" && string(after) != tt.content {
				t.Fatalf("key file changed to %q", after)
			}
		})
	}
}

func TestKeyFile_StageNextPromote(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db.key")
	kf := keychain.NewKeyFile(path)
	if _, err := kf.Candidates(ctx); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Candidates on nothing = %v, want ErrNotFound", err)
	}
	oldKey, _, err := kf.GetOrCreate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	newKey := mustKey(t)
	if err := kf.StageNext(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path + ".next"); err != nil || (runtime.GOOS != "windows" && info.Mode().Perm() != 0o600) {
		t.Fatalf("next file: %v %v", info, err)
	}
	keys, err := kf.Candidates(ctx)
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], oldKey) || !bytes.Equal(keys[1], newKey) {
		t.Fatalf("Candidates = %x, %v; want [old, new]", keys, err)
	}
	if err := kf.Promote(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	keys, err = kf.Candidates(ctx)
	if err != nil || len(keys) != 1 || !bytes.Equal(keys[0], newKey) {
		t.Fatalf("Candidates after Promote = %x, %v; want [new]", keys, err)
	}
	if _, err := os.Stat(path + ".next"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("next file left behind: %v", err)
	}
}

// TestKeyFile_Encodings: key files written by Windows PowerShell 5.1 (UTF-8
// with a byte order mark, UTF-16 LE) are read like config.json is (issue 22).
func TestKeyFile_Encodings(t *testing.T) {
	want := make([]byte, keychain.KeySize)
	for i := range want {
		want[i] = byte(i)
	}
	tests := []struct {
		file    string
		wantErr error
	}{
		{file: "plain.txt"},
		{file: "crlf.txt"},
		{file: "utf8-bom.txt"},
		{file: "utf16le-bom.txt"},
		{file: "utf16be-bom.txt"},
		{file: "utf16le-odd.txt", wantErr: keychain.ErrInvalidKey},
		{file: "utf16le-nobom.txt", wantErr: keychain.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "db.key")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := keychain.MakePrivateForTest(path); err != nil {
				t.Fatal(err)
			}
			keys, err := keychain.NewKeyFile(path).Candidates(t.Context())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Candidates: %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Candidates: %v", err)
			}
			if len(keys) != 1 || !bytes.Equal(keys[0], want) {
				t.Fatalf("Candidates = %x, want %x", keys, want)
			}
		})
	}
}
