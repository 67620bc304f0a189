package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// hostile are strings that encoding/json escapes in every way it can.
var hostile = []string{
	"", "plain", `"quoted"`, `back\slash`, "<script>alert(1)</script>", "a&b", "tab\there",
	"nl\nline", "cr\r", "\b\f", "\x00\x01\x1f\x7f", "\u2028\u2029", "é ü 漢字 🎉", "\xff\xfe invalid",
	"\xc3", "\xe2\x80", "\xed\xa0\x80 surrogate", "'; DROP TABLE rows; --", "=cmd|' /C calc'!A0",
	"\ufeffbom", "\u0085 nel", "\\u0000", "}{\"],[", strings.Repeat("x", 4000), strings.Repeat("漢", 1000),
}

var floats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 1.5, 1e-6, 9.99999e-7, 1e-7, 1e20, 1e21, 1e21 - 65536, 123456789.123,
	math.MaxFloat64, math.SmallestNonzeroFloat64, -math.MaxFloat64, 1e-300, 5e-324, 2.5e-10, 21.5, 1e100,
	float64(1 << 53), float64(1<<53) + 2, -273.15,
}

var ints = []int64{0, 1, -1, 42, math.MaxInt64, math.MinInt64, 1_000_000_000, 253402300799999, -253402300799999}

func randString(r *rand.Rand) string {
	switch r.Intn(4) {
	case 0:
		return hostile[r.Intn(len(hostile))]
	case 1: // random bytes, valid UTF-8 or not
		b := make([]byte, r.Intn(20))
		for i := range b {
			b[i] = byte(r.Intn(256))
		}
		return string(b)
	case 2: // random runes
		var sb strings.Builder
		for n := r.Intn(12); n > 0; n-- {
			sb.WriteRune(rune(r.Intn(0x110000)))
		}
		return sb.String()
	}
	return fmt.Sprintf("L%d", r.Intn(1000))
}

func randValue(r *rand.Rand) any {
	switch r.Intn(7) {
	case 0:
		return nil
	case 1, 2:
		return randString(r)
	case 3:
		if r.Intn(2) == 0 {
			return ints[r.Intn(len(ints))]
		}
		return r.Int63() - r.Int63()
	case 4:
		if r.Intn(2) == 0 {
			return floats[r.Intn(len(floats))]
		}
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0.5
		}
		return f
	case 5:
		return r.Intn(2) == 0
	}
	return r.NormFloat64() * math.Pow(10, float64(r.Intn(40)-20))
}

// TestEncodeRowEqualsMarshal: the stored bytes are json.Marshal's, byte for
// byte, for every table and every kind of value.
func TestEncodeRowEqualsMarshal(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	reg := protocol.NewRegistry()
	n := 0
	for _, tab := range reg.Tables() {
		for i := 0; i < 20000; i++ {
			row := protocol.Row{}
			for _, c := range tab.Columns {
				if r.Intn(8) == 0 {
					continue // absent
				}
				row[c.Name] = randValue(r)
			}
			check(t, tab, row)
			n++
		}
		// Every hostile string, float and int in every column.
		for _, c := range tab.Columns {
			for _, s := range hostile {
				check(t, tab, protocol.Row{c.Name: s, "id": "x"})
			}
			for _, f := range floats {
				check(t, tab, protocol.Row{c.Name: f})
			}
			for _, i := range ints {
				check(t, tab, protocol.Row{c.Name: i})
			}
		}
		// Not handled by the fast path, still equal (json.Marshal's).
		check(t, tab, protocol.Row{"id": "x", "not_a_column": 1.5})
		check(t, tab, protocol.Row{"id": json.Number("12")})
		check(t, tab, protocol.Row{"id": 7, "line_id": int32(3)})
		check(t, tab, protocol.Row{"id": math.NaN()})
		check(t, tab, protocol.Row{"id": math.Inf(1)})
		check(t, tab, protocol.Row{})
		check(t, tab, nil)
	}
	// Every single rune and byte.
	tab, _ := reg.Lookup(protocol.TableLineConfigs)
	for c := rune(0); c < 0x110000; c += 1 + rune(r.Intn(3)) {
		check(t, tab, protocol.Row{"notes": string(c)})
	}
	for b := 0; b < 256; b++ {
		check(t, tab, protocol.Row{"notes": string([]byte{byte(b)}), "recipe": "a" + string([]byte{byte(b), 'z'})})
	}
	// A table whose columns are not declared in sorted order, with a
	// column name that needs escaping.
	odd := protocol.Table{Name: "odd", Columns: []protocol.Column{{Name: "zeta"}, {Name: "<a&b>"}, {Name: "Alpha"}, {Name: "alpha"}, {Name: "é"}}}
	for i := 0; i < 2000; i++ {
		row := protocol.Row{}
		for _, c := range odd.Columns {
			if r.Intn(3) > 0 {
				row[c.Name] = randValue(r)
			}
		}
		check(t, odd, row)
	}
	t.Logf("%d random rows", n)
}

