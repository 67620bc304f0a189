package syncclient

import "github.com/outpost-app/outpost/backend/store"

// The desktop store implements what the client needs of the local
// database. The checks live in a test file: the package itself must not
// import backend/store, whose go-sqlcipher the server cannot link (issue
// 19: a hub is the server binary and reuses this package's wire client).
var (
	_ Store        = (*store.Store)(nil)
	_ ResolveStore = (*store.Store)(nil)
	_ verifier     = (*store.Store)(nil)
)
