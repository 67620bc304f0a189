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
