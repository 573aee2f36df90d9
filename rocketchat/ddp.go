package rocketchat

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/origin"
	"github.com/parleychat/parley/internal/wsnb"
)

// DDP (Meteor's Distributed Data Protocol) on internal/wsnb: a session
// holds no goroutine; its frames are handled one at a time as they
// arrive, and a subscription runs a goroutine only while it has events to
// send.

// maxFrame bounds a client DDP frame.
const maxFrame = 64 << 10

// maxSubs bounds a session's subscriptions.
const maxSubs = 32

// Frame is a DDP message from a client; unknown fields are ignored.
type Frame struct {
	Msg     string            `json:"msg"`
	ID      *string           `json:"id,omitempty"`
	Version string            `json:"version,omitempty"`
	Support []string          `json:"support,omitempty"`
	Session string            `json:"session,omitempty"`
	Method  string            `json:"method,omitempty"`
	Name    string            `json:"name,omitempty"`
	Params  []json.RawMessage `json:"params,omitempty"`
}

// DecodeFrame decodes one client frame. A frame that is not a JSON object
// with a string "msg" is malformed; the error says why.
func DecodeFrame(data []byte) (Frame, error) {
	var f Frame
	if len(data) > maxFrame {
		return f, errBadRequest
	}
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&f); err != nil {
		return Frame{}, errParse
	}
	if d.More() {
		return Frame{}, errParse
	}
	if f.Msg == "" {
		return Frame{}, errBadRequest
	}
	return f, nil
}

type frameError string

func (e frameError) Error() string { return string(e) }

const (
	errParse      = frameError("Parse error")
	errBadRequest = frameError("Bad request")
)

// MeteorError is the error object of a method result or nosub.
type MeteorError struct {
	IsClientSafe bool   `json:"isClientSafe"`
	Error        any    `json:"error"` // a string, or 404 for an unknown method
	Reason       string `json:"reason"`
	Message      string `json:"message"`
	ErrorType    string `json:"errorType"`
}

func meteorError(code any, reason string) *MeteorError {
	c := ""
	switch v := code.(type) {
	case string:
		c = v
	case int:
		c = strconv.Itoa(v)
	}
	return &MeteorError{IsClientSafe: true, Error: code, Reason: reason, Message: reason + " [" + c + "]", ErrorType: "Meteor.Error"}
}

// outFrame is a DDP message to the client.
type outFrame struct {
	Msg              string          `json:"msg"`
	ID               *string         `json:"id,omitempty"`
	Session          string          `json:"session,omitempty"`
	Version          string          `json:"version,omitempty"`
	Result           any             `json:"result,omitempty"`
	Error            *MeteorError    `json:"error,omitempty"`
	Methods          []string        `json:"methods,omitempty"`
	Subs             []string        `json:"subs,omitempty"`
	Collection       string          `json:"collection,omitempty"`
	Fields           any             `json:"fields,omitempty"`
	Reason           string          `json:"reason,omitempty"`
	OffendingMessage json.RawMessage `json:"offendingMessage,omitempty"`
}

// session is one DDP connection.
type session struct {
	wsnb.PeerState
	h      *Handler
	conn   *wsnb.Conn
	id     string
	ctx    context.Context
	cancel context.CancelFunc

	mu           sync.Mutex
	connected    bool
	ended        bool
	guest        *guest // set by livechat:setUpConnection or a token-bearing call
	pendingToken string // set up before the guest registered
	subs         map[string]*sub
}

// websocket upgrades a request to a DDP session.
func (h *Handler) websocket(w http.ResponseWriter, r *http.Request) {
	key, status, why := wsnb.CheckHandshake(r)
	if status == 0 && !h.wsOriginAllowed(r) {
		status, why = http.StatusForbidden, "origin not allowed"
	}
	if status != 0 {
		if status == http.StatusUpgradeRequired {
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		http.Error(w, why, status)
		return
	}
	// The session outlives the upgrade request; it keeps only its client
	// address, for the abuse limits.
	ctx, cancel := context.WithCancel(conversation.WithClientAddr(context.Background(), conversation.ClientAddr(r.Context())))
	s := &session{h: h, id: randomID(17), ctx: ctx, cancel: cancel, subs: map[string]*sub{}}
	s.Hear(h.now())
	err := h.ws.Accept(w, key, func(c *wsnb.Conn) wsnb.Handler {
		s.conn = c
		return s
	})
	if err != nil {
		h.log.Warn("rocketchat websocket: take the socket", "err", err)
	}
}

func (h *Handler) wsOriginAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || origin.Allowed(h.opt.AllowedOrigins, o) {
		return true
	}
	// The page of Parley's own origin.
	return sameHost(o, r.Host)
}

