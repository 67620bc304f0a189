package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outpost-app/outpost/backend/keychain"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// Config is one simulation run.
type Config struct {
	// ServerURL is the server the devices talk to (a fault proxy in tests).
	ServerURL string
	// Code enrolls the operator devices (Devices-Managers uses);
	// ManagerCode the manager devices among them and the manager device
	// that settles conflicts (Managers+1 uses).
	Code, ManagerCode string
	Devices           int
	// Managers is how many of the Devices are manager devices: they edit
	// the site data (lines, products, people, settings) too. The others are
	// operator devices, whose attempts at site data the server refuses.
	Managers     int
	Edits        int
	OfflineRatio float64
	Seed         uint64
	// Duration spreads the edits over this time (0 = as fast as possible).
	Duration time.Duration
	// Dir holds the devices' databases and key files.
	Dir string
	// Transport, when set, carries every device's requests (tests).
	Transport http.RoundTripper
	// SyncEvery is how many edits a device makes between syncs while
	// online (default 10).
	SyncEvery int
	Logger    *slog.Logger
	// Progress, when set, receives one line per phase (the command: stderr).
	Progress io.Writer
	// AfterEnroll and BeforeSettle let tests act between the phases (turn
	// faults on and off, look at the devices).
	AfterEnroll, BeforeSettle func(devs []*device) error
	// ServerURLs, when set, are several server instances: device i talks
	// to ServerURLs[i % len] (ServerURL is then ignored).
	ServerURLs []string
	// Nemesis, when set, draws faults during the edit phase and judges the
	// run by its counters (nemesis.go).
	Nemesis *Nemesis
	// Hubs, when set, are the site's hubs (hubs.go): device i talks to
	// hub i%(len(Hubs)+1)-1, or to central when that is -1 (device 0, a
	// manager, among them; the settling manager is on central too), with
	// the hub's codes; each hub has a settling manager of its own.
	Hubs []*hub
}

// tier is where device i is enrolled: 0 central, h+1 hub h.
func (c Config) tier(i int) int {
	if len(c.Hubs) == 0 {
		return 0
	}
	return i % (len(c.Hubs) + 1)
}

// serverURL is the server instance device i talks to.
func (c Config) serverURL(i int) string {
	if t := c.tier(i); t > 0 {
		return c.Hubs[t-1].URL()
	}
	if len(c.ServerURLs) > 0 {
		return c.ServerURLs[i%len(c.ServerURLs)]
	}
	return c.ServerURL
}

// tally are the counters of a run that a soak's campaign adds up over its
// runs (in the same JSON fields, between Converged and Seconds of a
// Summary).
type tally struct {
	Lost       int `json:"lost"`
	Duplicated int `json:"duplicated"`
	// Diverged counts rows a device holds otherwise than the server
	// (field by field, version, hlc, state; open conflicts left on the
	// server count too); Resurrected rows a device holds live that the
	// server deleted or purged. A nemesis run adds DecisionsOverturned (a
	// manager's decision undone by anything but a later decision or an
	// edit made after it) and Stuck (devices not converged within the
	// settling rounds after the last fault).
	Diverged            int `json:"diverged"`
	DecisionsOverturned int `json:"decisions_overturned"`
	Resurrected         int `json:"resurrected"`
	Stuck               int `json:"stuck"`
	// Unverified counts devices not verified at the final cursor after
	// settling (docs/design.md section 8: every device proves it holds the
	// server's state). Corrupted are the rows the nemesis corrupted in the
	// devices' files, Unrepaired those a device did not bring back to the
	// server's state; Repairs the buckets the devices' verifications
	// repaired (issue 16).
	Unverified int `json:"unverified"`
	Corrupted  int `json:"corrupted"`
	Unrepaired int `json:"unrepaired"`
	Repairs    int `json:"repairs"`
	// OnSiteMissed counts the probes of a hub-cut fault (issue 19: "a
	// write on site reached every device on that site while the link was
	// down") that failed: a write on one device of a cut hub that another
	// device of the hub did not see after a sync, or that central held
	// while the link was down. OnSiteSeen counts those that passed.
	OnSiteMissed int `json:"onsite_missed"`
	OnSiteSeen   int `json:"onsite_seen"`
}

// add adds u's counters to t's.
func (t *tally) add(u tally) {
	t.Lost += u.Lost
	t.Duplicated += u.Duplicated
	t.Diverged += u.Diverged
	t.DecisionsOverturned += u.DecisionsOverturned
	t.Resurrected += u.Resurrected
	t.Stuck += u.Stuck
	t.Unverified += u.Unverified
	t.Corrupted += u.Corrupted
	t.Unrepaired += u.Unrepaired
	t.Repairs += u.Repairs
	t.OnSiteMissed += u.OnSiteMissed
	t.OnSiteSeen += u.OnSiteSeen
}

