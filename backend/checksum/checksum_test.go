package checksum

import (
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// The vectors were computed apart from this code (Python's hashlib) from
// docs/design.md section 8's definitions.
func TestHash(t *testing.T) {
	for _, c := range []struct {
		table, id string
		version   int64
		want      string
	}{
		{"production_records", "0b7f3c2e-1d4a-4f6b-9c8d-7e6f5a4b3c2d", 1, "57969231b61adc40"},
		{"line_configs", "x", 9223372036854775807, "7d5f8963fdc96a40"},
		{"sync_conflicts", "é", 42, "088ce6376309539a"},
		{"", "", 0, "8bce48c578ed64b7"},
	} {
		if got := Hex(Hash(c.table, c.id, c.version)); got != c.want {
			t.Errorf("Hash(%q, %q, %d) = %s, want %s", c.table, c.id, c.version, got, c.want)
		}
	}
}

func TestBucket(t *testing.T) {
	reg := protocol.NewRegistry()
	for _, c := range []struct {
		name, table, id, data, want string
	}{
		{"hash bucket", "line_configs", "0b7f3c2e-1d4a-4f6b-9c8d-7e6f5a4b3c2d", `{}`, "line_configs:86"},
		{"conflicts are not partitioned", "sync_conflicts", "é", `{"created_at":0}`, "sync_conflicts:4a"},
		{"unknown table", "", "", `{}`, ":e3"},
		{"day bucket", "production_records", "x", `{"created_at":1764979199999}`, "production_records:2025-12-05"},
		{"day starts at UTC midnight", "production_records", "x", `{"created_at":1764979200000}`, "production_records:2025-12-06"},
		{"epoch", "production_records", "x", `{"created_at":0}`, "production_records:1970-01-01"},
		{"no created_at", "production_records", "x", `{"deleted_at":5}`, "production_records:1970-01-01"},
		{"created_at not an integer", "production_records", "x", `{"created_at":"soon"}`, "production_records:1970-01-01"},
		{"created_at before 1970", "production_records", "x", `{"created_at":-1}`, "production_records:1970-01-01"},
		{"created_at after 9999", "production_records", "x", `{"created_at":253402300800000}`, "production_records:1970-01-01"},
		{"last ms of 9999", "production_records", "x", `{"created_at":253402300799999}`, "production_records:9999-12-31"},
		{"not JSON", "production_records", "x", `{`, "production_records:1970-01-01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := RowBucket(reg, c.table, c.id, []byte(c.data)); got != c.want {
				t.Errorf("RowBucket = %q, want %q", got, c.want)
			}
		})
	}
}

func TestTableOf(t *testing.T) {
	reg := protocol.NewRegistry()
	for _, c := range []struct {
		bucket, table string
		ok            bool
	}{
		{"line_configs:86", "line_configs", true},
		{"sync_conflicts:00", "sync_conflicts", true},
		{"production_records:2025-12-05", "production_records", true},
		{"production_records:2025-02-30", "", false},
		{"production_records:86", "", false},
		{"line_configs:2025-12-05", "", false},
		{"line_configs:8F", "", false},
		{"line_configs:8", "", false},
		{"line_configs", "", false},
		{":00", "", false},
		{"", "", false},
	} {
		table, ok := TableOf(reg, c.bucket)
		if ok != c.ok || (ok && table != c.table) {
			t.Errorf("TableOf(%q) = %q, %v; want %q, %v", c.bucket, table, ok, c.table, c.ok)
		}
	}
}

func TestSum(t *testing.T) {
	var s Sum
	a, b := Hash("a", "1", 1), Hash("a", "2", 2)
	s.Add(a)
	s.Add(b)
	if got := s.Wire(); got != (Wire{Count: 2, Sum: "8eb1ab25aecfa1d4"}) {
		t.Fatalf("sum of two = %+v", got)
	}
	s.Sub(a)
	s.Sub(b)
	if s != (Sum{}) {
		t.Fatalf("adding and removing the same rows left %+v", s)
	}
	s.Sub(1) // wraps below zero, mod 2^64
	if Hex(s.Sum) != "ffffffffffffffff" {
		t.Fatalf("0 - 1 = %s", Hex(s.Sum))
	}
	if v, err := ParseHex("00000000000000ff"); err != nil || v != 255 {
		t.Fatalf("ParseHex = %d, %v", v, err)
	}
	for _, bad := range []string{"ff", "0000000000000g00", "+000000000000000"} {
		if _, err := ParseHex(bad); err == nil {
			t.Errorf("ParseHex(%q) accepted", bad)
		}
	}
}

func FuzzBucket(f *testing.F) {
	reg := protocol.NewRegistry()
	f.Add("production_records", "x", []byte(`{"created_at":-9223372036854775808}`), int64(1))
	f.Add("line_configs", "\xff", []byte(`{}`), int64(-1))
	f.Fuzz(func(t *testing.T, table, id string, data []byte, version int64) {
		b := RowBucket(reg, table, id, data)
		if _, ok := TableOf(reg, b); !ok && table != "" && !containsColon(table) {
			t.Fatalf("RowBucket(%q, %q) = %q, which TableOf refuses", table, id, b)
		}
		Hash(table, id, version)
		Bucket(table, id, true, version)
	})
}

func containsColon(s string) bool {
	for i := range len(s) {
		if s[i] == ':' {
			return true
		}
	}
	return false
}
