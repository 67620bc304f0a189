// Package checksum defines the row hash, the buckets and the checksums of
// docs/design.md section 8 ("Verified convergence"): the numbers a device, a hub
// and both server stores must compute alike. It does no I/O.
package checksum

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Hash is H(table, id, version): the first 8 bytes, big-endian, of SHA-256
// over the UTF-8 string table + "\n" + id + "\n" + version (in decimal).
func Hash(table, id string, version int64) uint64 {
	b := make([]byte, 0, len(table)+len(id)+22)
	b = append(b, table...)
	b = append(b, '\n')
	b = append(b, id...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, version, 10)
	d := sha256.Sum256(b)
	return binary.BigEndian.Uint64(d[:8])
}

// Bucket returns the bucket of a row: "<table>:<YYYY-MM-DD>", the UTC day of
// createdAtMS (ms since the Unix epoch; a value outside 0 … the end of year
// 9999, which validation never lets in, counts as 0), for a time-partitioned
// table; "<table>:<hh>", hh the first byte of SHA-256(id) in lowercase hex,
// for every other table.
func Bucket(table, id string, partitioned bool, createdAtMS int64) string {
	if partitioned {
		if createdAtMS < 0 || createdAtMS > maxTime {
			createdAtMS = 0
		}
		return table + ":" + time.UnixMilli(createdAtMS).UTC().Format(time.DateOnly)
	}
	d := sha256.Sum256([]byte(id))
	return table + ":" + hex.EncodeToString(d[:1])
}

// RowBucket returns the bucket of a stored row whose state is the JSON
// object data, asking reg whether table is time-partitioned (tables reg
// does not know, sync_conflicts among them, are not). A time-partitioned
// row without an integer created_at from 0 to the end of year 9999 (the
// range push validation requires) counts as created at 0.
func RowBucket(reg *protocol.Registry, table, id string, data []byte) string {
	t, ok := reg.Lookup(table)
	if !ok || !t.TimePartitioned {
		return Bucket(table, id, false, 0)
	}
	return Bucket(table, id, true, createdAt(data))
}

// createdAt reads the integer created_at member of a JSON object, or 0.
func createdAt(data []byte) int64 {
	var row struct {
		CreatedAt json.Number `json:"created_at"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&row); err != nil {
		return 0
	}
	ms, err := row.CreatedAt.Int64()
	if err != nil {
		return 0
	}
	return ms
}

// TableOf returns the table of bucket ("<table>:<key>") and whether the
// bucket is well formed for that table: a day (YYYY-MM-DD) for a
// time-partitioned table, two lowercase hex digits for any other.
func TableOf(reg *protocol.Registry, bucket string) (string, bool) {
	i := bytes.LastIndexByte([]byte(bucket), ':')
	if i <= 0 {
		return "", false
	}
	table, key := bucket[:i], bucket[i+1:]
	t, known := reg.Lookup(table)
	if known && t.TimePartitioned {
		d, err := time.Parse(time.DateOnly, key)
		return table, err == nil && d.Format(time.DateOnly) == key
	}
	if len(key) != 2 {
		return "", false
	}
	for _, c := range []byte(key) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return table, true
}

// maxTime is the end of year 9999 in ms, validation's bound of created_at.
const maxTime = 253402300799999

// Sum is the checksum of a set of rows: how many live rows it holds and the
// sum of their hashes mod 2^64. The zero value is the empty set.
type Sum struct {
	Count int64
	Sum   uint64
}

// Add counts one live row of hash h.
func (s *Sum) Add(h uint64) { s.Count++; s.Sum += h }

// Sub removes one live row of hash h.
func (s *Sum) Sub(h uint64) { s.Count--; s.Sum -= h }

// Merge adds every row of o.
func (s *Sum) Merge(o Sum) { s.Count += o.Count; s.Sum += o.Sum }

// Hex formats a sum as on the wire: 16 lowercase hex digits, zero-padded.
func Hex(sum uint64) string { return fmt.Sprintf("%016x", sum) }

// ParseHex reads a sum written by Hex.
func ParseHex(s string) (uint64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("checksum sum %q: want 16 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("checksum sum %q: %w", s, err)
	}
	return v, nil
}

// Wire is one checksum on the wire: {"count": n, "sum": "<16 hex>"}.
type Wire struct {
	Count int64  `json:"count"`
	Sum   string `json:"sum"`
}

// Wire returns s as sent.
func (s Sum) Wire() Wire { return Wire{Count: s.Count, Sum: Hex(s.Sum)} }

// Key names one stored checksum: Bucket "" is the whole table's.
type Key struct{ Table, Bucket string }

// Pending accumulates the sums a transaction moves, per bucket and per
// table, until the store writes them before commit.
type Pending map[Key]Sum

// Add moves d into the bucket's and its table's sums.
func (p *Pending) Add(table, bucket string, d Sum) {
	if d == (Sum{}) {
		return
	}
	if *p == nil {
		*p = Pending{}
	}
	for _, k := range []Key{{table, bucket}, {table, ""}} {
		s := (*p)[k]
		s.Merge(d)
		(*p)[k] = s
	}
}