// Summary is the simulator's verdict, printed as JSON on the last line.
type Summary struct {
	Devices int `json:"devices"`
	// Hubs is the number of site hubs the run had (issue 19).
	Hubs       int `json:"hubs"`
	Edits      int `json:"edits"`
	Applied    int `json:"applied"`
	Merged     int `json:"merged"`
	Superseded int `json:"superseded"`
	Conflicts  int `json:"conflicts"`
	Rejected   int `json:"rejected"`
	// SiteEdits are the managers' edits of site data (part of Edits);
	// SiteRows the site data rows on the server at the end; SiteConflicts
	// the conflict records of site data rows on the server.
	SiteEdits     int `json:"site_edits"`
	SiteRows      int `json:"site_rows"`
	SiteConflicts int `json:"site_conflicts"`
	// ForbiddenEdits are the operator devices' local writes of site data;
	// Forbidden the rows the server refused with "forbidden" (each settled
	// by a discard). ForbiddenUnreported counts forced rows that were never
	// refused, ForbiddenApplied the server's versions written by an
	// operator device: both must be 0.
	ForbiddenEdits      int `json:"forbidden_edits"`
	Forbidden           int `json:"forbidden"`
	ForbiddenUnreported int `json:"forbidden_unreported"`
	ForbiddenApplied    int `json:"forbidden_applied"`
	// Refused counts record edits the store refused because a code is not
	// an active line or product of the device's lists (not edits);
	// CodeErrors the store's verdicts that disagreed with those lists.
	Refused    int  `json:"refused"`
	CodeErrors int  `json:"code_errors"`
	Converged  bool `json:"converged"`
	tally
	Seconds float64 `json:"seconds"`
	// Seed and Nemesis say how to replay a nemesis run.
	Seed    uint64        `json:"seed,omitempty"`
	Nemesis *NemesisStats `json:"nemesis,omitempty"`
	// server is the server's state the check read; retention says the
	// server purged history during the run (nemesis.go).
	server    map[string]map[string]protocol.PullChange
	retention bool
	// staleAfter is the server's --stale-after in a nemesis run; a batch
	// re-sent after it is applied again by design and counted in
	// ReappliedAfterStale, not in Duplicated.
	staleAfter          time.Duration
	ReappliedAfterStale int `json:"reapplied_after_stale,omitempty"`
	// SupersededBeforeRestore are last edits in no version and no conflict
	// record at the end that the server's history held, superseded by a
	// later version still on the server, just before a restore truncated
	// it (check.go, supersededBeforeRestore), or by a later version whose
	// device wrote the values that replaced the edit's again in a write
	// still on the server (rewrittenBeforeRestore), or, its version purged
	// before the restore, by a write the push ledger shows made on that
	// version or a later one and still on the server
	// (replacedBeforeRestore): not lost.
	SupersededBeforeRestore int `json:"superseded_before_restore,omitempty"`
	// PurgedFromHistory are last edits in no version and no conflict
	// record at the end that the server answered applied or merged at a
	// version retention purged since (check.go, ledger.go): not lost.
	PurgedFromHistory int `json:"purged_from_history,omitempty"`
	// MergedAtCentral are last edits of a hub's devices that central
	// merged with another writer's change under the edit's own stamp
	// (the hub had answered them applied): in a version, not whole.
	MergedAtCentral int `json:"merged_at_central,omitempty"`
	// ConcurrentDecisions are site managers' decisions central holds the
	// rejected value of because another tier's manager chose it at the
	// same time, before the hub had that decision (concurrentElsewhere).
	ConcurrentDecisions int `json:"concurrent_decisions,omitempty"`
	// CarriedThenPurged are last edits in no version and no conflict
	// record at the end that a manager's decision carried under its own
	// hlc, a later decision knowingly replaced, and retention purged
	// (check.go, carriedThenPurged): not lost, counted apart so that a
	// campaign shows how often this excuse decided a run.
	CarriedThenPurged int `json:"carried_then_purged,omitempty"`
	// DecidedBeforeRestore are last edits in no version and no conflict
	// record at the end that a manager's decision rejected between a
	// backup and its restore, which took the record back with the
	// decision (check.go, decidedBeforeRestore): settled, not lost.
	DecidedBeforeRestore int `json:"decided_before_restore,omitempty"`
	// ForbiddenMoot are operator writes of site data never refused whose
	// fields the server held anyway (check.go, forcedMoot): nothing to
	// refuse, nothing applied.
	ForbiddenMoot int `json:"forbidden_moot,omitempty"`
	// rewinds are the spans from each backup to its restore: a push sent
	// within one was answered by a history the restore took back.
	// progress, when set, gets the check's notes (-v).
	rewinds  [][2]time.Time
	progress io.Writer
	// hubs are the run's hubs; tiers the state the check read of each
	// tier (0 central, h+1 hub h) and cursors the cursor at its end.
	hubs    []*hub
	tiers   []map[string]map[string]protocol.PullChange
	cursors []int64
	// Mismatches describes the first differences found (empty when converged).
	Mismatches []string `json:"mismatches,omitempty"`
}

