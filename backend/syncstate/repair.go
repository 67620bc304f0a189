package syncstate

import "github.com/outpost-app/outpost/backend/checksum"

// RepairOutcome is what applying one bucket listing did.
type RepairOutcome struct {
	// Written clean or missing rows took the listed state; Remembered rows
	// that are not clean only had their known server state updated;
	// Removed clean rows were absent from the listing; Kept clean rows
	// already held the listed state and were not written.
	Written, Remembered, Removed, Kept int
	// Device is the bucket's checksum on the device after the repair,
	// Listed the listing's own.
	Device, Listed checksum.Sum
}
