package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/outpost-app/outpost/backend/server"
)

// Group commit. SQLite has one writer, and with synchronous=FULL every
// commit waits for an fsync. Push transactions that queue for the write lock
// therefore share one SQLite transaction: each runs inside its own SAVEPOINT
// (its own all-or-nothing unit, still strictly one after the other under
// the lock, so sequence numbers keep commit order), and the last of a run of
// queued transactions commits them all with one fsync. Tx.Commit returns
// only after that real COMMIT, so nothing is acknowledged before it is
// durable, and readers (other connections) see nothing before it either.
const (
	// maxGroup and maxGroupAge bound how long an acknowledgement waits.
	maxGroup    = 64
	maxGroupAge = 20 * time.Millisecond
)

// group is one SQLite transaction shared by several Txs.
type group struct {
	tx      sqlTx
	members int // Txs committed into it, waiting for the real commit
	started time.Time
	done    chan struct{}
	err     error
}

// acquire takes the write lock, counting the wait so that the holder knows
// whether someone will carry the group on.
func (s *Store) acquire(ctx context.Context) error {
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) release() { <-s.lock }

// openGroup returns the current group, starting one (BEGIN IMMEDIATE) when
// none is open. The caller holds the lock.
func (s *Store) openGroup() (*group, error) {
	if s.cur != nil {
		return s.cur, nil
	}
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", wrap(err))
	}
	// A newer server may have migrated the file since it was opened: this
	// process would write rows without what the newer schema keeps with
	// them (an old one, the checksums).
	var schema int
	if err := tx.QueryRowContext(context.Background(), "PRAGMA user_version").Scan(&schema); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("read schema version: %w", wrap(err))
	}
	if schema > s.schema {
		tx.Rollback()
		return nil, fmt.Errorf("%w (database at version %d, this server's %d)", server.ErrSchemaTooNew, schema, s.schema)
	}
	s.cur = &group{tx: tx, started: time.Now(), done: make(chan struct{})}
	return s.cur, nil
}

// endGroup commits (or, with cause, rolls back) the current group and wakes
// its members. The caller holds the lock.
func (s *Store) endGroup(g *group, cause error) {
	if s.cur != g {
		return
	}
	if cause != nil {
		g.tx.Rollback()
		g.err = fmt.Errorf("%w: a transaction sharing the commit failed: %w", errGroupAborted, cause)
	} else if err := g.tx.Commit(); err != nil {
		g.err = fmt.Errorf("commit: %w", wrap(err))
	}
	s.cur = nil
	close(g.done)
}

var errGroupAborted = errors.New("group commit aborted")

// handOff ends a member's turn: it commits the group when nobody queues
// behind (or the group is large or old enough), else passes the lock on.
// The caller holds the lock; handOff releases it.
func (s *Store) handOff(g *group) {
	if s.cur == g && (s.waiting.Load() == 0 || g.members >= maxGroup || time.Since(g.started) >= s.groupAge) {
		s.endGroup(g, nil)
	}
	s.release()
}

// wait blocks until g's real commit. Should the transactions queued behind
// give up (a cancelled request) and leave the group open, it commits the
// group itself after the group's age limit.
func (s *Store) wait(g *group) error {
	t := time.NewTimer(s.groupAge)
	defer t.Stop()
	for {
		select {
		case <-g.done:
			return g.err
		case <-t.C:
			s.acquire(context.Background())
			s.endGroup(g, nil)
			s.release()
			t.Reset(s.groupAge)
		}
	}
}