// OK reports whether the run passed: converged, nothing lost or duplicated,
// every forbidden write reported and none applied, the store's code checks
// as the lists say, every device verified at the final cursor and every
// corrupted row repaired.
func (s Summary) OK() bool {
	return s.Converged && s.Lost == 0 && s.Duplicated == 0 && s.ForbiddenUnreported == 0 && s.ForbiddenApplied == 0 && s.CodeErrors == 0 &&
		s.Diverged == 0 && s.DecisionsOverturned == 0 && s.Resurrected == 0 && s.Stuck == 0 &&
		s.Unverified == 0 && s.Unrepaired == 0 && s.OnSiteMissed == 0
}

// netSwitch is a RoundTripper a device can unplug. record, when set, gets
// the server's answers to the device's pushes (the push ledger, ledger.go).
type netSwitch struct {
	base    http.RoundTripper
	offline atomic.Bool
	record  func([]pushAnswer)
	// pulled, when set, gets the pages the device pulls while wantPull
	// says so (forced writes, ledger.go).
	pulled   func([]protocol.PullChange)
	wantPull func() bool
}

var errUnplugged = errors.New("simulated network outage")

func (n *netSwitch) RoundTrip(r *http.Request) (*http.Response, error) {
	if n.offline.Load() {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errUnplugged
	}
	sent := time.Now()
	resp, err := n.base.RoundTrip(r)
	if err == nil {
		observePush(r, resp, sent, n.record)
		observePull(r, resp, n.wantPull, n.pulled)
	}
	return resp, err
}

// edit is the last state a device gave some fields of a row.
type edit struct {
	table, id string
	fields    map[string]any
	// hlc is the edit's HLC where the simulator read it (records, line
	// configurations): the lost check of a run with retention needs it.
	hlc string
	// at is when the device made it (the lost mismatch prints it).
	at time.Time
}

// device is one simulated desktop: its own encrypted store (key from a key
// file in its directory) and sync client.
type device struct {
	idx int
	// tier is where the device is enrolled: 0 central, h+1 hub h;
	// hubManager marks a hub's settling manager, hubProbe a hub's probe
	// device (hubs.go): neither counts among the run's devices.
	tier                 int
	hubManager, hubProbe bool
	dir                  string
	manager              bool
	st                   *store.Store
	cl                   *syncclient.Client
	tokens               *syncclient.MemoryTokens
	net                  *netSwitch
	rng                  *rand.Rand

	mu        sync.Mutex
	last      map[string]edit // table/id → last edit of this device
	discarded map[string]bool
	report    syncclient.Report
	edits     int
	siteEdits int
	// forced are the site data rows this operator device wrote locally;
	// forbidden the rows the server refused with "forbidden".
	forced, forbidden map[string]bool
	// forcedFields are the fields of the last forced write of each row,
	// forcedAt when it was made; forcedMootSeen the rows a pull since then
	// showed the server holding those fields (notePulled).
	forcedFields   map[string]map[string]any
	forcedAt       map[string]time.Time
	forcedMootSeen map[string]bool
	// bases are the clean states site data rows were last edited from.
	bases       map[string]protocol.Row
	forcedEdits int
	refused     int
	codeErrors  []string
	codeErrorN  int

	// The nemesis's handles (nemesis.go): op is held by the device's
	// edit-and-sync steps and by a fault that replaces the device's
	// process (a crash, an upgrade), so the two never overlap; clock is the
	// device clock's offset from the real one (ms); opts and base reopen
	// the store and client the same way after a crash.
	op    sync.Mutex
	clock *atomic.Int64
	opts  deviceOptions
	base  http.RoundTripper
	log   *slog.Logger
	// cfgEdits are this device's edits of line configurations, field by
	// field (the decisions check reads them).
	cfgEdits []cfgEdit
	// deleteShare adds deletes of records to the mix, reviewShare is how
	// often a line configuration edit picks a row awaiting review (a
	// nemesis run sets both).
	deleteShare, reviewShare float64
	// settleFP are the device's fingerprints after each settling round.
	settleFP []string
	// decisions are the conflict decisions this (settling manager) device
	// made.
	decisions []decision
	// unknownDecisions are resolutions sent without an answer (the row
	// and when): applied or not, the ledger cannot say.
	unknownDecisions []decision
	// settleErr is the error of the device's last settling sync.
	settleErr error
	// deleted are the rows this device deleted (table/id).
	deleted map[string]bool
	// preRestore are the histories of the rows this device had edited,
	// read just before each restore, with the edit each row's last was
	// then (table/id; keepHistories).
	preRestore map[string][]preRestoreEdit
	// corrupted are the rows the nemesis corrupted in the device's file
	// (corrupt.go); repairs the buckets its verifications repaired.
	corrupted []corruptedRow
	repairs   int
	// lastSync is the report of the device's last sync; notes are what a
	// fault saw that explains a later mismatch (printed with them).
	lastSync syncclient.Report
	notes    []string
	// pushes are the server's answers to this device's pushes (table/id,
	// ledger.go); a crash child writes its own to pushLog instead.
	pushes  map[string][]pushAnswer
	pushLog io.Writer
}

