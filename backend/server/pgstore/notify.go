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
