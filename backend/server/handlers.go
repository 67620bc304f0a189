package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if err := checkProtocol(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.cfg.Store.Ping(r.Context()); err != nil {
		info(r).err = err
		s.writeError(w, r, errf(http.StatusServiceUnavailable, "database_unavailable", "The server's database is not answering."))
		return
	}
	s.writeJSON(w, r, http.StatusOK, protocol.HealthResponse{Status: "ok", Protocol: protocol.Version, ServerTime: s.cfg.Now().UnixMilli()})
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	addr := clientAddr(r)
	now := s.cfg.Now()
	// Only failed attempts are throttled (DESIGN.md 4): a valid code always
	// enrolls; a failure after EnrollFailureLimit failures within a minute
	// from this address is answered 429 instead of its own error.
	fail := func(e error) error {
		n, err := s.cfg.Store.EnrollFailures(ctx, addr, now.Add(-time.Minute).UnixMilli())
		if err != nil {
			return fmt.Errorf("count enroll failures: %w", err)
		}
		if n >= s.cfg.EnrollFailureLimit {
			return errf(http.StatusTooManyRequests, "rate_limited", "Too many failed enrollment attempts from this address; wait a minute and try again.")
		}
		if err := s.cfg.Store.RecordEnrollFailure(ctx, addr, now.UnixMilli()); err != nil {
			return fmt.Errorf("record enroll failure: %w", err)
		}
		return e
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return fail(err)
	}
	var req protocol.EnrollRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(malformed("The body must be a JSON object {\"code\", \"device_name\", \"platform\"}."))
	}
	req.DeviceName = strings.TrimSpace(req.DeviceName)
	if req.DeviceName == "" {
		req.DeviceName = "unnamed device"
	}
	if utf8.RuneCountInString(req.DeviceName) > 128 {
		return fail(errf(http.StatusUnprocessableEntity, protocol.CodeTooLong, "device_name is longer than 128 characters."))
	}
	if utf8.RuneCountInString(req.Platform) > 64 {
		return fail(errf(http.StatusUnprocessableEntity, protocol.CodeTooLong, "platform is longer than 64 characters."))
	}
	code := normalizeCode(req.Code)
	if code == "" {
		return fail(errf(http.StatusUnprocessableEntity, protocol.CodeMissingValue, "code is required."))
	}
	token := newToken()
	dev, err := s.cfg.Store.Enroll(ctx, HashSecret(code), Device{
		ID: uuid.NewString(), Name: req.DeviceName, Platform: req.Platform, TokenHash: HashSecret(token),
	}, now.UnixMilli())
	if errors.Is(err, ErrInvalidCode) {
		return fail(errf(http.StatusUnauthorized, "invalid_code", "The enrollment code is unknown, expired or already used."))
	}
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	info(r).deviceID, info(r).site = dev.ID, dev.SiteID
	s.writeJSON(w, r, http.StatusCreated, protocol.EnrollResponse{DeviceID: dev.ID, Token: token, SiteID: dev.SiteID, Role: dev.Role})
	return nil
}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request, dev Device) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req struct {
		BatchID json.RawMessage `json:"batch_id"`
		Changes json.RawMessage `json:"changes"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return malformed("The body must be a JSON object {\"batch_id\", \"changes\"}.")
	}
	var batchID string
	validBatch := json.Unmarshal(req.BatchID, &batchID) == nil && protocol.ValidID(batchID)
	var changes []json.RawMessage
	var reqErr error
	if t := bytes.TrimSpace(req.Changes); len(t) == 0 || t[0] != '[' || json.Unmarshal(t, &changes) != nil {
		reqErr = malformed("changes must be a list.")
	} else if len(changes) > protocol.MaxBatchChanges {
		reqErr = errf(http.StatusRequestEntityTooLarge, "too_many_changes", "A batch holds at most %d changes; this one has %d.", protocol.MaxBatchChanges, len(changes))
	} else if !validBatch {
		reqErr = errf(http.StatusUnprocessableEntity, protocol.CodeInvalidValue, "batch_id must be a UUID.")
	}
	if reqErr != nil {
		// A repeated batch answers its stored response whatever the
		// repeat contains.
		if validBatch {
			if stored, err := s.engine.Replay(r.Context(), dev, batchID); err == nil {
				s.writeJSON(w, r, http.StatusOK, stored)
				return nil
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return reqErr
	}
	out, seq, err := s.engine.Push(r.Context(), dev, PushBatch{BatchID: batchID, Changes: changes})
	if err != nil {
		return err
	}
	if seq > 0 {
		s.hub.publish(dev.SiteID, seq)
	}
	s.metrics.countPush(out)
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

func (s *Server) handlePull(w http.ResponseWriter, r *http.Request, dev Device) error {
	q := r.URL.Query()
	cursor := int64(0)
	if v := q.Get("cursor"); v != "" {
		c, err := strconv.ParseInt(v, 10, 64)
		if err != nil || c < 0 {
			return errf(http.StatusBadRequest, "invalid_cursor", "cursor must be a whole number, 0 or more.")
		}
		cursor = c
	}
	limit := protocol.DefaultPullLimit
	if v := q.Get("limit"); v != "" {
		l, err := strconv.ParseInt(v, 10, 64)
		if err != nil || l < 1 {
			return errf(http.StatusBadRequest, "invalid_limit", "limit must be a whole number, 1 or more.")
		}
		limit = int(min(l, protocol.MaxPullLimit))
	}
	resp, err := s.engine.Pull(r.Context(), dev.SiteID, cursor, limit)
	if errors.Is(err, ErrResyncRequired) {
		return errf(http.StatusGone, "resync_required", "This device's sync position is no longer valid on the server; push pending edits, then pull again from cursor 0.")
	}
	if err != nil {
		return err
	}
	if cursor != dev.Cursor {
		if err := s.cfg.Store.TouchDevice(r.Context(), dev.ID, s.cfg.Now().UnixMilli(), cursor); err != nil {
			s.cfg.Logger.Warn("record device cursor", "device", dev.ID, "err", err)
		}
	}
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

func (s *Server) handleResolve(w http.ResponseWriter, r *http.Request, dev Device) error {
	if dev.Role != protocol.RoleManager {
		return errf(http.StatusForbidden, "forbidden", "Only manager devices may resolve conflicts.")
	}
	id := r.PathValue("id")
	switch err := s.engine.ConflictForDevice(r.Context(), dev, id); {
	case errors.Is(err, ErrNotFound):
		return errf(http.StatusNotFound, "not_found", "There is no such conflict.")
	case errors.Is(err, ErrForbidden):
		return errf(http.StatusForbidden, "forbidden", "This conflict belongs to another site.")
	case err != nil:
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var raw struct {
		Row         json.RawMessage `json:"row"`
		HLC         string          `json:"hlc"`
		BaseVersion *int64          `json:"base_version"`
		Reason      *string         `json:"reason"`
		PersonID    *string         `json:"person_id"`
		PersonName  *string         `json:"person_name"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return malformed("The body must be a JSON object {\"row\", \"hlc\", \"base_version\", \"reason\", \"person_id\", \"person_name\"}.")
	}
	req := ResolveRequest{HLC: raw.HLC, BaseVersion: raw.BaseVersion, Reason: raw.Reason, PersonID: raw.PersonID, PersonName: raw.PersonName}
	if len(raw.Row) > 0 && string(raw.Row) != "null" {
		m, err := protocol.DecodeRow(raw.Row)
		if err != nil {
			return malformed("row must be a JSON object.")
		}
		req.Row = m
	}
	if req.Reason != nil && utf8.RuneCountInString(*req.Reason) > 4000 {
		return errf(http.StatusUnprocessableEntity, protocol.CodeTooLong, "reason is longer than 4000 characters.")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"person_id", req.PersonID}, {"person_name", req.PersonName}} {
		if f.v == nil {
			continue
		}
		switch n := utf8.RuneCountInString(*f.v); {
		case n == 0:
			return errf(http.StatusUnprocessableEntity, protocol.CodeInvalidValue, "%s must be 1 to %d characters when given; leave it out when no person signed in.", f.name, maxPersonLen)
		case n > maxPersonLen:
			return errf(http.StatusUnprocessableEntity, protocol.CodeTooLong, "%s is longer than %d characters.", f.name, maxPersonLen)
		}
	}
	chosen, err := s.engine.ValidateResolve(r.Context(), dev, id, req)
	if ve, ok := protocol.AsValidation(err); ok {
		return errf(http.StatusUnprocessableEntity, ve.Code, "%s", ve.Message)
	}
	if errors.Is(err, ErrNotFound) {
		return errf(http.StatusNotFound, "not_found", "There is no such conflict.")
	}
	if err != nil {
		return err
	}
	v, seq, err := s.engine.Resolve(r.Context(), dev, id, req, chosen)
	if errors.Is(err, ErrAlreadyResolved) {
		return errf(http.StatusConflict, "already_resolved", "This conflict was already resolved.")
	}
	if err != nil {
		return err
	}
	s.hub.publish(dev.SiteID, seq)
	s.writeJSON(w, r, http.StatusOK, protocol.ResolveResponse{Version: v})
	return nil
}

func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request, dev Device) error {
	q := r.URL.Query()
	table, id := q.Get("table"), q.Get("id")
	if _, ok := s.cfg.Registry.Lookup(table); !ok && table != protocol.TableConflicts {
		return errf(http.StatusBadRequest, protocol.CodeUnknownTable, "table must name a synced table.")
	}
	if !protocol.ValidID(id) {
		return errf(http.StatusBadRequest, protocol.CodeInvalidValue, "id must be a UUID.")
	}
	h, err := s.engine.History(r.Context(), dev.SiteID, table, id)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, h)
	return nil
}
