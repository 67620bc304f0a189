// Command outpost is the Outpost desktop app: a Wails window over the local
// encrypted store. Wiring happens here and nowhere else.
package main

import (
	"context"
	"embed"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"

	"github.com/outpost-app/outpost/app"
	"github.com/outpost-app/outpost/backend/config"
	"github.com/outpost-app/outpost/backend/keychain"
)

//go:embed all:frontend/dist
var assets embed.FS

//go:embed build/appicon.png
var icon []byte

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err := run(); err != nil {
		slog.Error("outpost stopped", "err", err)
		os.Exit(1)
	}
}

func run() error {
	dataDir, err := app.DataDir()
	if err != nil {
		return err
	}
	if d := os.Getenv("OUTPOST_DATA_DIR"); d != "" {
		dataDir = d // tests and portable installs
	}
	var appCtx context.Context
	var emitCtx atomic.Pointer[context.Context] // read by the sync loop's goroutines
	syncSvc := app.NewSyncService(syncOptions(func(s app.SyncStatus) {
		if c := emitCtx.Load(); c != nil {
			wruntime.EventsEmit(*c, "sync:status", s)
		}
	}))
	core := app.NewCore(version, syncSvc.Wrap(app.OpenLocal(app.OpenOptions{
		DataDir: dataDir,
		// Both are IT's explicit opt-ins, never chosen silently.
		KeyFile:   os.Getenv(keychain.EnvKeyFile),
		Recipient: os.Getenv(keychain.EnvRecoveryRecipient),
	})))

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
		},
		OnShutdown: func(context.Context) {
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
		},
		Linux: &linux.Options{Icon: icon, ProgramName: "outpost"},
	})
}

// syncOptions reads the sync server, fleet enrollment code and extra CA
// bundle from the managed configuration; OUTPOST_SERVER_URL,
// OUTPOST_ENROLL_CODE and OUTPOST_CA_BUNDLE override it (make run).
func syncOptions(onStatus func(app.SyncStatus)) app.SyncOptions {
	o := app.SyncOptions{OnStatus: onStatus}
	if l, err := config.NewLoader(); err == nil {
		if s, err := l.Load(); err == nil {
			o.ServerURL, o.Code, o.ExtraCAFile = s.ServerURL(), s.EnrollmentCode(), s.CABundle()
		} else {
			slog.Error("read configuration", "err", err)
		}
	}
	for env, dst := range map[string]*string{"OUTPOST_SERVER_URL": &o.ServerURL, "OUTPOST_ENROLL_CODE": &o.Code, "OUTPOST_CA_BUNDLE": &o.ExtraCAFile} {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
	}
	return o
}