// deviceOptions are the knobs a nemesis run turns on a device.
type deviceOptions struct {
	// BatchSize and PullLimit are the sync client's (0 = its defaults);
	// small pages make a pull from 0 a chain of pages, as on a large site.
	BatchSize, PullLimit int
}

// cfgEdit is one field of a line configuration a device set, when.
type cfgEdit struct {
	id, field string
	value     any
	// hlc is the row's hlc after the edit: the push that carries it (or a
	// later edit of the row) names it or a later one.
	hlc string
	at  time.Time
}

// openDevice opens (creating) the store of device idx in dir.
func openDevice(ctx context.Context, dir string, idx int, base http.RoundTripper, seed uint64, log *slog.Logger) (*device, error) {
	return openDeviceOpts(ctx, dir, idx, base, seed, log, deviceOptions{})
}

// openDeviceOpts opens device idx with the nemesis's knobs.
func openDeviceOpts(ctx context.Context, dir string, idx int, base http.RoundTripper, seed uint64, log *slog.Logger, opts deviceOptions) (*device, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	d := &device{idx: idx, dir: dir, tokens: &syncclient.MemoryTokens{}, net: &netSwitch{base: base},
		rng: rand.New(rand.NewPCG(seed, uint64(idx)+1)), last: map[string]edit{}, discarded: map[string]bool{},
		forced: map[string]bool{}, forbidden: map[string]bool{}, bases: map[string]protocol.Row{},
		clock: &atomic.Int64{}, opts: opts, base: base, log: log, deleted: map[string]bool{}}
	d.net.record = d.recordPushes
	d.net.wantPull, d.net.pulled = d.forcedOpen, d.notePulled
	if err := d.open(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// now is the device's clock: the real one moved by the nemesis's jumps.
func (d *device) now() time.Time {
	return time.Now().Add(time.Duration(d.clock.Load()) * time.Millisecond)
}

// key returns the device's database key from the key file in its directory
// (the simulator's stand-in for the OS keychain), creating it for a new
// database.
func deviceKey(ctx context.Context, dir string) ([]byte, error) {
	_, statErr := os.Stat(filepath.Join(dir, "outpost.db"))
	key, _, err := keychain.NewKeyFile(filepath.Join(dir, "outpost.key")).GetOrCreate(ctx, statErr == nil)
	return key, err
}

// open opens the device's store and a sync client on it (again after a
// crash: the credentials stay in d.tokens, as in the keychain).
func (d *device) open(ctx context.Context) error {
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return fmt.Errorf("device %d: %w", d.idx, err)
	}
	key, err := deviceKey(ctx, d.dir)
	if err != nil {
		return fmt.Errorf("device %d key: %w", d.idx, err)
	}
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(d.dir, "outpost.db"), Key: key, Synchronous: "NORMAL", CacheSizeKiB: 4096, ReadConns: 2,
		Now: func() int64 { return d.now().UnixMilli() }})
	if err != nil {
		return fmt.Errorf("device %d: %w", d.idx, err)
	}
	d.st = st
	d.cl = syncclient.New(syncclient.Options{Store: st, Tokens: d.tokens, HTTP: syncclient.HTTPOptions{Transport: d.net, Timeout: 30 * time.Second},
		DeviceName: fmt.Sprintf("sim-%d", d.idx), Platform: "sim", Logger: d.log, BatchSize: d.opts.BatchSize, PullLimit: d.opts.PullLimit,
		Now: d.now})
	return nil
}

