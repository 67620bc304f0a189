// Command outpost is the Outpost desktop app: a Wails window over the local
// encrypted store. Wiring happens here and nowhere else.
package main

import (
	"context"
	"embed"
	"log/slog"
	"os"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"

	"github.com/outpost-app/outpost/app"
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
	core := app.NewCore(version, app.OpenLocal(app.OpenOptions{
		DataDir: dataDir,
		// Both are IT's explicit opt-ins, never chosen silently.
		KeyFile:   os.Getenv(keychain.EnvKeyFile),
		Recipient: os.Getenv(keychain.EnvRecoveryRecipient),
	}))

	var appCtx context.Context
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
			core.Start(ctx)
		},
		OnShutdown: func(context.Context) { core.Shutdown() },
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
		},
		Linux: &linux.Options{Icon: icon, ProgramName: "outpost"},
	})
}
