package conflict

import (
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"strconv"
)

// Equal reports whether a and b are the same column value.
//
// Strings compare byte for byte: no trimming, case folding or Unicode
// normalisation, so a hostile string is only ever equal to itself. Numbers
// compare by exact value whatever their Go type: int64(7) equals float64(7),
// but int64(1<<53+1) does not equal float64(1<<53), which is the nearest
// float. NaN equals NaN, so that every value equals itself. nil equals only
// nil; a string never equals a number.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		if y, ok := b.(int64); ok {
			return x == y
		}
	case float64:
		if y, ok := b.(float64); ok {
			return x == y || math.IsNaN(x) && math.IsNaN(y)
		}
	}
	if b == nil {
		return false
	}
	na, okA := toNum(a)
	nb, okB := toNum(b)
	if okA != okB {
		return false
	}
	if !okA {
		return reflect.DeepEqual(a, b)
	}
	if na.isNaN() || nb.isNaN() {
		return na.isNaN() && nb.isNaN()
	}
	c, _ := compareNums(na, nb)
	return c == 0
}

// Compare orders two numeric values exactly, whatever their Go types: it
// returns -1, 0 or +1, and ok false when either is not a number or is NaN.
func Compare(a, b any) (c int, ok bool) {
	na, okA := toNum(a)
	nb, okB := toNum(b)
	if !okA || !okB {
		return 0, false
	}
	return compareNums(na, nb)
}

type numKind int

const (
	numInt numKind = iota + 1
	numUint
	numFloat
)

// num is a number of any Go representation, kept exact.
type num struct {
	kind numKind
	i    int64
	u    uint64
	f    float64
}

func (n num) isNaN() bool { return n.kind == numFloat && math.IsNaN(n.f) }

func toNum(v any) (num, bool) {
	switch x := v.(type) {
	case int64:
		return num{kind: numInt, i: x}, true
	case int:
		return num{kind: numInt, i: int64(x)}, true
	case int32:
		return num{kind: numInt, i: int64(x)}, true
	case int16:
		return num{kind: numInt, i: int64(x)}, true
	case int8:
		return num{kind: numInt, i: int64(x)}, true
	case uint64:
		return num{kind: numUint, u: x}, true
	case uint:
		return num{kind: numUint, u: uint64(x)}, true
	case uint32:
		return num{kind: numUint, u: uint64(x)}, true
	case uint16:
		return num{kind: numUint, u: uint64(x)}, true
	case uint8:
		return num{kind: numUint, u: uint64(x)}, true
	case float64:
		return num{kind: numFloat, f: x}, true
	case float32:
		return num{kind: numFloat, f: float64(x)}, true
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return num{kind: numInt, i: i}, true
		}
		if u, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return num{kind: numUint, u: u}, true
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return num{kind: numFloat, f: f}, true
		}
	}
	return num{}, false
}

// compareNums orders a and b exactly; ok is false when either is NaN.
func compareNums(a, b num) (int, bool) {
	if a.isNaN() || b.isNaN() {
		return 0, false
	}
	switch {
	case a.kind == numInt && b.kind == numInt:
		return cmp3(a.i < b.i, a.i > b.i), true
	case a.kind == numUint && b.kind == numUint:
		return cmp3(a.u < b.u, a.u > b.u), true
	case a.kind == numFloat && b.kind == numFloat:
		return cmp3(a.f < b.f, a.f > b.f), true
	case a.kind == numInt && b.kind == numUint:
		if a.i < 0 {
			return -1, true
		}
		u := uint64(a.i)
		return cmp3(u < b.u, u > b.u), true
	case a.kind == numUint && b.kind == numInt:
		c, ok := compareNums(b, a)
		return -c, ok
	}
	// A float against an integer: compare exactly, since converting the
	// integer to float64 would round above 2^53.
	return a.big().Cmp(b.big()), true
}

func (n num) big() *big.Float {
	switch n.kind {
	case numInt:
		return new(big.Float).SetInt64(n.i)
	case numUint:
		return new(big.Float).SetUint64(n.u)
	}
	return new(big.Float).SetFloat64(n.f) // not NaN: checked by the caller
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}
