package keychain_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/outpost-app/outpost/backend/keychain"
)

func TestRecovery_RoundTrip(t *testing.T) {
	id := newIdentity(t)
	k1, k2 := mustKey(t), mustKey(t)
	tests := []struct {
		name string
		keys [][]byte
	}{
		{"one key", [][]byte{k1}},
		{"during a rotation: current first", [][]byte{k1, k2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "outpost.db")
			if err := keychain.WriteRecovery(dbPath, id.Recipient().String(), tt.keys...); err != nil {
				t.Fatal(err)
			}
			path := keychain.RecoveryPath(dbPath)
			if path != dbPath+".recovery.age" {
				t.Fatalf("RecoveryPath = %s", path)
			}
			sealed, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(sealed, []byte("age-encryption.org/v1\n")) {
				t.Fatalf("not an age file: %q", sealed[:20])
			}
			for _, k := range tt.keys {
				if bytes.Contains(sealed, []byte(keychain.EncodeKey(k))) || bytes.Contains(sealed, k) {
					t.Fatal("the key appears in clear in the recovery file")
				}
			}
			if info, _ := os.Stat(path); runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
				t.Errorf("mode %04o, want 0600", info.Mode().Perm())
			}
			got := readRecovery(t, dbPath, id)
			if len(got) != len(tt.keys) {
				t.Fatalf("got %d keys, want %d", len(got), len(tt.keys))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.keys[i]) {
					t.Fatalf("key %d differs", i)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %d entries (temp files left?)", len(entries))
			}
		})
	}

	t.Run("rewrite replaces the keys", func(t *testing.T) {
		dbPath := filepath.Join(t.TempDir(), "outpost.db")
		for _, keys := range [][][]byte{{k1}, {k1, k2}, {k2}} {
			if err := keychain.WriteRecovery(dbPath, id.Recipient().String(), keys...); err != nil {
				t.Fatal(err)
			}
		}
		if got := readRecovery(t, dbPath, id); len(got) != 1 || !bytes.Equal(got[0], k2) {
			t.Fatal("recovery file does not hold the last key alone")
		}
	})

	t.Run("identity file as written by GenerateRecoveryIdentity", func(t *testing.T) {
		dir := t.TempDir()
		idText, recipient, err := keychain.GenerateRecoveryIdentity(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(recipient, "age1") || !strings.Contains(idText, "# public key: "+recipient) || !strings.Contains(idText, "AGE-SECRET-KEY-1") {
			t.Fatalf("identity file:\n%s", idText)
		}
		idPath := filepath.Join(dir, "site.key")
		if err := os.WriteFile(idPath, []byte(idText), 0o600); err != nil {
			t.Fatal(err)
		}
		dbPath := filepath.Join(dir, "outpost.db")
		if err := keychain.WriteRecovery(dbPath, recipient, k1); err != nil {
			t.Fatal(err)
		}
		got, err := keychain.ReadRecoveryFile(dbPath, idPath)
		if err != nil || len(got) != 1 || !bytes.Equal(got[0], k1) {
			t.Fatalf("ReadRecoveryFile = %d keys, %v", len(got), err)
		}
	})
}

func TestRecovery_Errors(t *testing.T) {
	id := newIdentity(t)
	dbPath := filepath.Join(t.TempDir(), "outpost.db")
	tests := []struct {
		name      string
		recipient string
		keys      [][]byte
	}{
		{"empty recipient", "", [][]byte{mustKey(t)}},
		{"not an age recipient", "ssh-rsa AAAA", [][]byte{mustKey(t)}},
		{"no key", id.Recipient().String(), nil},
		{"short key", id.Recipient().String(), [][]byte{[]byte("short")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := keychain.WriteRecovery(dbPath, tt.recipient, tt.keys...); err == nil {
				t.Fatal("WriteRecovery succeeded")
			}
			if _, err := os.Stat(keychain.RecoveryPath(dbPath)); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("a recovery file was written")
			}
		})
	}

	t.Run("wrong identity", func(t *testing.T) {
		if err := keychain.WriteRecovery(dbPath, id.Recipient().String(), mustKey(t)); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(keychain.RecoveryPath(dbPath))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		_, err = keychain.ReadRecovery(f, newIdentity(t))
		var noMatch *age.NoIdentityMatchError
		if !errors.As(err, &noMatch) {
			t.Fatalf("err = %v, want age.NoIdentityMatchError", err)
		}
	})
}