func (d *device) close() { d.st.Close() }

// sync runs one push-then-pull and adds up its report.
func (d *device) sync(ctx context.Context) error {
	before := d.cl.Status(ctx).Verify.Repaired
	rep, err := d.cl.Sync(ctx)
	// A sync's report keeps the last pull's verification only; the status
	// counts every bucket repaired by this client.
	repaired := max(rep.Verify.Buckets, int(d.cl.Status(ctx).Verify.Repaired-before))
	d.mu.Lock()
	d.report.PushOutcome.Applied += rep.Applied
	d.report.Merged += rep.Merged
	d.report.Superseded += rep.Superseded
	d.report.Conflicts += rep.Conflicts
	d.report.Rejected += rep.Rejected
	d.report.Batches += rep.Batches
	d.report.Pulled += rep.Pulled
	d.repairs += repaired
	d.lastSync = rep
	d.mu.Unlock()
	return err
}

// rememberAt notes the device's last edit of a row, under the edit's HLC,
// for the end-of-run check (a delete also marks the row deleted).
func (d *device) rememberAt(table, id string, fields map[string]any, hlc string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last[table+"/"+id] = edit{table: table, id: id, fields: fields, hlc: hlc, at: time.Now()}
	d.edits++
	if fields["deleted_at"] != nil {
		d.deleted[table+"/"+id] = true
	}
}

var (
	lines    = []string{"L1", "L2", "L3", "L4"}
	products = []string{"P-100", "P-200", "P-300", `'"; DROP TABLE x;-- ü☃`, "=SUM(A1)"}
	recipes  = []string{"R-A", "R-B", "R-C", "R-D"}
)

// Shares of the edits: a manager device edits site data this often, an
// operator device tries to this often.
const (
	managerSiteShare  = 0.5
	operatorSiteShare = 0.06
)

// editOnce makes one random edit.
func (d *device) editOnce(ctx context.Context, configs []string) error {
	if d.manager && d.rng.Float64() < managerSiteShare {
		return d.editSite(ctx)
	}
	if !d.manager && d.rng.Float64() < operatorSiteShare {
		return d.forceSite(ctx)
	}
	r := d.rng.Float64()
	switch {
	case r < 0.45 || r < 0.75 && d.knownRecord(ctx) == "":
		return d.createRecord(ctx)
	case r < 0.72:
		id := d.knownRecord(ctx)
		cur, err := d.st.GetRecord(ctx, id)
		if err != nil {
			return err
		}
		if cur.DeletedAt != nil {
			return nil
		}
		line, product, refuse, err := d.recordCodes(ctx, &cur)
		if err != nil {
			return err
		}
		op, err := d.operatorID(ctx)
		if err != nil {
			return err
		}
		in := store.RecordInput{LineID: line, ProductID: product, Quantity: d.rng.Int64N(1000), OperatorID: op}
		rec, err := d.st.UpdateRecord(ctx, id, in)
		if errors.Is(err, store.ErrDeleted) {
			return nil
		}
		if handled, err := d.judgeCodes("an edited record", line, product, refuse, err); handled || err != nil {
			return err
		}
		d.rememberAt(protocol.TableProductionRecords, rec.ID, recordFields(rec), rec.HLC)
	case r < 0.75 || d.deleteShare > 0 && r < 0.75+d.deleteShare:
		id := d.knownRecord(ctx)
		if id == "" {
			return nil
		}
		rec, err := d.st.DeleteRecord(ctx, id)
		if err != nil {
			return err
		}
		d.rememberAt(protocol.TableProductionRecords, rec.ID, recordFields(rec), rec.HLC)
	default:
		if len(configs) == 0 {
			return nil
		}
		id := configs[d.rng.IntN(len(configs))]
		if d.reviewShare > 0 && d.rng.Float64() < d.reviewShare {
			// Re-edit a row awaiting review, as an operator does who
			// corrects something else on a line whose change a manager has
			// not decided yet (or has, unseen).
			states, err := d.st.RowStates(ctx, protocol.TableLineConfigs, configs)
			if err != nil {
				return err
			}
			for _, cid := range configs {
				if states[cid] == store.StateAwaitingReview {
					id = cid
					break
				}
			}
		}
		c, err := d.st.GetLineConfig(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil // not pulled yet
		}
		if err != nil {
			return err
		}
		in := store.LineConfigInput{LineID: c.LineID, Recipe: c.Recipe, TargetRatePerHour: c.TargetRatePerHour,
			TemperatureC: c.TemperatureC, SpeedRPM: c.SpeedRPM, Notes: c.Notes}
		var field string
		var val any
		switch d.rng.IntN(4) {
		case 0:
			in.Recipe = recipes[d.rng.IntN(len(recipes))]
			field, val = "recipe", in.Recipe
		case 1:
			n := int64(d.rng.IntN(5) * 100)
			in.TargetRatePerHour, field, val = &n, "target_rate_per_hour", n
		case 2:
			n := int64(d.rng.IntN(5) * 10)
			in.SpeedRPM, field, val = &n, "speed_rpm", n
		default:
			s := fmt.Sprintf("note %d from device %d", d.rng.IntN(3), d.idx)
			in.Notes, field, val = &s, "notes", s
		}
		saved, err := d.st.UpdateLineConfig(ctx, id, in)
		if err != nil {
			if errors.Is(err, store.ErrDeleted) {
				return nil
			}
			return err
		}
		d.rememberAt(protocol.TableLineConfigs, id, map[string]any{field: val}, saved.HLC)
		d.mu.Lock()
		d.cfgEdits = append(d.cfgEdits, cfgEdit{id: id, field: field, value: val, hlc: saved.HLC, at: time.Now()})
		d.mu.Unlock()
	}
	return nil
}

