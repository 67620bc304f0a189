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
	h := protocol.HealthResponse{Status: "ok", Protocol: protocol.Version, ServerTime: s.cfg.Now().UnixMilli()}
	if s.cfg.Upstream != nil {
		h.Upstream = s.cfg.Upstream(r.Context())
	}
	s.writeJSON(w, r, http.StatusOK, h)
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	addr := clientAddr(r)
	now := s.cfg.Now()
	// The throttle (docs/design.md section 4): every attempt first takes a failure slot,
	// atomically with counting the address's failures of the last minute,
	// so parallel attempts never pass the limit; over the limit, every
	// attempt is 429 until the minute has passed, a right code included
	// (else the throttle would not stop guessing). Only a success gives
	// its slot back.
	slot, ok, err := s.cfg.Store.TakeEnrollSlot(ctx, addr, now.UnixMilli(), now.Add(-time.Minute).UnixMilli(), s.cfg.EnrollFailureLimit)
	if err != nil {
		return fmt.Errorf("take enroll slot: %w", err)
	}
	if !ok {
		return errf(http.StatusTooManyRequests, "rate_limited", "Too many failed enrollment attempts from this address; wait a minute and try again.")
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req protocol.EnrollRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return malformed("The body must be a JSON object {\"code\", \"device_name\", \"platform\"}.")
	}
	req.DeviceName = strings.TrimSpace(req.DeviceName)
	if req.DeviceName == "" {
		req.DeviceName = "unnamed device"
	}
	if utf8.RuneCountInString(req.DeviceName) > 128 {
		return errf(http.StatusUnprocessableEntity, protocol.CodeTooLong, "device_name is longer than 128 characters.")
	}
	if utf8.RuneCountInString(req.Platform) > 64 {
		return errf(http.StatusUnprocessableEntity, protocol.CodeTooLong, "platform is longer than 64 characters.")
	}
	code := normalizeCode(req.Code)
	if code == "" {
		return errf(http.StatusUnprocessableEntity, protocol.CodeMissingValue, "code is required.")
	}
	token := newToken()
	dev, err := s.cfg.Store.Enroll(ctx, HashSecret(code), Device{
		ID: uuid.NewString(), Name: req.DeviceName, Platform: req.Platform, TokenHash: HashSecret(token),
	}, now.UnixMilli())
	if errors.Is(err, ErrInvalidCode) {
		return errf(http.StatusUnauthorized, "invalid_code", "The enrollment code is unknown, expired or already used.")
	}
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if s.cfg.HubSite != "" && (dev.SiteID != s.cfg.HubSite || dev.Role == protocol.RoleHub) {
		// A site hub serves its own site's terminals only: another
		// site's writes would be taken here and never reach
		// headquarters. The code was made by mistake; its device goes.
		if err := s.cfg.Store.RevokeDevice(ctx, dev.ID, now.UnixMilli()); err != nil {
			return fmt.Errorf("revoke a device of another site: %w", err)
		}
		return errf(http.StatusForbidden, "forbidden", "This is the site computer of %s; it enrolls that site's terminals only. Ask for a code of %s, or for a code made at headquarters.", s.cfg.HubSite, s.cfg.HubSite)
	}
	if err := s.cfg.Store.ReleaseEnrollSlot(ctx, slot); err != nil {
		// The device is enrolled; the slot only counts against the
		// address for a minute.
		s.cfg.Logger.Warn("release enroll slot", "err", err)
	}
	info(r).deviceID, info(r).site = dev.ID, dev.SiteID
	s.writeJSON(w, r, http.StatusCreated, protocol.EnrollResponse{DeviceID: dev.ID, Token: token, SiteID: dev.SiteID, Role: dev.Role})
	return nil
}

