package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failWriter is standard error in a Windows GUI program: every write fails.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("invalid handle") }

// TestStopReasonReachesLogFile: why the app stopped is written to
// outpost.log before the file closes, even when standard error is unusable
// (issue 22: the log said nothing when WebView2 was missing).
func TestStopReasonReachesLogFile(t *testing.T) {
	tests := []struct {
		name   string
		stderr io.Writer
		err    error
		want   []string
	}{
		{"error, stderr works", io.Discard, errors.New("webview2 runtime missing"),
			[]string{"outpost starting", "outpost stopped", "webview2 runtime missing", "level=ERROR"}},
		{"error, no stderr (Windows GUI)", failWriter{}, errors.New("webview2 runtime missing"),
			[]string{"outpost starting", "outpost stopped", "webview2 runtime missing"}},
		{"clean exit", failWriter{}, nil, []string{"outpost starting", "outpost stopped"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := slog.Default()
			t.Cleanup(func() { slog.SetDefault(prev) })
			dir := filepath.Join(t.TempDir(), "logs")
			err := withLog(dir, tt.stderr, func() error {
				slog.Info("outpost starting")
				return tt.err
			})
			if !errors.Is(err, tt.err) {
				t.Fatalf("withLog returned %v, want %v", err, tt.err)
			}
			data, rerr := os.ReadFile(filepath.Join(dir, "outpost.log"))
			if rerr != nil {
				t.Fatal(rerr)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(data), w) {
					t.Errorf("outpost.log lacks %q:\n%s", w, data)
				}
			}
		})
	}
}

// TestWindowsOptions_WebView2Missing: built with `-webview2 error`, a PC
// without WebView2 gets one sentence, shown and returned by wails.Run (so it
// reaches outpost.log), that names what is missing and what IT installs;
// nothing is downloaded (issue 22).
func TestWindowsOptions_WebView2Missing(t *testing.T) {
	m := windowsOptions().Messages
	if m == nil {
		t.Fatal("no messages: Wails' defaults offer a download")
	}
	for name, s := range map[string]string{"ContactAdmin": m.ContactAdmin, "Webview2NotInstalled": m.Webview2NotInstalled} {
		for _, want := range []string{"WebView2 Runtime", "not installed", "IT", "Evergreen Standalone Installer"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s %q lacks %q", name, s, want)
			}
		}
		if strings.Contains(s, "%") || strings.Contains(s, "\n") {
			t.Errorf("%s %q: a format verb or a line break (it is passed to fmt.Errorf and logged)", name, s)
		}
	}
	if m.Error == "" || m.MissingRequirements == "" {
		t.Error("the other messages were dropped")
	}
}
