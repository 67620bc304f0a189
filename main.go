// Command outpost is the Outpost desktop app: a Wails window over the local
// encrypted store. Wiring happens here and nowhere else.
package main

import (
	"context"
	"embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/options/windows"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"

	"github.com/outpost-app/outpost/app"
)

//go:embed all:frontend/dist
var assets embed.FS

//go:embed build/appicon.png
var icon []byte

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "--version", "-version", "version":
			fmt.Println(version)
			return
		}
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	dataDir, err := app.DataDir()
	if err != nil {
		slog.Error("outpost stopped", "err", err)
		os.Exit(1)
	}
	if d := os.Getenv("OUTPOST_DATA_DIR"); d != "" {
		dataDir = d // tests and portable installs
	}
	if err := withLog(filepath.Join(dataDir, "logs"), os.Stderr, func() error { return run(dataDir) }); err != nil {
		os.Exit(1)
	}
}

// withLog runs fn with the default logger writing to stderr and to
// dir/outpost.log, and logs why fn stopped before the file closes. A Windows
// GUI program has no standard error: writes to it fail, and must not stop
// the file from getting every line (io.MultiWriter would).
func withLog(dir string, stderr io.Writer, fn func() error) error {
	w := stderr
	if f, err := openLog(dir); err == nil {
		defer f.Close()
		w = bestEffort{f, stderr}
	} else {
		slog.Warn("no log file; logging to standard error only", "err", err)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, nil)))
	err := fn()
	if err != nil {
		slog.Error("outpost stopped", "err", err)
	} else {
		slog.Info("outpost stopped")
	}
	return err
}

// bestEffort writes to the log file, then to standard error; a failing
// standard error is ignored.
type bestEffort struct {
	file   io.Writer
	stderr io.Writer
}

func (b bestEffort) Write(p []byte) (int, error) {
	n, err := b.file.Write(p)
	_, _ = b.stderr.Write(p)
	return n, err
}

func run(dataDir string) error {
	slog.Info("outpost starting", "version", version, "data", dataDir)
	cfg := app.LoadConfig(nil, nil)
	cfg.Log(slog.Default()) // secrets as "(set)", no proxy password
	var appCtx context.Context
	sessCtx, stopSessions := context.WithCancel(context.Background())
	defer stopSessions()
	var emitCtx atomic.Pointer[context.Context] // read by the sync loop's goroutines
	syncSvc := app.NewSyncService(app.SyncOptions{Config: cfg, OnStatus: func(s app.SyncStatus) {
		if c := emitCtx.Load(); c != nil {
			wruntime.EventsEmit(*c, "sync:status", s)
		}
	}})
	core := app.NewCore(version, syncSvc.Wrap(app.OpenLocal(app.OpenOptions{
		DataDir: dataDir,
		// Both are IT's explicit opt-ins (managed config, else the
		// environment), never chosen silently.
		KeyFile:    cfg.KeyFile,
		KeyFileErr: cfg.KeyFileErr,
		Recipient:  cfg.Recipient,
	})))

	sessSvc := app.NewSessionService(core, syncSvc, app.SessionOptions{
		Emit: func(name string, data any) {
			if c := emitCtx.Load(); c != nil {
				wruntime.EventsEmit(*c, name, data)
			}
		},
	})
	siteSvc := app.NewSiteService(core, syncSvc, sessSvc)
	dashSvc := app.NewDashboardService(core, app.DashboardOptions{})
	exportSvc := app.NewExportService(core, dashSvc, app.ExportOptions{
		SaveDialog: func(title, dir, name string) (string, error) {
			return wruntime.SaveFileDialog(appCtx, wruntime.SaveDialogOptions{
				Title: title, DefaultDirectory: dir, DefaultFilename: name,
				Filters: []wruntime.FileFilter{{DisplayName: "CSV (*.csv)", Pattern: "*.csv"}},
			})
		},
		Emit: func(name string, data any) { wruntime.EventsEmit(appCtx, name, data) },
	})

	return wails.Run(&options.App{
		Title:            "Outpost",
		Width:            1280,
		Height:           800,
		MinWidth:         1024,
		MinHeight:        768,
		BackgroundColour: options.NewRGB(0x11, 0x18, 0x22),
		AssetServer:      &assetserver.Options{Assets: assets},
		OnStartup: func(ctx context.Context) {
			appCtx = ctx
			emitCtx.Store(&ctx)
			core.Start(ctx)
			go app.WatchData(ctx, dashSvc, func(name string, data any) { wruntime.EventsEmit(ctx, name, data) })
			go app.WatchSessions(sessCtx, sessSvc) // idle sign-out
		},
		OnShutdown: func(context.Context) {
			stopSessions()
			syncSvc.Shutdown()
			core.Shutdown()
		},
		// A second start brings this window forward instead of opening the
		// database a second time.
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId: "io.outpost.desktop",
			OnSecondInstanceLaunch: func(options.SecondInstanceData) {
				if appCtx == nil {
					return
				}
				wruntime.WindowUnminimise(appCtx)
				wruntime.WindowShow(appCtx)
				// Raising a window is up to the window manager; toggling
				// always-on-top makes the common ones bring it forward.
				wruntime.WindowSetAlwaysOnTop(appCtx, true)
				go func() {
					time.Sleep(300 * time.Millisecond)
					wruntime.WindowSetAlwaysOnTop(appCtx, false)
				}()
			},
		},
		ErrorFormatter: app.FormatError,
		Bind: []any{
			app.NewRecordService(core),
			app.NewLineConfigService(core),
			app.NewStatusService(core),
			app.NewSchemaService(),
			syncSvc,
			app.NewConflictService(syncSvc),
			dashSvc,
			exportSvc,
			sessSvc,
			siteSvc,
			app.NewPrefsService(core), // the entry form's line and operator, in the encrypted store
		},
		Linux:   &linux.Options{Icon: icon, ProgramName: "outpost"},
		Windows: windowsOptions(),
	})
}

// webView2Missing is what a PC without WebView2 shows and logs: package.sh
// builds with `-webview2 error`, so nothing is ever downloaded (Outpost is
// offline-first, and a download would bypass its proxy and CA settings).
const webView2Missing = "Outpost cannot start: the Microsoft Edge WebView2 Runtime is not installed on this PC. " +
	"IT should install it, with the Outpost installer that carries it or with Microsoft's " +
	"WebView2 Evergreen Standalone Installer (MicrosoftEdgeWebView2RuntimeInstallerX64.exe /silent /install)."

func windowsOptions() *windows.Options {
	m := windows.DefaultMessages()
	m.ContactAdmin = webView2Missing
	m.Webview2NotInstalled = webView2Missing // wails.Run's error: logged to outpost.log
	return &windows.Options{Messages: m}
}

// openLog opens dir/outpost.log for appending (0600: it names paths and
// servers, never secrets). A log over 10 MiB is moved to outpost.log.1 first,
// so the file never grows without bound.
func openLog(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "outpost.log")
	if fi, err := os.Stat(path); err == nil && fi.Size() > 10<<20 {
		_ = os.Rename(path, path+".1")
	}
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}
