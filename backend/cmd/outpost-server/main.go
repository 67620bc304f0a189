// Command outpost-server is the Outpost sync server and its administration
// commands. See docs/protocol.md.
//
//	outpost-server serve  --listen 127.0.0.1:8787 --db sqlite:///var/lib/outpost/server.db
//	outpost-server enroll --db URL --site SITE --role operator|manager [--ttl 24h] [--uses 1]
//	outpost-server devices list   --db URL [--site SITE]
//	outpost-server devices revoke --db URL --device DEVICE_ID
//	outpost-server site import    --db URL --site SITE --table lines|products|people|site_settings --file F.csv|-
//	outpost-server restored --db URL   (after restoring the database from a backup)
//
// Every flag can also be set by an OUTPOST_* environment variable named
// after it (--max-body → OUTPOST_MAX_BODY); a flag on the command line wins.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/outpost-app/outpost/backend/internal/cli"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/pgstore"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
	"github.com/outpost-app/outpost/backend/server/uplink"
	"github.com/outpost-app/outpost/backend/syncclient"
)

var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  outpost-server serve  --listen ADDR --db URL [--tls-cert F --tls-key F] [--max-body 8MiB] [--metrics ADDR]
                        [--db-max-conns 10] [--db-statement-timeout 30s]   (URL: sqlite:///path or postgres://…)
                        [--upstream URL --upstream-code CODE]   (a site hub: docs/design.md section 9)
  outpost-server enroll --db URL --site SITE --role operator|manager|hub [--ttl 24h] [--uses 1]
  outpost-server devices list   --db URL [--site SITE]
  outpost-server devices revoke --db URL --device DEVICE_ID
  outpost-server site import    --db URL --site SITE --table lines|products|people|site_settings
                                --file F.csv|- [--dry-run]
  outpost-server checksums rebuild --db URL
                        recompute every site's checksums (docs/design.md section 8) from its rows
  outpost-server restored --db URL
                        run once after restoring the database from a backup, before serving:
                        gives it a new timeline, so devices re-check everything they hold
  outpost-server version
Every flag may also come from OUTPOST_<FLAG> (e.g. OUTPOST_DB, OUTPOST_LISTEN, OUTPOST_MAX_BODY).
`

// run executes one command and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr)
	case "enroll":
		err = enroll(args[1:], stdout)
	case "devices":
		if len(args) < 2 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		switch args[1] {
		case "list":
			err = devicesList(args[2:], stdout)
		case "revoke":
			err = devicesRevoke(args[2:], stdout)
		default:
			fmt.Fprint(stderr, usage)
			return 2
		}
	case "site":
		if len(args) < 2 || args[1] != "import" {
			fmt.Fprint(stderr, usage)
			return 2
		}
		err = siteImport(args[2:], stdout, stderr)
	case "checksums":
		if len(args) < 2 || args[1] != "rebuild" {
			fmt.Fprint(stderr, usage)
			return 2
		}
		err = checksumsRebuild(args[2:], stdout)
	case "restored":
		err = restored(args[1:], stdout)
	default:
		return cli.Builtin("outpost-server", version, usage, args[0], stdout, stderr)
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "outpost-server: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "outpost-server: %v\n", err)
		return 1
	}
}

type usageError struct{ error }

// parse parses flags, then fills the ones not given from OUTPOST_* variables.
func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		env := "OUTPOST_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = usageError{fmt.Errorf("%s=%q: %w", env, v, e)}
			}
		}
	})
	return err
}

// openStore opens the database named by url: sqlite:///abs/path, a plain
// path, or postgres:// (pg tunes its pool; see docs/postgres.md).
func openStore(ctx context.Context, url string, pg ...pgstore.Options) (server.Store, error) {
	switch {
	case url == "":
		return nil, usageError{errors.New("--db is required (for example --db sqlite:///var/lib/outpost/server.db)")}
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		var o pgstore.Options
		if len(pg) > 0 {
			o = pg[0]
		}
		st, err := pgstore.Open(ctx, url, o)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return st, nil
	}
	path := url
	if p, ok := strings.CutPrefix(url, "sqlite://"); ok {
		path = p
	} else if p, ok := strings.CutPrefix(url, "sqlite:"); ok {
		path = p
	}
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return st, nil
}

// withStore opens the database url names for an administration command,
// runs fn on it and closes it.
func withStore(url string, fn func(ctx context.Context, st server.Store) error) error {
	ctx := context.Background()
	st, err := openStore(ctx, url)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(ctx, st)
}

// byteSize is a flag value like 8MiB, 512KB or 1048576.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return errors.New("want a positive size such as 8MiB")
	}
	*b = byteSize(n * mult)
	return nil
}

func serve(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8787", "address to listen on")
	db := fs.String("db", "", "database URL: sqlite:///path or postgres://user@host/dbname")
	var pg pgstore.Options
	fs.Func("db-max-conns", "PostgreSQL connections of this process (default pool_max_conns in the URL, else 10)", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 32)
		pg.MaxConns = int32(n)
		if err != nil || n <= 0 {
			return errors.New("want a positive number")
		}
		return nil
	})
	fs.DurationVar(&pg.StatementTimeout, "db-statement-timeout", 0, "PostgreSQL statement timeout, site lock waits included (default 30s)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (PEM)")
	tlsKey := fs.String("tls-key", "", "TLS key file (PEM)")
	maxBody := byteSize(protocol.DefaultMaxBody)
	fs.Var(&maxBody, "max-body", "largest request body, decompressed")
	metricsAddr := fs.String("metrics", "", "address for Prometheus metrics (off when empty)")
	maxSkew := fs.Duration("max-skew", 5*time.Minute, "how far ahead of the server clock a pushed HLC may run")
	staleAfter := fs.Duration("stale-after", 90*24*time.Hour, "devices unseen this long do not hold back retention")
	retention := fs.Duration("retention", time.Hour, "interval of the retention purge (0 = never purge)")
	drain := fs.Duration("drain-timeout", 10*time.Second, "how long SIGTERM waits for requests in flight")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	upstream := fs.String("upstream", "", "central server's URL: serve as a site hub syncing with it (docs/design.md section 9)")
	upstreamCode := fs.String("upstream-code", "", "enrollment code made at central with --role hub (first start only)")
	upstreamEvery := fs.Duration("upstream-every", 10*time.Second, "interval of the hub's sync with central without news (site writes and central's events start one at once)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *upstreamCode != "" && *upstream == "" {
		return usageError{errors.New("--upstream-code needs --upstream")}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Errorf("--log-level: %w", err)}
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	st, err := openStore(ctx, *db, pg)
	if err != nil {
		return err
	}
	defer st.Close()

	var link *uplink.Link
	cfg := server.Config{Store: st, Logger: log, MaxBody: int64(maxBody), MaxSkew: *maxSkew}
	var id uplink.Identity
	if *upstream != "" {
		if id, err = hubIdentity(ctx, st, *upstream, *upstreamCode, log); err != nil {
			return err
		}
		// Set before the server listens: health and resolves ask the
		// link from then on.
		cfg.HubID, cfg.HubSite = id.Device, id.Site
		cfg.Upstream = func(ctx context.Context) *protocol.UpstreamHealth { return link.Health(ctx) }
		cfg.ForwardResolve = func(ctx context.Context, cid string, req protocol.ResolveRequest) (int64, error) {
			return link.ForwardResolve(ctx, cid, req)
		}
	}
	srv := server.New(cfg)
	defer srv.Close()
	if *upstream != "" {
		if link, err = startLink(ctx, srv, id, *upstreamEvery, log); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()

	var ms *http.Server
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			hs.Close()
			return fmt.Errorf("listen for metrics on %s: %w", *metricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", srv.MetricsHandler())
		ms = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- ms.Serve(mln) }()
		log.Info("metrics listening", "addr", mln.Addr().String())
	}
	go srv.RunRetention(ctx, *retention, server.Retention{StaleAfter: *staleAfter})
	log.Info("listening", "addr", ln.Addr().String(), "tls", *tlsCert != "", "version", version)

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
	}
	log.Info("shutting down", "drain_timeout", drain.String())
	srv.Close() // ends event streams first, so they do not hold the drain
	sctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("drain incomplete; closing connections", "err", err)
		hs.Close()
	}
	if ms != nil {
		ms.Shutdown(sctx)
	}
	log.Info("stopped")
	return nil
}

// hubIdentity returns the hub's enrollment at central: the one kept in its
// database, or a new one made with code (retried while central cannot be
// reached; a refused code ends the start).
func hubIdentity(ctx context.Context, st server.Store, url, code string, log *slog.Logger) (uplink.Identity, error) {
	id, err := uplink.LoadIdentity(ctx, st)
	if err == nil {
		if id.URL != url {
			log.Warn("--upstream differs from the central server this hub enrolled with; keeping the enrolled one", "enrolled", id.URL)
		}
		return id, nil
	}
	if !errors.Is(err, server.ErrNotFound) {
		return id, err
	}
	if code == "" {
		return id, usageError{errors.New("this hub has not enrolled at central yet: give --upstream-code (made at central with `outpost-server enroll --site S --role hub`)")}
	}
	host, _ := os.Hostname()
	for wait := time.Second; ; wait = min(2*wait, time.Minute) {
		id, err = uplink.Enroll(ctx, st, url, code, "hub "+host, syncclient.HTTPOptions{})
		if err == nil {
			log.Info("enrolled at central as a hub", "site", id.Site, "device", id.Device)
			return id, nil
		}
		if !errors.Is(err, syncclient.ErrOffline) {
			return id, err
		}
		log.Warn("central cannot be reached to enroll; retrying", "in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			return id, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// startLink runs the hub's link: on a first start it pulls the whole site
// from central before serving (logged), then syncs in the background.
func startLink(ctx context.Context, srv *server.Server, id uplink.Identity, every time.Duration, log *slog.Logger) (*uplink.Link, error) {
	local, cancel, ok := srv.Subscribe(ctx, id.Site)
	if !ok {
		return nil, errors.New("the server closed before the hub's link started")
	}
	link, err := uplink.New(uplink.Config{Engine: srv.Engine(), ID: id, Every: every, Log: log, Publish: srv.Publish, Wake: srv.Wake, Local: local})
	if err != nil {
		cancel()
		return nil, err
	}
	// A hub restored from a backup serves again only once central has
	// said which of its writes it holds (docs/design.md section 9).
	for wait := time.Second; ; wait = min(2*wait, time.Minute) {
		err := link.Recover(ctx)
		if err == nil {
			break
		}
		log.Warn("waiting for central before serving: this hub was restored from a backup", "in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			cancel()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	if cur, err := link.Cursor(ctx); err == nil && cur == 0 {
		log.Info("pulling the whole site from central before serving", "site", id.Site)
		if err := link.Once(ctx); err != nil {
			log.Warn("the first pull from central failed; serving the site's devices and retrying", "err", err)
		} else {
			log.Info("the site is pulled from central", "site", id.Site)
		}
	}
	go func() {
		defer cancel()
		link.Run(ctx)
	}()
	return link, nil
}

func enroll(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	db := fs.String("db", "", "database URL")
	site := fs.String("site", "", "site the device joins (created when unknown)")
	role := fs.String("role", "", "operator, manager or hub (a site hub's link, made at central)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the code stays valid")
	uses := fs.Int("uses", 1, "how many devices may enroll with the code")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *site == "" || *role == "" {
		return usageError{errors.New("enroll needs --site and --role")}
	}
	return withStore(*db, func(ctx context.Context, st server.Store) error {
		// A site hub's database enrolls its own site's terminals only.
		if id, err := uplink.LoadIdentity(ctx, st); err == nil {
			if *role == protocol.RoleHub {
				return usageError{errors.New("this is a site hub's database: hub codes are made at central")}
			}
			if *site != id.Site {
				return usageError{fmt.Errorf("this is the site hub of %q: it enrolls that site's terminals only (--site %q)", id.Site, id.Site)}
			}
		} else if !errors.Is(err, server.ErrNotFound) {
			return err
		}
		now := time.Now()
		code, err := server.CreateEnrollCode(ctx, st, *site, *role, *ttl, *uses, now)
		if errors.Is(err, server.ErrBadArgument) {
			return usageError{err}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Enrollment code for site %q, role %s, %d use(s), valid until %s:\n", *site, *role, *uses,
			now.Add(*ttl).UTC().Format(time.RFC3339))
		fmt.Fprintln(stdout, code)
		return nil
	})
}

func devicesList(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("devices list", flag.ContinueOnError)
	db := fs.String("db", "", "database URL")
	site := fs.String("site", "", "only this site's devices")
	if err := parse(fs, args); err != nil {
		return err
	}
	return withStore(*db, func(ctx context.Context, st server.Store) error {
		devs, err := st.ListDevices(ctx, *site)
		if err != nil {
			return fmt.Errorf("list devices: %w", err)
		}
		// BEHIND: the site's changes the device has not committed yet
		// (for a site hub, how far its site lags behind central).
		seqs := map[string]int64{}
		for _, d := range devs {
			if _, ok := seqs[d.SiteID]; !ok {
				ss, err := st.SiteState(ctx, d.SiteID)
				if err != nil {
					return fmt.Errorf("site state: %w", err)
				}
				seqs[d.SiteID] = ss.Seq
			}
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DEVICE_ID\tNAME\tSITE\tROLE\tPLATFORM\tLAST_SEEN\tCURSOR\tCOMMITTED\tVERIFIED\tVERIFIED_AT\tSTATUS\tBEHIND")
		for _, d := range devs {
			seen := "never"
			if d.LastSeen > 0 {
				seen = time.UnixMilli(d.LastSeen).UTC().Format(time.RFC3339)
			}
			status := "active"
			if d.RevokedAt != 0 {
				status = "revoked " + time.UnixMilli(d.RevokedAt).UTC().Format(time.RFC3339)
			}
			verified, verifiedAt := "never", "never"
			if d.Verified >= 0 {
				verified = strconv.FormatInt(d.Verified, 10)
				verifiedAt = time.UnixMilli(d.VerifiedAt).UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%d\n", d.ID, oneLine(d.Name), oneLine(d.SiteID), d.Role, oneLine(d.Platform), seen,
				d.Cursor, d.Committed, verified, verifiedAt, status, max(seqs[d.SiteID]-d.Committed, 0))
		}
		return tw.Flush()
	})
}

// oneLine keeps a device-supplied name from breaking the table.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func devicesRevoke(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("devices revoke", flag.ContinueOnError)
	db := fs.String("db", "", "database URL")
	id := fs.String("device", "", "id of the device to revoke")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return usageError{errors.New("devices revoke needs --device")}
	}
	return withStore(*db, func(ctx context.Context, st server.Store) error {
		if err := st.RevokeDevice(ctx, *id, time.Now().UnixMilli()); errors.Is(err, server.ErrNotFound) {
			return fmt.Errorf("no device %q", *id)
		} else if err != nil {
			return fmt.Errorf("revoke device: %w", err)
		}
		fmt.Fprintf(stdout, "revoked device %s; its requests are refused from now on\n", *id)
		// A site hub's open conflict records are central's from now on
		// (docs/design.md section 9): a manager at headquarters decides them.
		devs, err := st.ListDevices(ctx, "")
		if err != nil {
			return fmt.Errorf("list devices: %w", err)
		}
		for _, d := range devs {
			if d.ID != *id || d.Role != protocol.RoleHub {
				continue
			}
			eng := &server.Engine{Store: st, Registry: protocol.NewRegistry(), Now: time.Now}
			n, err := eng.HandOver(ctx, d)
			if err != nil {
				return fmt.Errorf("hand the hub's conflicts to central: %w", err)
			}
			fmt.Fprintf(stdout, "the hub's %d open conflict(s) are decided at central from now on\n", n)
		}
		return nil
	})
}

// restored marks the database as restored from a backup: a new timeline,
// every device's position forgotten (server.Restored). Devices learn of it
// from their next pull, push or resolve and recover by a full pass, so no
// device keeps rows the restore lost or skips the re-issued sequence
// numbers.
func restored(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("restored", flag.ContinueOnError)
	db := fs.String("db", "", "database URL of the restored database")
	if err := parse(fs, args); err != nil {
		return err
	}
	return withStore(*db, func(ctx context.Context, st server.Store) error {
		old, err := st.Timeline(ctx)
		if err != nil {
			return fmt.Errorf("read timeline: %w", err)
		}
		tl, err := server.Restored(ctx, st)
		if err != nil {
			return fmt.Errorf("mark restored: %w", err)
		}
		fmt.Fprintf(stdout, "timeline %s replaced by %s: devices will re-check everything they hold at their next sync\n", old, tl)
		return nil
	})
}

// checksumsRebuild recomputes every site's checksums from its rows, under
// every site's write lock (Store.RebuildChecksums): for a database whose
// sums are in doubt (written by hand, restored from parts). Running
// servers may stay up; their writes wait for it.
func checksumsRebuild(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("checksums rebuild", flag.ContinueOnError)
	db := fs.String("db", "", "database URL")
	if err := parse(fs, args); err != nil {
		return err
	}
	return withStore(*db, func(ctx context.Context, st server.Store) error {
		n, err := st.RebuildChecksums(ctx)
		if err != nil {
			return fmt.Errorf("rebuild checksums: %w", err)
		}
		fmt.Fprintf(stdout, "checksums rebuilt from %d live rows\n", n)
		return nil
	})
}