// namedTimeline returns the timeline the request names in its
// Outpost-Timeline header ("" when none).
func namedTimeline(r *http.Request) (string, error) {
	v := strings.TrimSpace(r.Header.Get(protocol.HeaderTimeline))
	if v == "" {
		return "", nil
	}
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return "", malformed("The %s header must be the timeline (a UUID) a pull answer named.", protocol.HeaderTimeline)
	}
	return id.String(), nil
}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request, dev Device) error {
	timeline, err := namedTimeline(r)
	if err != nil {
		return err
	}
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
			if stored, err := s.engine.Replay(r.Context(), dev, batchID, timeline); err == nil {
				s.writeJSON(w, r, http.StatusOK, stored)
				return nil
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return reqErr
	}
	out, seq, err := s.engine.Push(r.Context(), dev, PushBatch{BatchID: batchID, Changes: changes, Timeline: timeline})
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
	whole := func(name, code string) (int64, bool, error) {
		v := q.Get(name)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, false, errf(http.StatusBadRequest, code, "%s must be a whole number, 0 or more.", name)
		}
		return n, true, nil
	}
	cursor, _, err := whole("cursor", "invalid_cursor")
	if err != nil {
		return err
	}
	req := PullRequest{Device: dev, Cursor: cursor, Limit: protocol.DefaultPullLimit}
	if c, ok, err := whole("committed", "invalid_committed"); err != nil {
		return err
	} else if ok {
		req.Committed = &c
	}
	if v, ok, err := whole("verified", "invalid_verified"); err != nil {
		return err
	} else if ok {
		req.Verified = &v
	}
	switch q.Get("full") {
	case "", "0":
	case "1":
		req.Full = true
	default:
		return errf(http.StatusBadRequest, "invalid_full", "full must be 1 (a page of a full pass) or 0.")
	}
	if v := q.Get("limit"); v != "" {
		l, err := strconv.ParseInt(v, 10, 64)
		if err != nil || l < 1 {
			return errf(http.StatusBadRequest, "invalid_limit", "limit must be a whole number, 1 or more.")
		}
		req.Limit = int(min(l, protocol.MaxPullLimit))
	}
	resp, err := s.engine.Pull(r.Context(), req)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

func (s *Server) handleResolve(w http.ResponseWriter, r *http.Request, dev Device) error {
	// Token, then role (docs/design.md section 4's order): a device that may not resolve
	// is told so whatever timeline it names.
	if dev.Role != protocol.RoleManager && dev.Role != protocol.RoleHub {
		return errf(http.StatusForbidden, "forbidden", "Only manager devices may resolve conflicts.")
	}
	// A decision made on another timeline is refused before anything else:
	// its conflict may not even exist on this one.
	timeline, err := namedTimeline(r)
	if err != nil {
		return err
	}
	if timeline != "" {
		tl, err := s.cfg.Store.Timeline(r.Context())
		if err != nil {
			return fmt.Errorf("read timeline: %w", err)
		}
		if tl != timeline {
			st, err := s.cfg.Store.SiteState(r.Context(), dev.SiteID)
			if err != nil {
				return fmt.Errorf("site state: %w", err)
			}
			return &TimelineError{Seq: st.Seq, Timeline: tl}
		}
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
	req := ResolveRequest{HLC: raw.HLC, BaseVersion: raw.BaseVersion, Reason: raw.Reason, PersonID: raw.PersonID, PersonName: raw.PersonName, Timeline: timeline}
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
	forward, err := s.engine.Route(r.Context(), dev.SiteID, id)
	if errors.Is(err, ErrResolveAtOwner) {
		return errf(http.StatusConflict, protocol.CodeResolveAtOwner, "This conflict was recorded by a site hub and is decided there, by a manager of that site.")
	}
	if err != nil {
		return err
	}
	if forward {
		return s.forwardResolve(w, r, dev, id, req, chosen)
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

// forwardResolve sends a site manager's decision on one of central's
// conflict records to central through the hub's link (docs/design.md
// section 9), then writes central's new state on site.
func (s *Server) forwardResolve(w http.ResponseWriter, r *http.Request, dev Device, id string, req ResolveRequest, chosen protocol.Row) error {
	ctx := r.Context()
	f, err := s.engine.PrepareForward(ctx, dev, id, req)
	if errors.Is(err, ErrAlreadyResolved) {
		return errf(http.StatusConflict, "already_resolved", "This conflict was already resolved.")
	}
	if err != nil {
		return err
	}
	if s.cfg.ForwardResolve == nil {
		return errf(http.StatusServiceUnavailable, protocol.CodeUpstreamUnavailable, "This conflict is decided at headquarters, and this hub has no link to it.")
	}
	raw, err := json.Marshal(chosen)
	if err != nil {
		return fmt.Errorf("encode chosen row: %w", err)
	}
	cv, err := s.cfg.ForwardResolve(ctx, id, protocol.ResolveRequest{Row: raw, HLC: req.HLC, BaseVersion: &f.CentralBase,
		Reason: req.Reason, PersonID: req.PersonID, PersonName: req.PersonName})
	var refusal *UpstreamRefusal
	switch {
	case errors.Is(err, ErrUpstreamUnavailable):
		return errf(http.StatusServiceUnavailable, protocol.CodeUpstreamUnavailable, "Headquarters cannot be reached to record this decision; it is kept and sent when the link returns.")
	case errors.As(err, &refusal) && refusal.Code == "stale_base":
		// Central's row moved on and the hub has not pulled it yet: the
		// device decides again on what the hub will hold.
		return &StaleBaseError{Row: f.Theirs, Version: f.HubBase}
	case errors.As(err, &refusal):
		return errf(refusal.Status, refusal.Code, "%s", refusal.Message)
	case err != nil:
		return err
	}
	v, seq, err := s.engine.AdoptResolved(ctx, dev.SiteID, f, chosen, req.HLC, cv)
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