func check(t *testing.T, tab protocol.Table, row protocol.Row) {
	t.Helper()
	want, _ := json.Marshal(row)
	if got := encodeRow(tab, row); !bytes.Equal(got, want) {
		t.Fatalf("%s: encodeRow(%#v)\n got %q\nwant %q", tab.Name, row, got, want)
	}
}

func FuzzEncodeRow(f *testing.F) {
	f.Add("x", "<&>", 1.5, int64(3), true)
	f.Add("\xff", "\u2028", 1e21, int64(-1), false)
	tab, _ := protocol.NewRegistry().Lookup(protocol.TableLineConfigs)
	f.Fuzz(func(t *testing.T, s1, s2 string, fl float64, i int64, null bool) {
		row := protocol.Row{"id": s1, "notes": s2, "temperature_c": fl, "speed_rpm": i, "recipe": nil}
		if null {
			row["notes"] = nil
		}
		check(t, tab, row)
	})
}

// slowChange is what prepare computed before fastChange: decodeChange, then
// protocol.DecodeRow of the row.
func slowChange(raw []byte) (change, map[string]any, rowKind, *protocol.PushResult) {
	c, rej := decodeChange(raw)
	if rej != nil {
		return c, nil, 0, rej
	}
	if c.Row == nil {
		return c, nil, rowAbsent, nil
	}
	m, err := protocol.DecodeRow(c.Row)
	if err != nil {
		return c, nil, rowNotObject, nil
	}
	return c, m, rowObject, nil
}

// compareChange fails when fastChange accepts raw and answers differently
// from slowChange. It reports whether the fast path accepted.
func compareChange(t *testing.T, raw []byte) bool {
	t.Helper()
	c, row, kind, ok := fastChange(raw)
	if !ok {
		return false
	}
	if !json.Valid(raw) {
		t.Fatalf("fast path accepted invalid JSON %q", raw)
	}
	sc, srow, skind, rej := slowChange(raw)
	if rej != nil {
		t.Fatalf("fast path accepted %q, decodeChange rejected it: %+v", raw, rej)
	}
	if !bytes.Equal(c.Row, sc.Row) || (c.Row == nil) != (sc.Row == nil) {
		t.Fatalf("row of %q: fast %q, slow %q", raw, c.Row, sc.Row)
	}
	c.Row, sc.Row = nil, nil
	if !reflect.DeepEqual(c, sc) {
		t.Fatalf("change %q: fast %+v, slow %+v", raw, c, sc)
	}
	if kind != skind || !reflect.DeepEqual(row, srow) {
		t.Fatalf("row of %q: fast %d %#v, slow %d %#v", raw, kind, row, skind, srow)
	}
	return true
}