// createRecord writes a new production record.
func (d *device) createRecord(ctx context.Context) error {
	_, err := d.createRecordID(ctx)
	return err
}

// createRecordID writes a new production record and returns its id (""
// when the store refused its codes, as the lists said it would).
func (d *device) createRecordID(ctx context.Context) (string, error) {
	line, product, refuse, err := d.recordCodes(ctx, nil)
	if err != nil {
		return "", err
	}
	op, err := d.operatorID(ctx)
	if err != nil {
		return "", err
	}
	in := store.RecordInput{LineID: line, ProductID: product, Quantity: d.rng.Int64N(1000), OperatorID: op}
	rec, err := d.st.CreateRecord(ctx, in)
	if handled, err := d.judgeCodes("a new record", line, product, refuse, err); handled || err != nil {
		return "", err
	}
	d.rememberAt(protocol.TableProductionRecords, rec.ID, recordFields(rec), rec.HLC)
	return rec.ID, nil
}

// knownRecord picks a record of the local store at random ("" when empty).
func (d *device) knownRecord(ctx context.Context) string {
	page, err := d.st.ListRecords(ctx, store.RecordFilter{Limit: 1, Offset: 0})
	if err != nil || page.Total == 0 {
		return ""
	}
	page, err = d.st.ListRecords(ctx, store.RecordFilter{Limit: 1, Offset: d.rng.IntN(int(min(page.Total, 1<<30)))})
	if err != nil || len(page.Records) == 0 {
		return ""
	}
	return page.Records[0].ID
}

func recordFields(r store.Record) map[string]any {
	m := map[string]any{"line_id": r.LineID, "product_id": r.ProductID, "quantity": r.Quantity, "operator_id": r.OperatorID}
	if r.DeletedAt != nil {
		m["deleted_at"] = *r.DeletedAt
	} else {
		m["deleted_at"] = nil
	}
	return m
}

