package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Listen delivers the change notifications of every process writing to
// this schema (this one included): fn(site, seq) after a transaction that
// advanced site's sequence to seq commits. It holds one dedicated
// connection outside the pool (LISTEN needs a session: a pooler in
// transaction mode would lose it) and returns when ctx ends (nil) or the
// connection fails; the caller listens again, and polls meanwhile.
//
// PostgreSQL delivers a notification only to sessions already listening
// when the sending transaction commits: one sent before LISTEN took effect
// (at start, or while the connection was down and being made again) is
// lost. So once LISTEN is in effect Listen reads every site's sequence and
// calls fn with it: a write that committed before LISTEN is seen there,
// one that commits after sends a notification that arrives. fn must ignore
// a sequence it has already seen (the hub does).
func (s *Store) Listen(ctx context.Context, fn func(site string, seq int64)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("connect to listen: %w", wrap(err))
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("listen: %w", wrap(err))
	}
	if err := s.catchUp(ctx, conn, fn); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("wait for notification: %w", wrap(err))
		}
		seqS, site, ok := strings.Cut(n.Payload, ":")
		seq, err := strconv.ParseInt(seqS, 10, 64)
		if !ok || err != nil {
			continue
		}
		fn(site, seq)
	}
}

// catchUp calls fn(site, seq) with every site's sequence, read on the
// listening connection after its LISTEN: the writes that committed before
// LISTEN took effect, whose notifications this session never gets.
func (s *Store) catchUp(ctx context.Context, conn *pgx.Conn, fn func(site string, seq int64)) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := conn.Query(ctx, `SELECT site, seq FROM sites`)
	if err != nil {
		return fmt.Errorf("read the sites' sequences after LISTEN: %w", wrap(err))
	}
	type state struct {
		site string
		seq  int64
	}
	var sites []state
	for rows.Next() {
		var st state
		if err := rows.Scan(&st.site, &st.seq); err != nil {
			rows.Close()
			return fmt.Errorf("read the sites' sequences after LISTEN: %w", wrap(err))
		}
		sites = append(sites, st)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the sites' sequences after LISTEN: %w", wrap(err))
	}
	for _, st := range sites {
		fn(st.site, st.seq)
	}
	return nil
}
