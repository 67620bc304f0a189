package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Opened is the opened local database and what the status screen says
// about it. Only OpenLocal makes one (the database is unexported); Wrap
// passes it on.
type Opened struct {
	db            *localDB
	DBPath        string
	Encrypted     bool
	CipherVersion string
	KeySource     string
}

// OpenFunc opens the local store. It returns a *Failure-carrying error (see
// OpenError) when the store cannot be opened for a reason a person can act on.
type OpenFunc func(ctx context.Context) (Opened, error)

// OpenError is an open failure with the sentence the failure screen shows.
type OpenError struct {
	Failure Failure
	Err     error
}

func (e *OpenError) Error() string { return e.Failure.Code + ": " + e.Err.Error() }
func (e *OpenError) Unwrap() error { return e.Err }

// callTimeout bounds one bound call; the store answers in milliseconds, so
// hitting it means something is stuck.
const callTimeout = 30 * time.Second

// Core owns the opened store (or the reason it did not open) and is shared by
// the bound services. Calls made while the store is still opening wait for it.
type Core struct {
	version string
	open    OpenFunc

	once    sync.Once
	ready   chan struct{}
	ctx     context.Context
	opened  Opened
	failure *Failure

	// sess, when set (NewSessionService), says who is signed in.
	sess *SessionService
}

// NewCore returns a Core that opens the store with open when Start is called.
func NewCore(version string, open OpenFunc) *Core {
	return &Core{version: version, open: open, ready: make(chan struct{}), ctx: context.Background()}
}

// Start opens the store in the background. ctx lives as long as the app.
func (c *Core) Start(ctx context.Context) {
	c.once.Do(func() {
		c.ctx = ctx
		go c.doOpen(ctx)
	})
}

func (c *Core) doOpen(ctx context.Context) {
	defer close(c.ready)
	o, err := c.open(ctx)
	if err == nil {
		c.opened = o
		slog.Info("store open", "path", o.DBPath, "encrypted", o.Encrypted, "cipher", o.CipherVersion, "key", o.KeySource)
		return
	}
	var oe *OpenError
	if errors.As(err, &oe) {
		f := oe.Failure
		f.Detail = err.Error()
		c.failure = &f
	} else {
		c.failure = &Failure{
			Code:    "open_failed",
			Title:   "The local database could not be opened",
			Message: "Outpost could not open its database. Close other Outpost windows and start it again; if this keeps happening, call IT and give them the detail below.",
			Detail:  err.Error(),
		}
	}
	slog.Error("store did not open", "code", c.failure.Code, "what_to_do", c.failure.Message, "err", err)
}

// Shutdown closes the store.
func (c *Core) Shutdown() {
	select {
	case <-c.ready:
		if c.opened.db != nil {
			if err := c.opened.db.Close(); err != nil {
				slog.Error("close store", "err", err)
			}
		}
	default:
	}
}

// db waits for the open to finish and returns the database with a call's
// context, or the failure as an *Error when it did not open.
func (c *Core) db() (*localDB, context.Context, context.CancelFunc, error) {
	select {
	case <-c.ready:
	case <-c.ctx.Done():
		return nil, nil, nil, &Error{Code: CodeStoreClosed, Message: "Outpost is shutting down."}
	}
	if c.failure != nil {
		return nil, nil, nil, &Error{Code: CodeStoreClosed, Message: c.failure.Title + ". " + c.failure.Message}
	}
	ctx, cancel := context.WithTimeout(c.ctx, callTimeout)
	return c.opened.db, ctx, cancel, nil
}

// call runs fn on the local database within one call's timeout, once it is
// open: the bound services' way to the database.
func call[T any](c *Core, fn func(ctx context.Context, db *localDB) (T, error)) (T, error) {
	db, ctx, cancel, err := c.db()
	if err != nil {
		var zero T
		return zero, err
	}
	defer cancel()
	return fn(ctx, db)
}