// Run runs a whole simulation against cfg.ServerURL.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	start := time.Now()
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	sum := Summary{Devices: cfg.Devices}
	phase := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "outpost-sim: %5.1fs "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
		}
	}
	devs := make([]*device, cfg.Devices)
	defer func() {
		for _, d := range devs {
			if d != nil {
				d.close()
			}
		}
	}()
	for i := range devs {
		d, err := cfg.newDevice(ctx, i, i < cfg.Managers)
		if err != nil {
			return sum, err
		}
		devs[i] = d
	}
	mgr, err := openDeviceOpts(ctx, filepath.Join(cfg.Dir, "manager"), cfg.Devices, cfg.Transport, cfg.Seed, cfg.Logger, cfg.deviceOptions())
	if err != nil {
		return sum, err
	}
	defer mgr.close()
	mgr.manager = true
	if _, err := mgr.cl.Enroll(ctx, cfg.serverURL(0), cfg.ManagerCode); err != nil {
		return sum, fmt.Errorf("enroll manager: %w", err)
	}

	// The site's first master data, and the shared line configurations
	// every device edits (both under the manual policy).
	if err := seedSiteData(ctx, mgr); err != nil {
		return sum, fmt.Errorf("seed site data: %w", err)
	}
	var configs []string
	for _, l := range lines {
		c, err := mgr.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: l, Recipe: "R-A"})
		if err != nil {
			return sum, err
		}
		configs = append(configs, c.ID)
	}
	if err := retry(ctx, 20, mgr.sync); err != nil {
		return sum, fmt.Errorf("manager's first sync: %w", err)
	}
	// Each hub's settling manager: it decides the conflicts its hub
	// judged, as a manager on site does; and its probe device.
	var hubMgrs []*device
	defer func() {
		for _, d := range hubMgrs {
			d.close()
		}
	}()
	for i, h := range cfg.Hubs {
		d, err := openDeviceOpts(ctx, filepath.Join(cfg.Dir, fmt.Sprintf("hub-%d-manager", i)), hubManagerIdx+i, cfg.Transport, cfg.Seed, cfg.Logger, cfg.deviceOptions())
		if err != nil {
			return sum, err
		}
		hubMgrs = append(hubMgrs, d)
		d.manager, d.hubManager, d.tier = true, true, i+1
		if err := retry(ctx, 20, func(ctx context.Context) error { _, err := d.cl.Enroll(ctx, h.URL(), h.managerCode); return err }); err != nil {
			return sum, fmt.Errorf("enroll hub %d's manager: %w", i, err)
		}
		h.mgr = d
		// And a device that writes only for the on-site probes
		// (probeOnSite), so that a probe never waits for a device busy
		// with its edits.
		pd, err := openDeviceOpts(ctx, filepath.Join(cfg.Dir, fmt.Sprintf("hub-%d-probe", i)), hubProbeIdx+i, cfg.Transport, cfg.Seed, cfg.Logger, cfg.deviceOptions())
		if err != nil {
			return sum, err
		}
		hubMgrs = append(hubMgrs, pd)
		pd.hubProbe, pd.tier = true, i+1
		if err := retry(ctx, 20, func(ctx context.Context) error { _, err := pd.cl.Enroll(ctx, h.URL(), h.code); return err }); err != nil {
			return sum, fmt.Errorf("enroll hub %d's probe device: %w", i, err)
		}
		if err := retry(ctx, 20, pd.sync); err != nil {
			return sum, fmt.Errorf("hub %d's probe device's first sync: %w", i, err)
		}
		h.probe = pd
	}

	phase("%d devices (%d of them managers) and the settling manager enrolled", cfg.Devices, cfg.Managers)
	if cfg.AfterEnroll != nil {
		if err := cfg.AfterEnroll(devs); err != nil {
			return sum, err
		}
	}
	// Edits, spread over the devices, with random outages.
	var wg sync.WaitGroup
	errs := make(chan error, len(devs)+64)
	startDevice := func(d *device, n int, cfg Config) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.run(ctx, n, cfg, configs); err != nil {
				errs <- fmt.Errorf("device %d: %w", d.idx, err)
			}
		}()
	}
	for i, d := range devs {
		n := cfg.Edits / cfg.Devices
		if i < cfg.Edits%cfg.Devices {
			n++
		}
		startDevice(d, n, cfg)
	}
	if cfg.Nemesis != nil {
		var nerr error
		devs, nerr = cfg.Nemesis.run(ctx, cfg, devs, mgr, startDevice)
		if nerr != nil {
			wg.Wait()
			return sum, nerr
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return sum, err
	}
	phase("%d edits made", cfg.Edits)
	// From here on the hubs' managers and probe devices are devices like
	// the others: they settle, and the check compares them with their hub.
	devs = append(devs, hubMgrs...)
	hubMgrs = nil
	if cfg.BeforeSettle != nil {
		if err := cfg.BeforeSettle(devs); err != nil {
			return sum, err
		}
	}
	if cfg.Nemesis != nil {
		if err := cfg.Nemesis.afterFaults(ctx); err != nil {
			return sum, err
		}
	}
	if err := settle(ctx, cfg, devs, mgr); err != nil {
		return sum, err
	}
	for _, d := range append(devs, mgr) {
		sum.Edits += d.edits
		sum.Applied += d.report.Applied
		sum.Merged += d.report.Merged
		sum.Superseded += d.report.Superseded
		sum.Conflicts += d.report.Conflicts
		sum.Rejected += d.report.Rejected
		sum.SiteEdits += d.siteEdits
		sum.ForbiddenEdits += d.forcedEdits
		sum.Forbidden += len(d.forbidden)
		sum.Refused += d.refused
		sum.CodeErrors += d.codeErrorN
		sum.Repairs += d.repairs
	}
	phase("settled: every device synced, conflicts resolved, quarantine cleared")
	sum.progress = cfg.Progress
	sum.hubs, sum.Hubs = cfg.Hubs, len(cfg.Hubs)
	if cfg.Nemesis != nil {
		sum.retention, sum.staleAfter = true, cfg.Nemesis.StaleAfter
		sum.rewinds = cfg.Nemesis.Cluster.rewindSpans()
	}
	if err := check(ctx, &sum, devs, mgr); err != nil {
		return sum, err
	}
	if cfg.Nemesis != nil {
		if err := cfg.Nemesis.judge(ctx, &sum, devs, mgr); err != nil {
			return sum, err
		}
	}
	sum.Seconds = float64(time.Since(start).Milliseconds()) / 1000
	return sum, nil
}

