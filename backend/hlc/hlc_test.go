package hlc

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := Timestamp{Wall: 1732540000000, Counter: 7, Node: "2b1f9a6e-0c1d-4e8f-9a7b-1c2d3e4f5a6b"}
	tests := []struct {
		name string
		in   string
		want *Timestamp
	}{
		{"valid", good.String(), &good},
		{"empty", "", nil},
		{"no node", "001732540000000-00007-", nil},
		{"short wall", "1732540000000-00007-dev", nil},
		{"letters in wall", "00173254000000x-00007-dev", nil},
		{"bad separator", "001732540000000_00007-dev", nil},
		{"space in node", "001732540000000-00007-de v", nil},
		{"sql in node", "001732540000000-00007-';drop", nil},
		{"node too long", "001732540000000-00007-" + strings.Repeat("a", 65), nil},
		{"node max length", "001732540000000-00007-" + strings.Repeat("a", 64), &Timestamp{1732540000000, 7, strings.Repeat("a", 64)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.want == nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse(%q) = %v, %v; want ErrInvalid", tc.in, got, err)
				}
				return
			}
			if err != nil || got != *tc.want {
				t.Fatalf("Parse(%q) = %v, %v; want %v", tc.in, got, err, *tc.want)
			}
			if got.String() != tc.in {
				t.Fatalf("round trip %q -> %q", tc.in, got.String())
			}
		})
	}
}

func TestClock_Monotonic(t *testing.T) {
	c := NewClock("dev-a", Timestamp{})
	prev := c.Now(1000)
	steps := []int64{1000, 1000, 999, 500, 1001, 1001, 2000, 1500}
	for _, now := range steps {
		next := c.Now(now)
		if !prev.Before(next) {
			t.Fatalf("Now(%d) = %v, not after %v", now, next, prev)
		}
		prev = next
	}
}

func TestClock_Observe(t *testing.T) {
	tests := []struct {
		name   string
		local  int64
		remote Timestamp
		now    int64
	}{
		{"remote ahead", 1000, Timestamp{5000, 3, "dev-b"}, 1000},
		{"remote same ms", 1000, Timestamp{1000, 9, "dev-b"}, 1000},
		{"remote behind", 9000, Timestamp{1000, 9, "dev-b"}, 9000},
		{"physical ahead of both", 1000, Timestamp{2000, 9, "dev-b"}, 7000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClock("dev-a", Timestamp{})
			c.Now(tc.local)
			c.Observe(tc.remote, tc.now)
			got := c.Now(tc.now)
			if !tc.remote.Before(got) {
				t.Fatalf("after observing %v, Now = %v does not order after it", tc.remote, got)
			}
			if got.Node != "dev-a" {
				t.Fatalf("node = %q", got.Node)
			}
		})
	}
}

func TestClock_CounterOverflow(t *testing.T) {
	c := NewClock("d", Timestamp{Wall: 10, Counter: maxCounter, Node: "d"})
	got := c.Now(10)
	if got.Wall != 11 || got.Counter != 0 {
		t.Fatalf("overflow: got %v", got)
	}
}

func TestClock_RestartStaysMonotonic(t *testing.T) {
	last := Timestamp{Wall: 5000, Counter: 2, Node: "d"}
	c := NewClock("d", last)
	if got := c.Now(100); !last.Before(got) {
		t.Fatalf("after restart with clock behind, Now = %v not after %v", got, last)
	}
}

func TestClock_SetNode(t *testing.T) {
	c := NewClock(Unenrolled, Timestamp{})
	a := c.Now(1)
	c.SetNode("device-1")
	b := c.Now(1)
	if a.Node != Unenrolled || b.Node != "device-1" || !a.Before(b) {
		t.Fatalf("a=%v b=%v", a, b)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("001732540000000-00007-dev")
	f.Add("")
	f.Add("999999999999999-99999-" + strings.Repeat("z", 64))
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := Parse(s)
		if err != nil {
			return
		}
		if ts.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, ts.String())
		}
	})
}

// FuzzOrder checks that string order and field order agree.
func FuzzOrder(f *testing.F) {
	f.Add(int64(1), 0, "a", int64(1), 1, "a")
	f.Add(int64(2), 0, "a", int64(1), 99999, "b")
	f.Fuzz(func(t *testing.T, w1 int64, c1 int, n1 string, w2 int64, c2 int, n2 string) {
		a := Timestamp{Wall: w1, Counter: c1, Node: n1}
		b := Timestamp{Wall: w2, Counter: c2, Node: n2}
		pa, err1 := Parse(a.String())
		pb, err2 := Parse(b.String())
		if err1 != nil || err2 != nil || pa != a || pb != b {
			return // out of range values are not HLCs
		}
		fieldLess := a.Wall < b.Wall || a.Wall == b.Wall && (a.Counter < b.Counter || a.Counter == b.Counter && a.Node < b.Node)
		if fieldLess != a.Before(b) {
			t.Fatalf("order mismatch %v %v", a, b)
		}
	})
}
