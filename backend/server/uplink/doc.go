// Package uplink is a site hub's link to the central server (docs/design.md
// section 9): the hub is one device of its site at central, role hub. The
// link enrolls once with a code made at central, then, whenever central
// answers, pushes every write the hub's devices made (each as its own
// change, in hub order, with its origin_seq) and republishes central's feed
// to the hub's devices. Its state lives in the hub's database (the
// server's Engine.Upstream* methods), never only in memory.
//
// The wire client is the desktop's (backend/syncclient's API); the row
// rules are the server's own engine, so a hub judges its devices' changes
// exactly as central does.
package uplink