// hubManagerIdx is the index of hub 0's settling manager (hub h's is
// hubManagerIdx+h): far above the devices enrolled mid-run.
const hubManagerIdx = 10000

// hubProbeIdx is the index of hub 0's probe device (probeOnSite).
const hubProbeIdx = 20000

// deviceOptions are the knobs of the run's devices.
func (c Config) deviceOptions() deviceOptions {
	if c.Nemesis != nil {
		return c.Nemesis.Devices
	}
	return deviceOptions{}
}

// newDevice opens and enrolls device i (a manager device when manager).
func (c Config) newDevice(ctx context.Context, i int, manager bool) (*device, error) {
	d, err := openDeviceOpts(ctx, filepath.Join(c.Dir, fmt.Sprintf("device-%03d", i)), i, c.Transport, c.Seed, c.Logger, c.deviceOptions())
	if err != nil {
		return nil, err
	}
	if c.Nemesis != nil {
		d.deleteShare, d.reviewShare = 0.05, 0.4
	}
	code, role := c.Code, protocol.RoleOperator
	if manager {
		d.manager, code, role = true, c.ManagerCode, protocol.RoleManager
	}
	if d.tier = c.tier(i); d.tier > 0 {
		code = c.Hubs[d.tier-1].code
		if manager {
			code = c.Hubs[d.tier-1].managerCode
		}
	}
	var cr syncclient.Credentials
	tries := 1
	if c.Nemesis != nil {
		tries = 30 // a device enrolling mid-run may meet a server that is down
	}
	err = retry(ctx, tries, func(ctx context.Context) error {
		var err error
		cr, err = d.cl.Enroll(ctx, c.serverURL(i), code)
		return err
	})
	if err != nil {
		d.close()
		return nil, fmt.Errorf("enroll device %d: %w", i, err)
	}
	if cr.Role != role {
		d.close()
		return nil, fmt.Errorf("device %d enrolled as %s, want %s: check the enrollment codes", i, cr.Role, role)
	}
	return d, nil
}

// run makes n edits, syncing every cfg.SyncEvery edits while online.
func (d *device) run(ctx context.Context, n int, cfg Config, configs []string) error {
	var pace time.Duration
	if cfg.Duration > 0 && n > 0 {
		pace = cfg.Duration / time.Duration(n)
	}
	if err := retry(ctx, 5, d.sync); err != nil && !errors.Is(err, syncclient.ErrOffline) && cfg.Nemesis == nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := d.step(ctx, i, cfg, configs); err != nil {
			return err
		}
		if pace > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pace):
			}
		}
	}
	d.net.offline.Store(false)
	return nil
}

// step makes edit i, and syncs every cfg.SyncEvery edits while online;
// a crash or an upgrade of the device waits for it, and it for them.
func (d *device) step(ctx context.Context, i int, cfg Config, configs []string) error {
	d.op.Lock()
	defer d.op.Unlock()
	if i%cfg.SyncEvery == 0 {
		d.net.offline.Store(d.rng.Float64() < cfg.OfflineRatio)
	}
	if err := d.editOnce(ctx, configs); err != nil {
		return err
	}
	if (i+1)%cfg.SyncEvery == 0 && !d.net.offline.Load() {
		// Under the nemesis a failing sync is what the app shows and
		// outlives (the settling rounds judge the device).
		if err := d.sync(ctx); err != nil && syncclient.Decide(err) == syncclient.ActStop && cfg.Nemesis == nil {
			return err
		}
	}
	return nil
}

// retry runs fn until it succeeds, tries times at most, backing off a
// little: the network may be faulty on purpose.
func retry(ctx context.Context, tries int, fn func(context.Context) error) error {
	var err error
	for i := 0; i < tries; i++ {
		if err = fn(ctx); err == nil || syncclient.Decide(err) == syncclient.ActStop {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(syncclient.Backoff(i, 50*time.Millisecond, 2*time.Second, 0.5)):
		}
	}
	return err
}
