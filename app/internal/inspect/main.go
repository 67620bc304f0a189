// Command inspect prints every row of the local Outpost database as JSON,
// deleted ones included, opening it with the key held in the OS keychain (or
// the key file named by -key-file). The end-to-end test uses it to check what
// the UI wrote; IT can use it to look inside a database they hold the key for.
//
//	go run ./app/internal/inspect [-db PATH] [-key-file PATH]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/outpost-app/outpost/app"
	"github.com/outpost-app/outpost/backend/keychain"
	"github.com/outpost-app/outpost/backend/store"
)

type dump struct {
	Path        string             `json:"path"`
	Encrypted   bool               `json:"encrypted"`
	Records     []store.Record     `json:"records"`
	LineConfigs []store.LineConfig `json:"line_configs"`
	Pending     int64              `json:"pending"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "inspect:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := app.DataDir()
	if err != nil {
		return err
	}
	db := flag.String("db", filepath.Join(dir, app.DBFileName), "database file")
	keyFile := flag.String("key-file", "", "read the key from this file instead of the OS keychain")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := os.Stat(*db); err != nil {
		return err
	}
	src := keychain.SourceFor(*keyFile, keychain.Options{})
	keys, err := src.Candidates(ctx)
	if err != nil {
		return fmt.Errorf("read key from %s: %w", src, err)
	}
	var st *store.Store
	for _, k := range keys {
		if err = store.Verify(ctx, *db, k); err == nil {
			st, err = store.Open(ctx, store.Options{Path: *db, Key: k})
			break
		}
	}
	if err != nil {
		return err
	}
	if st == nil {
		return errors.New("no stored key opens the database")
	}
	defer st.Close()

	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	out := dump{Path: info.Path, Encrypted: info.Encrypted, Pending: info.Pending}
	for off := 0; ; off += store.MaxLimit {
		p, err := st.ListRecords(ctx, store.RecordFilter{IncludeDeleted: true, Sort: store.SortCreatedAt, Limit: store.MaxLimit, Offset: off})
		if err != nil {
			return err
		}
		out.Records = append(out.Records, p.Records...)
		if len(p.Records) < store.MaxLimit {
			break
		}
	}
	if out.LineConfigs, err = st.ListLineConfigs(ctx, store.LineConfigFilter{IncludeDeleted: true}); err != nil {
		return err
	}
	if out.Records == nil {
		out.Records = []store.Record{}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
