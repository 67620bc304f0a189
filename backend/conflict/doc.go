// Package conflict holds the pure decisions of docs/design.md section 3 that the
// sync server makes when two devices wrote the same row: the last-write-wins
// race of the lww policy (LWW) and the three-way merge of the manual policy
// (Merge3), plus the value comparison both rest on (Equal).
//
// Everything here is a function of its arguments: no I/O, no clock reads, no
// randomness. Callers hand in normalised rows (protocol.Row: string, int64,
// float64 or nil) and get a decision back; storing conflict records,
// assigning versions and answering the device is the caller's job.
package conflict
