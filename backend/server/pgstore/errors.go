package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/outpost-app/outpost/backend/server"
)

// wrap maps pgx.ErrNoRows to server.ErrNotFound and marks errors meaning
// "the database cannot answer now" with server.ErrUnavailable (the server
// answers 503; the pool reconnects by itself, no restart needed).
func wrap(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return server.ErrNotFound
	}
	if errors.Is(err, server.ErrUnavailable) || errors.Is(err, server.ErrNotFound) {
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", server.ErrUnavailable, err)
	}
	return err
}

// unavailable reports whether err says the database is unreachable, shutting
// down, overloaded or slower than the statement timeout, rather than that a
// statement is wrong.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", // connection exception
			"53", // insufficient resources (too many connections, disk full)
			"57", // operator intervention: query_canceled (statement timeout), admin/crash shutdown, cannot_connect_now
			"58", // system error (I/O)
			"40": // serialization failure, deadlock: retrying the request is safe
			return true
		}
		return pe.Code == "55P03" || // lock_not_available
			pe.Code == "25006" || // read_only_sql_transaction: a standby after failover
			pe.Code == "25P03" // idle_in_transaction_session_timeout
	}
	if errors.Is(err, context.Canceled) {
		return false // the client went away; not the database's fault
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "closed pool") || strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "conn busy") || strings.Contains(msg, "failed to deallocate")
}