// OnOpen registers the session and puts it on the keep-alive wheel.
func (s *session) OnOpen() {
	h := s.h
	h.mu.Lock()
	closing := h.closing
	if !closing {
		h.sessions[s] = struct{}{}
	}
	h.mu.Unlock()
	if closing {
		s.conn.Close(1001, "server is shutting down")
		return
	}
	h.keep.Add(s)
}

// OnPong notes a WebSocket pong.
func (s *session) OnPong() { s.Hear(s.h.now()) }

// Ping sends a DDP ping; the answering pong is heard as a frame.
func (s *session) Ping() error { return s.conn.WriteText([]byte(`{"msg":"ping"}`)) }

// Abort drops the connection.
func (s *session) Abort() { s.conn.Abort() }

// OnClose ends the session: its subscriptions end and the guest's
// presence through them is released.
func (s *session) OnClose() {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	subs := make([]*sub, 0, len(s.subs))
	for _, x := range s.subs {
		subs = append(subs, x)
	}
	s.subs = map[string]*sub{}
	s.mu.Unlock()
	s.cancel()
	for _, x := range subs {
		x.end()
	}
	s.h.keep.Remove(s)
	s.h.mu.Lock()
	delete(s.h.sessions, s)
	s.h.mu.Unlock()
}

// OnMessage handles one client frame.
func (s *session) OnMessage(text bool, data []byte) {
	s.Hear(s.h.now())
	if !text {
		s.send(outFrame{Msg: "error", Reason: "Bad request"})
		return
	}
	f, err := DecodeFrame(data)
	if err != nil {
		var off json.RawMessage
		if json.Valid(data) && len(data) <= maxFrame {
			off = data
		}
		s.send(outFrame{Msg: "error", Reason: err.Error(), OffendingMessage: off})
		return
	}
	s.mu.Lock()
	connected := s.connected
	s.mu.Unlock()
	if !connected {
		s.onConnect(f, data)
		return
	}
	switch f.Msg {
	case "ping":
		s.send(outFrame{Msg: "pong", ID: f.ID})
	case "pong":
	case "method":
		s.onMethod(f, data)
	case "sub":
		s.onSub(f, data)
	case "unsub":
		if f.ID == nil {
			s.send(outFrame{Msg: "error", Reason: "Bad request", OffendingMessage: data})
			return
		}
		s.unsub(*f.ID)
	case "connect":
		s.send(outFrame{Msg: "error", Reason: "Already connected", OffendingMessage: data})
	default:
		s.send(outFrame{Msg: "error", Reason: "Bad request", OffendingMessage: data})
	}
}

// onConnect answers the first frame, which must be a connect.
func (s *session) onConnect(f Frame, data []byte) {
	if f.Msg == "ping" {
		s.send(outFrame{Msg: "pong", ID: f.ID})
		return
	}
	if f.Msg != "connect" {
		s.send(outFrame{Msg: "error", Reason: "Must connect first", OffendingMessage: data})
		return
	}
	ok := f.Version == "1"
	if !ok {
		for _, v := range f.Support {
			ok = ok || v == "1"
		}
	}
	if !ok || (f.Version != "1" && f.Version != "") {
		s.send(outFrame{Msg: "failed", Version: "1"})
		s.conn.Close(1000, "unsupported DDP version")
		return
	}
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	s.send(outFrame{Msg: "connected", Session: s.id})
}

// send queues a frame; on failure the connection is dropped.
func (s *session) send(f outFrame) bool {
	data, err := json.Marshal(f)
	if err != nil {
		s.h.log.Error("encode DDP frame", "err", err)
		return false
	}
	if err := s.conn.WriteText(data); err != nil {
		s.conn.Abort()
		return false
	}
	return true
}

// onMethod runs a method and sends its result, then "updated".
func (s *session) onMethod(f Frame, data []byte) {
	if f.ID == nil || f.Method == "" {
		s.send(outFrame{Msg: "error", Reason: "Bad request", OffendingMessage: data})
		return
	}
	res, err := s.call(f.Method, f.Params)
	out := outFrame{Msg: "result", ID: f.ID, Result: res}
	if err != nil {
		out.Result = nil
		out.Error = s.methodError(f.Method, err)
	}
	s.send(out)
	s.send(outFrame{Msg: "updated", Methods: []string{*f.ID}})
}

// methodError turns an error into Meteor's error object.
func (s *session) methodError(method string, err error) *MeteorError {
	var nf *notFoundMethod
	if asNotFound(err, &nf) {
		return meteorError(404, "Method '"+nf.name+"' not found")
	}
	if parley.ErrorCode(err) == parley.EINTERNAL {
		s.h.log.Error("rocketchat method failed", "method", method, "err", err)
	}
	re := asRC(err, "error-invalid-room")
	if re.rc == "match" {
		return meteorError(400, "Match failed")
	}
	return meteorError(re.rc, re.reason)
}
