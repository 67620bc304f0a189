// Package hlc implements the hybrid logical clock of docs/design.md section 5:
// (physical ms, logical counter, device id), encoded so that string order is
// clock order. The package reads no clock: callers pass physical time in.
package hlc

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
)

// Unenrolled is the node id of edits made before the device enrolled; the
// client re-stamps such pending edits with its device id on enrollment.
const Unenrolled = "00000000-0000-0000-0000-000000000000"

const (
	wallDigits    = 15
	counterDigits = 5
	maxCounter    = 99999
	maxNodeLen    = 64
	maxWall       = 999_999_999_999_999
)

// ErrInvalid is returned (wrapped) for a string that is not an HLC.
var ErrInvalid = errors.New("invalid hlc")

// Timestamp is one hybrid logical clock reading.
type Timestamp struct {
	Wall    int64  // physical milliseconds since the Unix epoch
	Counter int    // logical counter within one millisecond, 0–99999
	Node    string // device id; breaks ties
}

// String encodes t as "%015d-%05d-%s"; string order is HLC order.
func (t Timestamp) String() string {
	return fmt.Sprintf("%015d-%05d-%s", t.Wall, t.Counter, t.Node)
}

// IsZero reports whether t is the zero Timestamp.
func (t Timestamp) IsZero() bool { return t.Wall == 0 && t.Counter == 0 && t.Node == "" }

// Before reports whether t orders before u.
func (t Timestamp) Before(u Timestamp) bool { return t.String() < u.String() }

// Parse decodes an HLC string, strictly: 15 digits, '-', 5 digits, '-', and a
// node id of 1–64 characters from [0-9A-Za-z_-].
func Parse(s string) (Timestamp, error) {
	if len(s) < wallDigits+counterDigits+3 || len(s) > wallDigits+counterDigits+2+maxNodeLen {
		return Timestamp{}, fmt.Errorf("%w: %q has the wrong length", ErrInvalid, clip(s))
	}
	if s[wallDigits] != '-' || s[wallDigits+1+counterDigits] != '-' {
		return Timestamp{}, fmt.Errorf("%w: %q is not ms-counter-device", ErrInvalid, clip(s))
	}
	wallS, counterS, node := s[:wallDigits], s[wallDigits+1:wallDigits+1+counterDigits], s[wallDigits+2+counterDigits:]
	if !digits(wallS) || !digits(counterS) {
		return Timestamp{}, fmt.Errorf("%w: %q has non-digits in its time", ErrInvalid, clip(s))
	}
	for i := 0; i < len(node); i++ {
		c := node[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return Timestamp{}, fmt.Errorf("%w: %q has a bad device id", ErrInvalid, clip(s))
		}
	}
	wall, _ := strconv.ParseInt(wallS, 10, 64)
	counter, _ := strconv.Atoi(counterS)
	return Timestamp{Wall: wall, Counter: counter, Node: node}, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 90 {
		return s[:90] + "…"
	}
	return s
}

// Clock issues monotonically increasing timestamps for one node. It is safe
// for concurrent use.
type Clock struct {
	mu   sync.Mutex
	last Timestamp
	node string
}

// NewClock returns a clock for node that never issues a timestamp at or
// before last (restore last from storage so restarts stay monotonic).
func NewClock(node string, last Timestamp) *Clock {
	return &Clock{node: node, last: last}
}

// Node returns the clock's node id.
func (c *Clock) Node() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.node
}

// SetNode changes the node id of future timestamps (on enrollment).
func (c *Clock) SetNode(node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.node = node
}

// Last returns the latest timestamp issued or observed.
func (c *Clock) Last() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Now returns a timestamp for a local event at physical time now (ms,
// already corrected by the measured server offset).
func (c *Clock) Now(now int64) Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance(now, Timestamp{})
	t := c.last
	t.Node = c.node
	c.last = t
	return t
}

// Observe merges a timestamp received from elsewhere (a pulled row's HLC) so
// that later local events order after it.
func (c *Clock) Observe(remote Timestamp, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance(now, remote)
}

func (c *Clock) advance(now int64, remote Timestamp) {
	if now > maxWall {
		now = maxWall
	}
	wall := max(now, c.last.Wall, remote.Wall)
	var counter int
	switch {
	case wall == c.last.Wall && wall == remote.Wall:
		counter = max(c.last.Counter, remote.Counter) + 1
	case wall == c.last.Wall:
		counter = c.last.Counter + 1
	case wall == remote.Wall:
		counter = remote.Counter + 1
	}
	if counter > maxCounter {
		wall++
		counter = 0
	}
	c.last = Timestamp{Wall: wall, Counter: counter, Node: c.last.Node}
}
