package rocketchat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// The legacy Livechat methods over DDP, for clients of Rocket.Chat's
// realtime API.

type notFoundMethod struct{ name string }

func (e *notFoundMethod) Error() string { return "method " + e.name + " not found" }

func asNotFound(err error, out **notFoundMethod) bool { return errors.As(err, out) }

// errMatch is Meteor's check() failure: a parameter of the wrong type.
var errMatch = rcErr(parley.EINVALID, "match", "Match failed")

// param decodes params[i] into out strictly; a missing param leaves out
// as it is when optional.
func param(params []json.RawMessage, i int, out any, optional bool) error {
	if i >= len(params) || string(params[i]) == "null" {
		if optional {
			return nil
		}
		return errMatch
	}
	d := json.NewDecoder(bytes.NewReader(params[i]))
	if err := d.Decode(out); err != nil {
		return errMatch
	}
	return nil
}

// call runs one method for the session.
func (s *session) call(method string, params []json.RawMessage) (any, error) {
	ctx := s.ctx
	h := s.h
	switch method {
	case "livechat:getInitialData":
		var tok, dep string
		if err := param(params, 0, &tok, false); err != nil {
			return nil, err
		}
		if err := param(params, 1, &dep, true); err != nil {
			return nil, err
		}
		return h.initialData(ctx, tok, dep)
	case "livechat:registerGuest":
		var in struct {
			Token        string          `json:"token"`
			Name         *string         `json:"name"`
			Email        *string         `json:"email"`
			Phone        *string         `json:"phone"`
			Department   *string         `json:"department"`
			CustomFields json.RawMessage `json:"customFields"`
		}
		if err := param(params, 0, &in, false); err != nil {
			return nil, err
		}
		custom, err := decodeCustomFields(in.CustomFields)
		if err != nil {
			return nil, err
		}
		g, err := h.register(ctx, guestInput{Token: in.Token, Name: in.Name, Email: in.Email, Phone: in.Phone, Department: in.Department, CustomFields: custom})
		if err != nil {
			return nil, err
		}
		s.bind(g)
		snap := g.snap()
		return map[string]any{"userId": snap.ID, "visitor": visitorOf(snap, true)}, nil
	case "sendMessageLivechat":
		var in struct {
			ID    *string `json:"_id"`
			RID   *string `json:"rid"`
			Msg   *string `json:"msg"`
			Token *string `json:"token"`
		}
		if err := param(params, 0, &in, false); err != nil {
			return nil, err
		}
		if in.ID == nil || in.RID == nil || in.Msg == nil || in.Token == nil {
			return nil, errMatch
		}
		return h.sendLegacy(ctx, s, *in.Token, *in.RID, *in.ID, *in.Msg)
	case "livechat:getAgentData":
		var in struct {
			RoomID string `json:"roomId"`
			Token  string `json:"token"`
		}
		if err := param(params, 0, &in, false); err != nil {
			return nil, err
		}
		_, _, v, err := h.room(ctx, in.Token, in.RoomID)
		if err != nil {
			return nil, rcErr(parley.ENOTFOUND, "error-invalid-room", "Invalid room")
		}
		a, err := h.agentOf(ctx, v)
		if a == nil || err != nil {
			return nil, err
		}
		return a, nil
	case "livechat:setUpConnection":
		var in struct {
			Token string `json:"token"`
		}
		if err := param(params, 0, &in, false); err != nil {
			return nil, err
		}
		if err := checkToken(in.Token); err != nil {
			return nil, errMatch
		}
		if g := h.guests.get(in.Token); g != nil {
			s.bind(g)
		} else {
			s.mu.Lock()
			s.pendingToken = in.Token
			s.mu.Unlock()
		}
		return nil, nil
	case "livechat:loadHistory":
		var in struct {
			Token string           `json:"token"`
			RID   string           `json:"rid"`
			End   *json.RawMessage `json:"end"`
			Limit *int             `json:"limit"`
		}
		if err := param(params, 0, &in, false); err != nil {
			return nil, err
		}
		g, actor, v, err := h.room(ctx, in.Token, in.RID)
		if err != nil {
			if parley.ErrorCode(err) == parley.EUNAUTHORIZED {
				return nil, rcErr(parley.EUNAUTHORIZED, "invalid-visitor", "Invalid visitor")
			}
			return nil, err
		}
		limit := 20
		if in.Limit != nil {
			limit = min(max(*in.Limit, 1), 500)
		}
		end, err := decodeEnd(in.End)
		if err != nil {
			return nil, err
		}
		msgs, err := h.history(ctx, actor, g.snap(), in.RID, v.ID, limit, end, true)
		if err != nil {
			return nil, err
		}
		return map[string]any{"messages": msgs, "firstUnread": nil, "unreadNotLoaded": 0}, nil
	case "livechat:sendOfflineMessage":
		var in offlineInput
		if err := param(params, 0, &in, false); err != nil {
			return nil, err
		}
		if err := h.offlineMessage(ctx, s.id, in); err != nil {
			return nil, err
		}
		return true, nil
	case "livechat:loginByToken":
		var tok string
		if err := param(params, 0, &tok, false); err != nil {
			return nil, err
		}
		g, err := h.guestOf(tok)
		if err != nil {
			return nil, err
		}
		s.bind(g)
		return map[string]any{"_id": g.snap().ID}, nil
	case "stream-notify-room":
		return nil, s.notifyRoom(ctx, params)
	}
	return nil, &notFoundMethod{name: method}
}

