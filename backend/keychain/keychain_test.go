package keychain_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/outpost-app/outpost/backend/keychain"
)

func TestKeychain_GetOrCreate(t *testing.T) {
	ctx := t.Context()
	t.Run("new database creates and stores a key", func(t *testing.T) {
		kc := osKeychain(t, keychain.Options{})
		key, created, err := kc.GetOrCreate(ctx, false)
		if err != nil || !created || len(key) != keychain.KeySize {
			t.Fatalf("GetOrCreate = %x, %v, %v; want a new 32-byte key", key, created, err)
		}
		again, created, err := kc.GetOrCreate(ctx, true)
		if err != nil || created || !bytes.Equal(again, key) {
			t.Fatalf("second GetOrCreate = %x, %v, %v; want the stored key", again, created, err)
		}
		keys, err := kc.Candidates(ctx)
		if err != nil || len(keys) != 1 || !bytes.Equal(keys[0], key) {
			t.Fatalf("Candidates = %x, %v; want [key]", keys, err)
		}
	})
	t.Run("stored hex-encoded under service Outpost", func(t *testing.T) {
		account := "test-" + randomHex(t, 6)
		kc := osKeychain(t, keychain.Options{Account: account})
		key, _, err := kc.GetOrCreate(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := keyring.Get("Outpost", account)
		if err != nil || raw != keychain.EncodeKey(key) {
			t.Fatalf("keychain holds %q, %v; want %q", raw, err, keychain.EncodeKey(key))
		}
	})
	t.Run("existing database without key is ErrKeyMissing and creates nothing", func(t *testing.T) {
		kc := osKeychain(t, keychain.Options{})
		_, _, err := kc.GetOrCreate(ctx, true)
		if !errors.Is(err, keychain.ErrKeyMissing) {
			t.Fatalf("err = %v, want ErrKeyMissing", err)
		}
		if !strings.Contains(err.Error(), "outpost-recover") {
			t.Errorf("message %q does not say what to do", err)
		}
		if _, err := kc.Candidates(ctx); !errors.Is(err, keychain.ErrNotFound) {
			t.Fatalf("Candidates after refusal: %v, want ErrNotFound", err)
		}
	})
	t.Run("malformed entry is ErrInvalidKey, never replaced", func(t *testing.T) {
		account := "test-" + randomHex(t, 6)
		kc := osKeychain(t, keychain.Options{Account: account})
		if err := keyring.Set("Outpost", account, "not-a-key"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := kc.GetOrCreate(ctx, false); !errors.Is(err, keychain.ErrInvalidKey) {
			t.Fatalf("err = %v, want ErrInvalidKey", err)
		}
		if raw, _ := keyring.Get("Outpost", account); raw != "not-a-key" {
			t.Fatalf("entry changed to %q", raw)
		}
	})
}

func TestKeychain_StageNextPromote(t *testing.T) {
	ctx := t.Context()
	kc := osKeychain(t, keychain.Options{})
	oldKey, _, err := kc.GetOrCreate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	newKey := mustKey(t)
	if err := kc.StageNext(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	keys, err := kc.Candidates(ctx)
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], oldKey) || !bytes.Equal(keys[1], newKey) {
		t.Fatalf("Candidates = %x, %v; want [old, new]", keys, err)
	}
	if err := kc.Promote(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	keys, err = kc.Candidates(ctx)
	if err != nil || len(keys) != 1 || !bytes.Equal(keys[0], newKey) {
		t.Fatalf("Candidates after Promote = %x, %v; want [new]", keys, err)
	}
	if err := kc.DiscardNext(ctx); err != nil {
		t.Fatalf("DiscardNext with nothing staged: %v", err)
	}
	if err := kc.StageNext(ctx, []byte("short")); !errors.Is(err, keychain.ErrInvalidKey) {
		t.Fatalf("StageNext(short key) = %v, want ErrInvalidKey", err)
	}
}

// TestKeychain_Unavailable runs in a child process: godbus caches the session
// bus connection, so the parent's working bus cannot be taken away in-process.
func TestKeychain_Unavailable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service path is Linux only")
	}
	const childEnv = "OUTPOST_KEYCHAIN_TEST_CHILD"
	if os.Getenv(childEnv) == "1" {
		kc := keychain.New(keychain.Options{Account: "test-unavailable", Timeout: 3 * time.Second})
		for name, call := range map[string]func() error{
			"GetOrCreate": func() error { _, _, err := kc.GetOrCreate(t.Context(), false); return err },
			"Candidates":  func() error { _, err := kc.Candidates(t.Context()); return err },
			"StageNext":   func() error { return kc.StageNext(t.Context(), mustKey(t)) },
			"Promote":     func() error { return kc.Promote(t.Context(), mustKey(t)) },
		} {
			if err := call(); !errors.Is(err, keychain.ErrUnavailable) {
				t.Errorf("%s = %v, want ErrUnavailable", name, err)
			} else {
				t.Logf("%s: %v", name, err)
			}
		}
		return
	}

	tests := []struct {
		name string
		env  []string
		// dbus-run-session starts a bus on which gnome-keyring is activated
		// but its login keyring stays locked (nobody types the password).
		wrap []string
		want string
		// skip says why the case cannot run on this machine ("" = it can).
		skip string
	}{
		{
			name: "no session bus",
			env:  []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent"},
			want: "no Secret Service (gnome-keyring or KWallet) is reachable on the D-Bus session bus",
		},
		{
			name: "no bus address (never autolaunched)",
			env:  []string{"DBUS_SESSION_BUS_ADDRESS=", "XDG_RUNTIME_DIR=" + privateDir(t), "DISPLAY="},
			want: "no Secret Service (gnome-keyring or KWallet) is reachable on the D-Bus session bus",
			skip: userBusExists(),
		},
		{
			name: "locked keyring",
			wrap: []string{"dbus-run-session", "--"},
			env: []string{"HOME=" + t.TempDir(), "XDG_DATA_HOME=" + t.TempDir(), "XDG_RUNTIME_DIR=" + privateDir(t),
				"DISPLAY=", "WAYLAND_DISPLAY="},
			// Its exact words depend on the daemon: gnome-keyring without a
			// prompter refuses to unlock; one with a prompter times out.
			want: "keychain unavailable: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			args := append([]string(nil), tt.wrap...)
			args = append(args, os.Args[0], "-test.run=^TestKeychain_Unavailable$", "-test.v")
			if len(tt.wrap) > 0 {
				if _, err := exec.LookPath(tt.wrap[0]); err != nil {
					if os.Getenv(envRequire) != "" {
						t.Fatalf("%s not installed", tt.wrap[0])
					}
					t.Skipf("%s not installed", tt.wrap[0])
				}
			}
			cmd := exec.CommandContext(t.Context(), args[0], args[1:]...)
			cmd.Env = append(os.Environ(), childEnv+"=1")
			cmd.Env = append(cmd.Env, tt.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child failed: %v\n%s", err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.Contains(line, "keychain_test.go") {
					t.Log(strings.TrimSpace(line))
				}
			}
			if !strings.Contains(string(out), tt.want) {
				t.Fatalf("child output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

// userBusExists says why a missing DBUS_SESSION_BUS_ADDRESS still finds a bus
// here (the systemd user bus), or "".
func userBusExists() string {
	path := fmt.Sprintf("/run/user/%d/bus", os.Getuid())
	if _, err := os.Stat(path); err == nil {
		return path + " exists: the session bus is found without the variable"
	}
	return ""
}

// privateDir returns a new 0700 directory (XDG_RUNTIME_DIR must be private).
func privateDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// blockingBackend never answers, like a keychain waiting for a person to
// type a password: the one case a real Secret Service cannot stage here.
type blockingBackend struct{ release chan struct{} }

func (b blockingBackend) Get(string, string) (string, error) { <-b.release; return "", nil }
func (b blockingBackend) Set(string, string, string) error   { <-b.release; return nil }
func (b blockingBackend) Delete(string, string) error        { <-b.release; return nil }

// errBackend answers every call with err.
type errBackend struct{ err error }

func (b errBackend) Get(string, string) (string, error) { return "", b.err }
func (b errBackend) Set(string, string, string) error   { return b.err }
func (b errBackend) Delete(string, string) error        { return b.err }

func TestKeychain_TimeoutAndErrors(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name    string
		backend keychain.Backend
		ctx     context.Context
		want    error
		message string
		dbus    bool // a Secret Service (D-Bus) error: worded for Linux only
	}{
		{"prompt nobody answers times out", blockingBackend{release}, context.Background(), keychain.ErrUnavailable, "did not answer within 100ms", false},
		{"canceled context", blockingBackend{release}, canceled, context.Canceled, "", false},
		{"not found", errBackend{keyring.ErrNotFound}, context.Background(), keychain.ErrNotFound, "", false},
		{"locked keyring", errBackend{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'")}, context.Background(), keychain.ErrUnavailable, "locked", true},
		{"any other error", errBackend{errors.New("The name org.freedesktop.secrets was not provided by any .service files")}, context.Background(), keychain.ErrUnavailable, "no Secret Service (gnome-keyring or KWallet)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dbus && runtime.GOOS != "linux" {
				t.Skip("D-Bus Secret Service errors are explained on Linux only; elsewhere they cannot occur")
			}
			kc := keychain.New(keychain.Options{Backend: tt.backend, Timeout: 100 * time.Millisecond})
			start := time.Now()
			_, err := kc.Candidates(tt.ctx)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Candidates = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("message %q lacks %q", err, tt.message)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
			if runtime.GOOS == "linux" && tt.want == keychain.ErrUnavailable && tt.message != "locked" && !strings.Contains(err.Error(), "no Secret Service") && !strings.Contains(err.Error(), "did not answer") {
				t.Errorf("message %q does not name what is missing", err)
			}
		})
	}
	t.Run("GetOrCreate never creates when the keychain is unavailable", func(t *testing.T) {
		kc := keychain.New(keychain.Options{Backend: errBackend{errors.New("dbus: connection refused")}})
		key, created, err := kc.GetOrCreate(context.Background(), false)
		if !errors.Is(err, keychain.ErrUnavailable) || key != nil || created {
			t.Fatalf("GetOrCreate = %x, %v, %v; want ErrUnavailable", key, created, err)
		}
	})
}

func TestSourceFor(t *testing.T) {
	if _, ok := keychain.SourceFor("", keychain.Options{}).(*keychain.Keychain); !ok {
		t.Error("no key file configured: want the OS keychain")
	}
	if _, ok := keychain.SourceFor("/etc/outpost/db.key", keychain.Options{}).(*keychain.KeyFile); !ok {
		t.Error("key file configured: want the key file")
	}
}
