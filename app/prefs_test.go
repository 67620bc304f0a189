package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestPrefsService_InEncryptedStore: the entry form's last line and last
// operator (a badge id: personal data) and the setup choice are kept in the
// encrypted database, not in the WebView's plaintext localStorage; they
// survive a restart and appear in no file of the data directory in clear.
func TestPrefsService_InEncryptedStore(t *testing.T) {
	dir := t.TempDir()
	opts := OpenOptions{DataDir: dir, KeyFile: filepath.Join(t.TempDir(), "db.key")}
	start := func() (*Core, *PrefsService) {
		core := NewCore("test", OpenLocal(opts))
		core.Start(context.Background())
		return core, NewPrefsService(core)
	}
	core, svc := start()
	p, err := svc.Get()
	if err != nil || p != (TerminalPrefs{}) {
		t.Fatalf("fresh prefs %+v, %v", p, err)
	}
	if p, err = svc.Remember("L-3", "BADGE-4711"); err != nil || p.LastLine != "L-3" || p.LastOperator != "BADGE-4711" {
		t.Fatalf("remember: %+v, %v", p, err)
	}
	if p, err = svc.SkipSetup(true); err != nil || !p.SetupSkipped || p.LastOperator != "BADGE-4711" {
		t.Fatalf("skip setup: %+v, %v", p, err)
	}
	if p, err = svc.SetDashboardShifts("A=05:00,B=13:00"); err != nil || p.DashboardShifts != "A=05:00,B=13:00" {
		t.Fatalf("dashboard shifts: %+v, %v", p, err)
	}
	// Scan sounds are on until this terminal turns them off (issue 20).
	if p, err = svc.SetScanSound(false); err != nil || !p.ScanSoundOff || p.DashboardShifts != "A=05:00,B=13:00" {
		t.Fatalf("scan sound off: %+v, %v", p, err)
	}
	core.Shutdown()

	core, svc = start()
	defer core.Shutdown()
	p, err = svc.Get()
	if err != nil || p != (TerminalPrefs{LastLine: "L-3", LastOperator: "BADGE-4711", SetupSkipped: true, DashboardShifts: "A=05:00,B=13:00", ScanSoundOff: true}) {
		t.Fatalf("after a restart: %+v, %v", p, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if bytes.Contains(b, []byte("BADGE-4711")) {
			t.Fatalf("%s holds the badge id in clear", e.Name())
		}
	}
	if p, err = svc.Remember("", ""); err != nil || p.LastOperator != "" || !p.SetupSkipped {
		t.Fatalf("forget: %+v, %v", p, err)
	}
	if p, err = svc.SetScanSound(true); err != nil || p.ScanSoundOff {
		t.Fatalf("scan sound on again: %+v, %v", p, err)
	}
	if _, err := svc.Remember(string(make([]byte, 300)), ""); err == nil {
		t.Fatal("an over-long value was stored")
	}
}
