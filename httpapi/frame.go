package httpapi

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// maxFrame bounds a client WebSocket frame.
const maxFrame = 64 << 10

// maxSubscriptions bounds the chats one connection follows.
const maxSubscriptions = 200

// Client frame types.
const (
	frameHello       = "hello"
	frameSubscribe   = "subscribe"
	frameUnsubscribe = "unsubscribe"
	frameSend        = "send"
	frameTyping      = "typing"
	frameSeen        = "seen"
	frameSignal      = "signal"
	framePing        = "ping"
)

// ClientFrame is a frame a client sends over the WebSocket.
type ClientFrame struct {
	Type string `json:"type"`
	// Ref is echoed in the ack or error answering this frame.
	Ref string `json:"ref,omitempty"`
	// Token authenticates a hello (unless the upgrade request carried a
	// bearer token or session cookie).
	Token string `json:"token,omitempty"`
	// Chats maps chat IDs to the last sequence number the client has, in a
	// hello.
	Chats    map[string]int64 `json:"chats,omitempty"`
	ChatID   string           `json:"chat_id,omitempty"`
	After    int64            `json:"after,omitempty"`
	Text     string           `json:"text,omitempty"`
	ClientID string           `json:"client_id,omitempty"`
	Typing   bool             `json:"typing,omitempty"`
	// Seq is the last event read, in a seen frame.
	Seq int64 `json:"seq,omitempty"`
	// Signal is a call signal (parley.CallSignal), in a signal frame.
	Signal json.RawMessage `json:"signal,omitempty"`
}

// decodeFrame parses and checks a client frame. Anything malformed gives
// an EINVALID error; it never panics, whatever the input.
func decodeFrame(data []byte) (ClientFrame, error) {
	var f ClientFrame
	if len(data) > maxFrame {
		return f, parley.Errorf(parley.ETOOLARGE, "frame is larger than %d bytes", maxFrame)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return ClientFrame{}, jsonError(err)
	}
	if dec.More() {
		return ClientFrame{}, parley.Errorf(parley.EINVALID, "a frame holds one JSON object")
	}
	if len(f.Ref) > 64 {
		return ClientFrame{}, parley.Errorf(parley.EINVALID, "ref is longer than 64 characters")
	}
	needChat := func() error {
		if f.ChatID == "" {
			return parley.Errorf(parley.EINVALID, "%s needs chat_id", f.Type)
		}
		return nil
	}
	var err error
	switch f.Type {
	case frameHello:
		if len(f.Chats) > maxSubscriptions {
			err = parley.Errorf(parley.EINVALID, "a hello lists at most %d chats", maxSubscriptions)
		}
		for _, after := range f.Chats {
			if after < 0 {
				err = parley.Errorf(parley.EINVALID, "sequence numbers must not be negative")
			}
		}
	case frameSubscribe:
		if err = needChat(); err == nil && f.After < 0 {
			err = parley.Errorf(parley.EINVALID, "after must not be negative")
		}
	case frameUnsubscribe, frameTyping:
		err = needChat()
	case frameSend:
		err = needChat()
	case frameSignal:
		if err = needChat(); err == nil && len(f.Signal) == 0 {
			err = parley.Errorf(parley.EINVALID, "signal needs signal, the call signal")
		}
	case frameSeen:
		if err = needChat(); err == nil && f.Seq < 1 {
			err = parley.Errorf(parley.EINVALID, "seen needs seq, the last event read")
		}
	case framePing:
	case "":
		err = parley.Errorf(parley.EINVALID, "frame type is missing")
	default:
		err = parley.Errorf(parley.EINVALID, "unknown frame type %q", f.Type)
	}
	if err != nil {
		return ClientFrame{}, err
	}
	return f, nil
}

// Server frame types.
const (
	frameReady = "ready" // the hello was accepted; Actor is set
	frameChat  = "chat"  // a chat snapshot, sent when a subscription starts
	frameEvent = "event" // one event of a chat's log (or an ephemeral one)
	frameAck   = "ack"   // a send was stored; Event is the stored event
	frameError = "error" // a frame failed; Ref names it
	framePong  = "pong"
)

// ServerFrame is a frame the server sends. Agents also get the agent
// notice types of package conversation (offer, revoke, assigned, removed,
// agent) as frames of that type.
type ServerFrame struct {
	Type   string                 `json:"type"`
	Ref    string                 `json:"ref,omitempty"`
	Actor  *ActorInfo             `json:"actor,omitempty"`
	Chat   *conversation.ChatView `json:"chat,omitempty"`
	ChatID string                 `json:"chat_id,omitempty"`
	Event  *parley.Event          `json:"event,omitempty"`
	Agent  *parley.Agent          `json:"agent,omitempty"`
	// Message is set on internal frames: a message between agents.
	Message *parley.InternalMessage `json:"message,omitempty"`
	// Overview is set on overview frames (supervisors and admins).
	Overview *conversation.Overview `json:"overview,omitempty"`
	Error    *ErrorInfo             `json:"error,omitempty"`
}

// ActorInfo says who a connection is authenticated as.
type ActorInfo struct {
	Kind      parley.PartyKind `json:"kind"`
	VisitorID string           `json:"visitor_id,omitempty"`
	Agent     *parley.Agent    `json:"agent,omitempty"`
}

// ErrorInfo is the error of an error frame.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfter is how many seconds to wait before trying again, when
	// the server says (REST's Retry-After).
	RetryAfter int64 `json:"retry_after,omitempty"`
}

func errorFrame(ref string, err error) ServerFrame {
	info := &ErrorInfo{Code: parley.ErrorCode(err), Message: parley.ErrorMessage(err)}
	if after := parley.RetryAfter(err); after > 0 {
		info.RetryAfter = max(int64((after+time.Second-1)/time.Second), 1)
	}
	return ServerFrame{Type: frameError, Ref: ref, Error: info}
}