var changeSeeds = []string{
	`{"table":"production_records","id":"8f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a","op":"upsert","base_version":0,"hlc":"001700000000000-00000-d","row":{"id":"8f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a","line_id":"L","product_id":"P","quantity":1,"operator_id":"o","created_at":1,"updated_at":2}}`,
	` { "table" : "t" , "id":null, "op":"delete", "base_version" : null , "hlc" : "h", "row" : null } `,
	`{"table":"t","row":{}}`, `{}`, `{"row":5}`, `{"row":"x"}`, `{"row":true}`, `{"row":[]}`, `{"row":{"a":[1]}}`,
	`{"row":{"a":{"b":1}}}`, `{"table":1}`, `{"id":true}`, `{"op":{}}`, `{"hlc":5}`, `{"base_version":-1}`,
	`{"base_version":1.0}`, `{"base_version":1e3}`, `{"base_version":"5"}`, `{"base_version":9223372036854775808}`,
	`{"base_version":-0}`, `{"base_version":007}`, `{"table":"a","table":"b"}`, `{"table":"a","table":null}`,
	`{"row":{"a":1},"row":null}`, `{"row":null,"row":{"a":1}}`, `{"row":{"a":1},"row":7}`,
	`{"t\u0061ble":"x","\u0069d":"y"}`, `{"Table":"x","ID":"y","ROW":{"a":1}}`, `{"table":"a\"b\\c\u0000\ud800\u00e9"}`,
	"{\"table\":\"\xff\xfe\"}", "{\"row\":{\"\xff\":\"\xc3\",\"k\\n\":\"v\\u2028\"}}", `{"row":{"a":1,"a":2,"a":null}}`,
	`{"row":{"q":-0.0e+5,"r":1E-7,"s":123456789012345678901234567890,"t":false,"u":null}}`,
	`{"x":{"y":1},"table":"t"}`, `{"x":[1,2],"table":"t"}`, `{"x":1,"table":"t"}`, `{"x":"y"}`,
	`null`, `[]`, `5`, `"x"`, `{"table":"t"} x`, `{"table":"t",}`, `{"table" "t"}`, `{"table":"t"`, `{"row":{"a":01}}`,
	`{"row":{"a":1.}}`, `{"row":{"a":.5}}`, `{"row":{"a":-}}`, `{"row":{"a":1e}}`, `{"row":{"a":tru}}`, `{"row":{"a":nul}}`,
	"{\"table\":\"a\tb\"}", `{"table":"\x"}`, `{"table":"\u12"}`, `{"row":{"a":"\uD834\uDD1E"}}`, "\ufeff{}",
	`{"row":{"a":1}  ,  "table"  :  "t"  }`, "{\n\t\"row\"\r:\n{\n\"a\"\t:\n1\n}\n}\n",
}

func TestFastChangeMatchesDecodeChange(t *testing.T) {
	accepted := 0
	for _, s := range changeSeeds {
		if compareChange(t, []byte(s)) {
			accepted++
		}
	}
	// Random mutations of the seeds.
	r := rand.New(rand.NewSource(2))
	alphabet := []byte(`{}[]":,\ 0123456789.-+eEtrufalsn` + "\t\n\x00\xff")
	for i := 0; i < 200000; i++ {
		b := []byte(changeSeeds[r.Intn(len(changeSeeds))])
		for n := r.Intn(4); n >= 0; n-- {
			p := r.Intn(len(b) + 1)
			switch r.Intn(3) {
			case 0:
				b = append(b[:p], append([]byte{alphabet[r.Intn(len(alphabet))]}, b[p:]...)...)
			case 1:
				if p < len(b) {
					b = append(b[:p], b[p+1:]...)
				}
			case 2:
				if p < len(b) {
					b[p] = alphabet[r.Intn(len(alphabet))]
				}
			}
		}
		if compareChange(t, b) {
			accepted++
		}
	}
	t.Logf("fast path took %d inputs", accepted)
	if !compareChange(t, []byte(changeSeeds[0])) {
		t.Fatal("the fast path refused a plain change")
	}
}

func FuzzFastChange(f *testing.F) {
	for _, s := range changeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		compareChange(t, raw)
	})
}

// TestDecodeRowFastPath: decodeRow gives the same row with and without the
// fast path, for stored rows and odd inputs.
func TestDecodeRowFastPath(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	reg := protocol.NewRegistry()
	slow := func(data []byte) (map[string]any, error) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var m map[string]any
		err := dec.Decode(&m)
		return m, err
	}
	for _, tab := range reg.Tables() {
		for i := 0; i < 5000; i++ {
			row := protocol.Row{}
			for _, c := range tab.Columns {
				if r.Intn(6) > 0 {
					row[c.Name] = randValue(r)
				}
			}
			data := encodeRow(tab, row)
			m, ok := fastObject(data)
			if !ok {
				t.Fatalf("fast path refused a stored row %q", data)
			}
			want, err := slow(data)
			if err != nil || !reflect.DeepEqual(m, want) {
				t.Fatalf("%q: fast %#v, slow %#v (%v)", data, m, want, err)
			}
		}
	}
	for _, s := range append(changeSeeds, `{"a":1} {"b":2}`, `{"a":1} x`, `null`, ` {"a":"\u00e9"} `) {
		m, ok := fastObject([]byte(s))
		if !ok {
			continue
		}
		want, err := slow([]byte(s))
		if err != nil || !reflect.DeepEqual(m, want) || !json.Valid([]byte(s)) {
			t.Fatalf("%q: fast %#v, slow %#v (%v)", s, m, want, err)
		}
	}
}
