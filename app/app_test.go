package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/keychain"
)

// newCore opens a real encrypted store in a temp dir, its key in a key file
// (the kiosk source: the same code path as the keychain, without a session
// bus), and returns the started Core.
func newCore(t *testing.T) (*Core, string) {
	t.Helper()
	dir := t.TempDir()
	core := startCore(t, OpenOptions{DataDir: dir, KeyFile: filepath.Join(dir, "key")})
	if core.failure != nil {
		t.Fatalf("open: %+v", core.failure)
	}
	return core, dir
}

func startCore(t *testing.T, opts OpenOptions) *Core {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	core := NewCore("9.9.9-test", OpenLocal(opts))
	core.Start(ctx)
	t.Cleanup(func() {
		core.Shutdown()
		cancel()
	})
	select {
	case <-core.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("store did not open within 30s")
	}
	return core
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	var e Error
	if s, ok := FormatError(err).(string); !ok || json.Unmarshal([]byte(s), &e) != nil {
		t.Fatalf("FormatError(%v) = %#v, want the JSON of an *Error", err, FormatError(err))
	}
	return &e
}

func TestOpenLocal_NewDatabaseIsEncrypted(t *testing.T) {
	core, dir := newCore(t)
	st, err := NewStatusService(core).Get()
	if err != nil {
		t.Fatal(err)
	}
	if !st.StoreOpen || !st.Encrypted || st.CipherVersion == "" || st.Failure != nil {
		t.Fatalf("status = %+v, want open, encrypted, a cipher version", st)
	}
	if st.Version != "9.9.9-test" || st.Sync != SyncOffline {
		t.Fatalf("version %q sync %q", st.Version, st.Sync)
	}
	if !strings.Contains(st.KeySource, "key file") {
		t.Fatalf("key source %q", st.KeySource)
	}
	if _, err := NewRecordService(core).Create(RecordInput{LineID: "L1", ProductID: "SECRET-PRODUCT-42", Quantity: 5, OperatorID: "op"}); err != nil {
		t.Fatal(err)
	}
	core.Shutdown()
	raw, err := os.ReadFile(filepath.Join(dir, DBFileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(raw, []byte("SQLite format 3")) {
		t.Fatal("database file is plain SQLite")
	}
	if bytes.Contains(raw, []byte("SECRET-PRODUCT-42")) {
		t.Fatal("a field value is readable in the database file")
	}
}

func fileSum(t *testing.T, dir string) [32]byte {
	t.Helper()
	var all []byte
	for _, name := range []string{DBFileName, DBFileName + "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return sha256.Sum256(all)
}

func TestOpenLocal_FailuresNeverTouchTheDatabase(t *testing.T) {
	logs := captureLog(t)
	core, dir := newCore(t)
	if _, err := NewRecordService(core).Create(RecordInput{LineID: "L1", ProductID: "P", Quantity: 1, OperatorID: "op"}); err != nil {
		t.Fatal(err)
	}
	core.Shutdown()
	keyPath := filepath.Join(dir, "key")
	goodKey, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, dir)

	cases := []struct {
		name  string
		setup func(t *testing.T)
		code  string
	}{
		{"key missing", func(t *testing.T) { os.Remove(keyPath) }, "key_missing"},
		{"wrong key", func(t *testing.T) {
			k, _ := keychain.NewKey()
			if err := os.WriteFile(keyPath, []byte(keychain.EncodeKey(k)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "wrong_key"},
		{"key file readable by others", func(t *testing.T) {
			if runtime.GOOS == "windows" {
				t.Skip("Windows has ACLs, not modes: backend/keychain's TestKeyFileACL refuses a key file others may read")
			}
			if err := os.WriteFile(keyPath, goodKey, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(keyPath, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "key_file_insecure"},
		{"malformed key", func(t *testing.T) {
			os.Remove(keyPath)
			if err := os.WriteFile(keyPath, []byte("not hex"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "key_invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.setup(t)
			core := startCore(t, OpenOptions{DataDir: dir, KeyFile: keyPath})
			if core.failure == nil || core.failure.Code != c.code {
				t.Fatalf("failure = %+v, want code %s", core.failure, c.code)
			}
			if core.failure.Title == "" || core.failure.Message == "" || core.failure.Detail == "" {
				t.Fatalf("failure lacks a title, sentence or detail: %+v", core.failure)
			}
			st, err := NewStatusService(core).Get()
			if err != nil || st.StoreOpen || st.Failure == nil || st.Failure.Code != c.code {
				t.Fatalf("status = %+v, %v", st, err)
			}
			_, err = NewRecordService(core).List(RecordFilter{})
			if e := asError(t, err); e.Code != CodeStoreClosed || !strings.Contains(e.Message, core.failure.Title) {
				t.Fatalf("List error = %+v", e)
			}
			if fileSum(t, dir) != before {
				t.Fatal("the database changed")
			}
			// Invariant 4: neither key is shown or logged.
			tried, _ := os.ReadFile(keyPath)
			shown, _ := json.Marshal(st)
			for _, k := range []string{strings.TrimSpace(string(goodKey)), strings.TrimSpace(string(tried))} {
				if len(k) < 16 {
					continue // not a key ("not hex")
				}
				if strings.Contains(string(shown), k) || strings.Contains(logs.String(), k) {
					t.Fatalf("a database key is shown or logged: %s\n%s", shown, logs.String())
				}
			}
		})
	}

	// The right key opens it again with the record in it.
	os.Remove(keyPath)
	if err := os.WriteFile(keyPath, goodKey, 0o600); err != nil {
		t.Fatal(err)
	}
	core = startCore(t, OpenOptions{DataDir: dir, KeyFile: keyPath})
	p, err := NewRecordService(core).List(RecordFilter{})
	if err != nil || p.Total != 1 {
		t.Fatalf("reopen: %+v, %v", p, err)
	}
}

func TestOpenLocal_Keychain(t *testing.T) {
	// Windows (Credential Manager) and macOS (Keychain) need no session bus.
	if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" && os.Getenv("OUTPOST_REQUIRE_KEYCHAIN") == "" {
		t.Skip("no D-Bus session: run under .ci/with-session")
	}
	service := "Outpost-test-" + uuid.NewString()
	kc := keychain.Options{Service: service}
	t.Cleanup(func() { _ = keychain.New(kc).Delete(context.Background()) })
	dir := t.TempDir()
	core := startCore(t, OpenOptions{DataDir: dir, Keychain: kc})
	if core.failure != nil {
		t.Fatalf("open with the Secret Service: %+v", core.failure)
	}
	if !strings.Contains(core.opened.KeySource, service) {
		t.Fatalf("key source %q", core.opened.KeySource)
	}
	core.Shutdown()
	key, err := keychain.New(kc).Candidates(context.Background())
	if err != nil || len(key) != 1 || len(key[0]) != keychain.KeySize {
		t.Fatalf("keychain holds %d keys, %v", len(key), err)
	}
}

func TestRecordService_CRUD(t *testing.T) {
	core, _ := newCore(t)
	svc := NewRecordService(core)

	r, err := svc.Create(RecordInput{LineID: " L3 ", ProductID: "P-100\n", Quantity: 12, OperatorID: "op-7"})
	if err != nil {
		t.Fatal(err)
	}
	if r.LineID != "L3" || r.ProductID != "P-100" || !r.Pending || r.ID == "" {
		t.Fatalf("created %+v: want trimmed fields, pending", r)
	}
	r2, err := svc.Update(r.ID, RecordInput{LineID: "L3", ProductID: "P-100", Quantity: 15, OperatorID: "op-7"})
	if err != nil || r2.Quantity != 15 {
		t.Fatalf("update: %+v, %v", r2, err)
	}
	d, err := svc.Delete(r.ID)
	if err != nil || d.DeletedAt == nil {
		t.Fatalf("delete: %+v, %v", d, err)
	}
	if p, _ := svc.List(RecordFilter{}); p.Total != 0 {
		t.Fatalf("deleted record listed: %+v", p)
	}
	if _, err := svc.Update(r.ID, RecordInput{LineID: "L3", ProductID: "P", Quantity: 1, OperatorID: "op"}); asError(t, err).Code != "deleted" {
		t.Fatalf("edit of a deleted record: %v", err)
	}
	back, err := svc.Restore(r.ID)
	if err != nil || back.DeletedAt != nil || back.Quantity != 15 {
		t.Fatalf("restore: %+v, %v", back, err)
	}
	if _, err := svc.Get(uuid.NewString()); asError(t, err).Code != CodeNotFound {
		t.Fatalf("get unknown: %v", err)
	}
}

func TestRecordService_ValidationNamesTheField(t *testing.T) {
	core, _ := newCore(t)
	svc := NewRecordService(core)
	cases := []struct {
		in    RecordInput
		field string
		code  string
		label string
	}{
		{RecordInput{LineID: "", ProductID: "P", Quantity: 1, OperatorID: "op"}, "line_id", "missing_value", "Line"},
		{RecordInput{LineID: "L", ProductID: strings.Repeat("x", 129), Quantity: 1, OperatorID: "op"}, "product_id", "too_long", "Product"},
		{RecordInput{LineID: "L", ProductID: "P", Quantity: -1, OperatorID: "op"}, "quantity", "invalid_value", "Quantity"},
		{RecordInput{LineID: "L", ProductID: "P", Quantity: 1, OperatorID: "  "}, "operator_id", "missing_value", "Operator"},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			_, err := svc.Create(c.in)
			e := asError(t, err)
			if e.Field != c.field || e.Code != c.code {
				t.Fatalf("error = %+v, want field %s code %s", e, c.field, c.code)
			}
			if !strings.HasPrefix(e.Message, c.label) || !strings.HasSuffix(e.Message, ".") || strings.Contains(e.Message, c.field) {
				t.Fatalf("message %q is not a sentence about %s", e.Message, c.label)
			}
		})
	}
}

func TestRecordService_ListFiltersSortsPages(t *testing.T) {
	core, _ := newCore(t)
	svc := NewRecordService(core)
	for i := range 30 {
		line := []string{"L1", "L2", "L3"}[i%3]
		if _, err := svc.Create(RecordInput{LineID: line, ProductID: "P", Quantity: int64(i), OperatorID: "op"}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := svc.List(RecordFilter{LineID: "L2", Sort: SortQuantity, Desc: true, Limit: 4, Offset: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 10 || len(p.Records) != 4 || p.Offset != 2 {
		t.Fatalf("page: total %d, %d rows, offset %d", p.Total, len(p.Records), p.Offset)
	}
	for i, r := range p.Records {
		if r.LineID != "L2" {
			t.Fatalf("row %d line %s", i, r.LineID)
		}
		if i > 0 && r.Quantity > p.Records[i-1].Quantity {
			t.Fatalf("not sorted by quantity desc: %v", p.Records)
		}
	}
	if p.Records[0].Quantity != 22 { // L2 quantities 28,25,22,…; offset 2
		t.Fatalf("first row quantity %d, want 22", p.Records[0].Quantity)
	}
	future := time.Now().Add(time.Hour).UnixMilli()
	if p, err := svc.List(RecordFilter{From: future}); err != nil || p.Total != 0 || p.Records == nil {
		t.Fatalf("future range: %+v, %v (records must be [] not null)", p, err)
	}
	if _, err := svc.List(RecordFilter{Sort: "hlc"}); asError(t, err).Field != "sort" {
		t.Fatalf("unknown sort: %v", err)
	}
	if _, err := svc.List(RecordFilter{From: 10, To: 5}); asError(t, err).Field != "to" {
		t.Fatalf("reversed range: %v", err)
	}
}

func TestLineConfigService_CRUD(t *testing.T) {
	core, _ := newCore(t)
	svc := NewLineConfigService(core)
	rate, temp, blank := int64(1200), 182.5, "  "
	c, err := svc.Create(LineConfigInput{LineID: "L4", Recipe: "R-9", TargetRatePerHour: &rate, TemperatureC: &temp, Notes: &blank})
	if err != nil {
		t.Fatal(err)
	}
	if c.Notes != nil || c.SpeedRPM != nil || *c.TemperatureC != 182.5 || !c.Pending {
		t.Fatalf("created %+v", c)
	}
	notes := "check the seal"
	rpm := int64(90)
	c2, err := svc.Update(c.ID, LineConfigInput{LineID: "L4", Recipe: "R-10", SpeedRPM: &rpm, Notes: &notes})
	if err != nil || c2.Recipe != "R-10" || c2.TargetRatePerHour != nil || *c2.SpeedRPM != 90 || *c2.Notes != notes {
		t.Fatalf("update: %+v, %v", c2, err)
	}
	neg := int64(-5)
	_, err = svc.Update(c.ID, LineConfigInput{LineID: "L4", Recipe: "R-10", SpeedRPM: &neg})
	if e := asError(t, err); e.Field != "speed_rpm" || !strings.HasPrefix(e.Message, "Speed") {
		t.Fatalf("negative speed: %+v", e)
	}
	l, err := svc.List()
	if err != nil || len(l) != 1 {
		t.Fatalf("list: %v, %v", l, err)
	}
	if err := svc.Delete(c.ID); err != nil {
		t.Fatal(err)
	}
	if l, _ := svc.List(); len(l) != 0 || l == nil {
		t.Fatalf("after delete: %#v", l)
	}
	st, err := NewStatusService(core).Get()
	if err != nil || st.Counts.LineConfigs != 0 || st.Counts.Pending != 1 {
		t.Fatalf("status counts %+v, %v", st.Counts, err)
	}
}

func TestSchemaService_Fields(t *testing.T) {
	s := NewSchemaService()
	f := s.Fields("production_records")
	var cols []string
	for _, r := range f {
		cols = append(cols, r.Column)
	}
	if strings.Join(cols, ",") != "line_id,product_id,quantity,operator_id" {
		t.Fatalf("record fields %v", cols)
	}
	if f[2].Kind != "integer" || !f[2].HasRange || f[2].Max != 1_000_000_000 {
		t.Fatalf("quantity rule %+v", f[2])
	}
	lc := s.Fields("line_configs")
	if len(lc) != 6 || lc[3].Kind != "number" || lc[5].MaxLen != 4000 || lc[5].Required {
		t.Fatalf("line config rules %+v", lc)
	}
	if got := s.Fields("nope"); got == nil || len(got) != 0 {
		t.Fatalf("unknown table: %#v", got)
	}
}

func TestFormatError(t *testing.T) {
	if e := asError(t, context.DeadlineExceeded); e.Code != CodeTimeout {
		t.Fatalf("deadline: %+v", e)
	}
	e := asError(t, errors.New("disk I/O error at /secret/path"))
	if e.Code != CodeInternal || strings.Contains(e.Message, "/secret/path") {
		t.Fatalf("internal errors must not leak: %+v", e)
	}
	if e := asError(t, ErrNotFound); e.Code != ErrNotFound.Code || e.Message != ErrNotFound.Message || e.Field != "" || e.Params != nil {
		t.Fatalf("not found: %+v", e)
	}
}