// bind ties a guest to the session, as livechat:setUpConnection does.
func (s *session) bind(g *guest) {
	s.mu.Lock()
	s.guest = g
	s.mu.Unlock()
}

// sessionGuest returns the session's guest: the one bound, or the one
// registered since under a token set up before registration.
func (s *session) sessionGuest() *guest {
	s.mu.Lock()
	g, pending := s.guest, s.pendingToken
	s.mu.Unlock()
	if g == nil && pending != "" {
		if g = s.h.guests.get(pending); g != nil {
			s.bind(g)
		}
	}
	return g
}

// sendLegacy is sendMessageLivechat: the room is created on the first
// message.
func (h *Handler) sendLegacy(ctx context.Context, s *session, tok, rid, id, text string) (any, error) {
	g, err := h.guestOf(tok)
	if err != nil {
		return nil, err
	}
	if s != nil {
		s.bind(g)
	}
	if id == "" || len(id) > 100 {
		return nil, errMatch
	}
	if strings.TrimSpace(text) == "" {
		return nil, rcErr(parley.EINVALID, "error-invalid-msg", "The message is empty")
	}
	if rid != "" {
		// A room id of another chat of this guest that has ended, or of
		// another guest, is refused.
		if cid := g.chatID(rid); cid != rid || g.snap().RID == rid {
			if _, _, v, err := h.room(ctx, tok, rid); err == nil && v.State == parley.StateTerminated {
				return nil, rcErr(parley.ECLOSED, "room-closed", "The room is closed")
			}
		}
	}
	v, created, err := h.openRoom(ctx, g, rid)
	if err != nil {
		return nil, err
	}
	actor, _ := h.actorOf(g)
	e, err := h.svc.Send(ctx, actor, v.ID, text, conversation.SendOptions{ClientID: id})
	if err != nil {
		return nil, err
	}
	snap := g.snap()
	roomID := v.ID
	if rid != "" {
		roomID = rid
	}
	m := messageOf(e, roomID, snap, true)
	no := false
	m.NewRoom, m.ShowConnecting = &created, &no
	return m, nil
}

// decodeCustomFields accepts {key: value} or [{key, value, overwrite}].
func decodeCustomFields(raw json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]string
	if json.Unmarshal(raw, &m) == nil {
		return m, nil
	}
	var list []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, rcErr(parley.EINVALID, "error-invalid-custom-field", "customFields must be an object or a list of {key, value}")
	}
	m = make(map[string]string, len(list))
	for _, f := range list {
		m[f.Key] = f.Value
	}
	return m, nil
}

// decodeEnd reads loadHistory's end: an EJSON date, milliseconds or an
// ISO string; 0 means none.
func decodeEnd(raw *json.RawMessage) (int64, error) {
	if raw == nil || string(*raw) == "null" {
		return 0, nil
	}
	var d struct {
		Date int64 `json:"$date"`
	}
	if json.Unmarshal(*raw, &d) == nil && d.Date > 0 {
		return d.Date, nil
	}
	var ms int64
	if json.Unmarshal(*raw, &ms) == nil {
		return ms, nil
	}
	var s string
	if json.Unmarshal(*raw, &s) == nil {
		if t, err := parseTime(s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, errMatch
}
