package conflict

import (
	"encoding/json"
	"math"
	"testing"
)

func TestEqual(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"nil nil", nil, nil, true},
		{"nil zero", nil, int64(0), false},
		{"nil empty string", nil, "", false},
		{"same string", "L1", "L1", true},
		{"strings verbatim: trailing space", "L1 ", "L1", false},
		{"strings verbatim: case", "Recipe", "recipe", false},
		{"strings verbatim: NFD vs NFC", "e\u0301", "\u00e9", false},
		{"strings verbatim: NUL", "a\x00b", "a", false},
		{"hostile string equals itself", "'; DROP TABLE t;--<script>\u202e", "'; DROP TABLE t;--<script>\u202e", true},
		{"string is not a number", "7", int64(7), false},
		{"int64", int64(7), int64(7), true},
		{"int64 differs", int64(7), int64(8), false},
		{"int64 vs float64", int64(7), float64(7), true},
		{"int64 vs fractional float", int64(7), 7.5, false},
		{"int vs int64", 7, int64(7), true},
		{"uint64 vs int64", uint64(7), int64(7), true},
		{"negative int vs uint", int64(-1), uint64(math.MaxUint64), false},
		{"above 2^53 exact", int64(1<<53 + 1), float64(1 << 53), false},
		{"2^53 exact", int64(1 << 53), float64(1 << 53), true},
		{"max int64 vs 2^63 float", int64(math.MaxInt64), float64(1 << 63), false},
		{"float32 vs float64", float32(0.5), 0.5, true},
		{"zero signs", 0.0, math.Copysign(0, -1), true},
		{"NaN equals NaN", nan, nan, true},
		{"NaN vs number", nan, int64(0), false},
		{"json.Number int", json.Number("42"), int64(42), true},
		{"json.Number float", json.Number("1.5"), 1.5, true},
		{"json.Number not a number", json.Number("x"), "x", false},
		{"bools", true, true, true},
		{"slices do not panic", []int{1}, []int{1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal(%#v, %#v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := Equal(tt.b, tt.a); got != tt.want {
				t.Errorf("Equal(%#v, %#v) = %v, want %v (swapped)", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name   string
		a, b   any
		want   int
		wantOK bool
	}{
		{"ints", int64(1), int64(2), -1, true},
		{"int vs float", int64(3), 2.5, 1, true},
		{"equal across types", int64(3), 3.0, 0, true},
		{"above 2^53", int64(1<<53 + 1), float64(1 << 53), 1, true},
		{"negative vs uint", int64(-1), uint64(0), -1, true},
		{"NaN", math.NaN(), 1.0, 0, false},
		{"string", "1", int64(1), 0, false},
		{"nil", nil, int64(1), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Compare(tt.a, tt.b)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Compare(%#v, %#v) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.wantOK)
			}
			got, ok = Compare(tt.b, tt.a)
			if got != -tt.want || ok != tt.wantOK {
				t.Errorf("Compare(%#v, %#v) = %d, %v; want %d, %v (swapped)", tt.b, tt.a, got, ok, -tt.want, tt.wantOK)
			}
		})
	}
}
