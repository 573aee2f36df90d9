// Package micc serves the Mitel MiCC Enterprise Chat Service API, so a
// custom chat client written for MiCC works against Parley unchanged:
// POST /chatservice/<Method> with a JSON body {"request": {…}}, answered
// with the documented result objects. It only translates between that wire
// format and conversation.Service; the rules live there.
//
// A MiCC client knows a chat by its ChatID alone, so the ChatID handed out
// by RequestChat carries the visitor's credential: "<chat id>.<visitor
// token>". Whoever holds it is the chat's customer, exactly as with MiCC.
package micc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/httperr"
	"github.com/parleychat/parley/internal/origin"
)

// DefaultPort is the Chat service's port on a MiCC server; Parley listens
// on it only when configured to (micc-addr).
const DefaultPort = 12616

// Prefix is the path the service is mounted under, matched in any case
// (the reference writes both /chatservice/ and /ChatService/).
const Prefix = "/chatservice/"

// Options configure a Handler.
type Options struct {
	// AllowedOrigins lists the web origins that may call the service from
	// a browser (CORS); "*" allows any.
	AllowedOrigins []string
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// MaxWait caps GetEvents' Timeout (60 s, also the most allowed).
	MaxWait time.Duration
}

// Handler is the Chat service.
type Handler struct {
	svc     *conversation.Service
	opt     Options
	log     *slog.Logger
	polling atomic.Int64

	// stopping ends long-polls when the server shuts down.
	stopping context.Context
	stop     context.CancelFunc
}

// New returns the Chat service over svc.
func New(svc *conversation.Service, opt Options) *Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxWait <= 0 || opt.MaxWait > conversation.MaxPollWait {
		opt.MaxWait = conversation.MaxPollWait
	}
	h := &Handler{svc: svc, opt: opt, log: opt.Logger}
	h.stopping, h.stop = context.WithCancel(context.Background())
	return h
}

// Shutdown answers waiting GetEvents calls with what they have, so clients
// poll again after the restart or on another node.
func (h *Handler) Shutdown() { h.stop() }

// Polling returns the number of GetEvents calls waiting now.
func (h *Handler) Polling() int { return int(h.polling.Load()) }

// Wrap returns a handler that serves the Chat service under Prefix (in any
// case) and passes every other request to next.
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hasPrefixFold(r.URL.Path, Prefix) {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// method is one operation of the service. It returns the result object,
// or nil for a void method.
type method struct {
	name string
	// bodyLimit bounds the request body; 0 means maxBody.
	bodyLimit func(*Handler) int64
	call      func(h *Handler, w http.ResponseWriter, r *http.Request, body []byte) (any, error)
}

// maxBody bounds request bodies without attachments.
const maxBody = 64 << 10

// methods is the service's operation table, by lower-case name.
var methods = func() map[string]method {
	m := map[string]method{}
	for _, op := range []method{
		{name: "RequestChat", call: (*Handler).requestChat},
		{name: "LeaveChat", call: (*Handler).leaveChat},
		{name: "SendMessage", call: (*Handler).sendMessage, bodyLimit: (*Handler).attachmentBody},
		{name: "SendTyping", call: (*Handler).sendTyping},
		{name: "GetEvents", call: (*Handler).getEvents},
		{name: "GetQueueInfo", call: (*Handler).getQueueInfo},
		{name: "GetChatInfo", call: (*Handler).getChatInfo},
		{name: "GetChatConfiguration", call: (*Handler).getChatConfiguration},
		{name: "GetVersion", call: (*Handler).getVersion},
	} {
		m[strings.ToLower(op.name)] = op
	}
	return m
}()

// ServeHTTP serves /chatservice/<Method>.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin != "" && h.originAllowed(origin) {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", origin)
		hd.Set("Access-Control-Expose-Headers", "X-Parley-Cursor")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			hd.Set("Access-Control-Allow-Methods", "POST")
			hd.Set("Access-Control-Allow-Headers", "Content-Type")
			hd.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if !hasPrefixFold(r.URL.Path, Prefix) {
		h.fault(w, r, parley.Errorf(parley.ENOTFOUND, "no such endpoint; the Chat service is under %s", Prefix))
		return
	}
	name := r.URL.Path[len(Prefix):]
	m, ok := methods[strings.ToLower(name)]
	if !ok {
		h.fault(w, r, parley.Errorf(parley.ENOTFOUND, "unknown method %q", name))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, Fault{Code: "method_not_allowed", Message: fmt.Sprintf("%s is not allowed; use POST", r.Method)})
		return
	}
	limit := int64(maxBody)
	if m.bodyLimit != nil {
		limit = m.bodyLimit(h)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = parley.Errorf(parley.ETOOLARGE, "the body is larger than %d bytes", tooBig.Limit)
		} else {
			err = parley.Errorf(parley.EINVALID, "the body could not be read")
		}
		h.fault(w, r, err)
		return
	}
	res, err := m.call(h, w, r, body)
	switch {
	case err != nil:
		h.fault(w, r, err)
	case res == nil:
		// A void method: success without a body.
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	default:
		if _, ok := res.(written); !ok {
			writeJSON(w, http.StatusOK, res)
		}
	}
}

// written is returned by a method that wrote its own response.
type written struct{}

func (h *Handler) originAllowed(o string) bool { return origin.Allowed(h.opt.AllowedOrigins, o) }

// dialect is the service's JSON: faults are {"Message", "Code"}.
var dialect = httperr.Dialect{
	ContentType: "application/json; charset=utf-8",
	Shape:       func(code, message string) any { return Fault{Message: message, Code: code} },
}

// fault writes err as a fault and logs it when it is internal.
func (h *Handler) fault(w http.ResponseWriter, r *http.Request, err error) {
	if parley.ErrorCode(err) == parley.EINTERNAL {
		h.log.Error("chat service request failed", "path", r.URL.Path, "err", err)
	}
	dialect.Error(w, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) { dialect.JSON(w, status, v) }

// WriteFault writes err as a fault, for handlers in front of the service
// (the body deadline).
func WriteFault(w http.ResponseWriter, err error) { dialect.Error(w, err) }

// Serves reports whether r is a request for the Chat service.
func Serves(r *http.Request) bool { return hasPrefixFold(r.URL.Path, Prefix) }

// chatRef is a MiCC ChatID taken apart.
type chatRef struct {
	raw   string // as the client sent it, echoed in events
	id    string // the Parley chat ID
	actor conversation.Actor
	view  *conversation.ChatView
}

// errUnknownChat hides whether a chat exists from whoever does not hold
// its ChatID.
var errUnknownChat = parley.Errorf(parley.ENOTFOUND, "unknown ChatID")

// chat authenticates a ChatID.
func (h *Handler) chat(ctx context.Context, chatID string) (chatRef, error) {
	if chatID == "" {
		return chatRef{}, parley.Errorf(parley.EINVALID, "ChatID is required")
	}
	id, token, ok := strings.Cut(chatID, ".")
	if !ok || len(chatID) > 200 {
		return chatRef{}, errUnknownChat
	}
	actor, err := h.svc.Authenticate(ctx, token)
	switch {
	case parley.ErrorCode(err) == parley.EUNAUTHORIZED, err == nil && !actor.IsVisitor():
		return chatRef{}, errUnknownChat
	case err != nil:
		return chatRef{}, err
	}
	v, err := h.svc.Chat(ctx, actor, id)
	switch parley.ErrorCode(err) {
	case "":
	case parley.ENOTFOUND, parley.EFORBIDDEN:
		// A token with another chat's ID.
		return chatRef{}, errUnknownChat
	default:
		return chatRef{}, err
	}
	return chatRef{raw: chatID, id: id, actor: actor, view: v}, nil
}

func (h *Handler) requestChat(_ http.ResponseWriter, r *http.Request, body []byte) (any, error) {
	var req RequestChatRequest
	if err := decodeRequest(body, &req); err != nil {
		return nil, err
	}
	if req.ServiceGroupID == 0 && strings.TrimSpace(req.ServiceGroupName) == "" {
		return nil, parley.Errorf(parley.EINVALID, "ServiceGroupID or ServiceGroupName is required")
	}
	if req.ServiceGroupID < 0 {
		return nil, parley.Errorf(parley.EINVALID, "ServiceGroupID must not be negative")
	}
	started, err := h.svc.RequestChat(r.Context(), conversation.ChatRequest{
		TenantID:  tenant(req.TenantID),
		GroupID:   req.ServiceGroupID,
		GroupName: req.ServiceGroupName,
		Visitor: parley.Visitor{
			Name: req.CustomerName, Email: req.EmailAddress, Phone: req.PhoneNumber,
			CustomerID: req.CustomerID, PrivateData: req.PrivateData, TZOffset: req.TimeZoneOffset,
		},
		SessionID: req.SessionID,
		Message:   req.InitialMessage,
	})
	if parley.ErrorCode(err) == parley.ECLOSED {
		// Not a fault: ChatID null and the group-closed message.
		return RequestChatResponse{Message: parley.ErrorMessage(err), EstimatedWaitTime: -1}, nil
	}
	if err != nil {
		return nil, err
	}
	chatID := started.Chat.ID + "." + started.VisitorToken
	res := RequestChatResponse{ChatID: &chatID, Message: started.Message, EstimatedWaitTime: -1}
	if q := started.Chat.Queue; q != nil {
		res.QueuePosition, res.EstimatedWaitTime = q.Position, q.EstimatedWait
	}
	return res, nil
}

// tenant maps MiCC's TenantID (-1 or 0: not tenanted) to Parley's.
func tenant(id int64) int64 {
	if id == 0 {
		return parley.DefaultTenantID
	}
	return id
}

func (h *Handler) leaveChat(_ http.ResponseWriter, r *http.Request, body []byte) (any, error) {
	var req LeaveChatRequest
	if err := decodeRequest(body, &req); err != nil {
		return nil, err
	}
	c, err := h.chat(r.Context(), req.ChatID)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.Leave(r.Context(), c.actor, c.id)
}

// attachmentBody is the body limit of SendMessage: the largest attachment
// written as an array of numbers (up to four bytes per byte), plus room.
func (h *Handler) attachmentBody() int64 {
	kb := max(h.svc.Config().MaxAttachmentKB, 0)
	return int64(kb)*1024*4 + maxBody
}

func (h *Handler) sendMessage(_ http.ResponseWriter, r *http.Request, body []byte) (any, error) {
	var req SendChatMessageRequest
	if err := decodeRequest(body, &req); err != nil {
		return nil, err
	}
	c, err := h.chat(r.Context(), req.ChatID)
	if err != nil {
		return nil, err
	}
	// An Attachment that is present, even empty, makes a file message, so
	// an empty one is refused as the native upload refuses it.
	if req.Attachment != nil {
		_, err = h.svc.SendFile(r.Context(), c.actor, c.id, req.Message, bytes.NewReader(req.Attachment))
	} else {
		_, err = h.svc.Send(r.Context(), c.actor, c.id, req.Message, conversation.SendOptions{})
	}
	return nil, err
}

func (h *Handler) sendTyping(_ http.ResponseWriter, r *http.Request, body []byte) (any, error) {
	var req SendTypingRequest
	if err := decodeRequest(body, &req); err != nil {
		return nil, err
	}
	c, err := h.chat(r.Context(), req.ChatID)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.Typing(r.Context(), c.actor, c.id, true)
}

func (h *Handler) getQueueInfo(_ http.ResponseWriter, r *http.Request, body []byte) (any, error) {
	var req GetQueueInfoRequest
	if err := decodeRequest(body, &req); err != nil {
		return nil, err
	}
	if req.ServiceGroupID == 0 && strings.TrimSpace(req.ServiceGroupName) == "" {
		return nil, parley.Errorf(parley.EINVALID, "ServiceGroupID or ServiceGroupName is required")
	}
	st, err := h.svc.GroupStatus(r.Context(), tenant(req.TenantID), req.ServiceGroupID, req.ServiceGroupName)
	if err != nil {
		return nil, err
	}
	return GetQueueInfoResponse{EstimatedWaitTime: st.EstimatedWait, Open: st.Open}, nil
}

func (h *Handler) getChatInfo(_ http.ResponseWriter, r *http.Request, body []byte) (any, error) {
	var req GetChatInfoRequest
	if err := decodeRequest(body, &req); err != nil {
		return nil, err
	}
	c, err := h.chat(r.Context(), req.ChatID)
	if err != nil {
		return nil, err
	}
	v := c.view
	res := GetChatInfoResponse{State: int(v.State)}
	if v.Queue != nil {
		res.QueuePosition = v.Queue.Position
	}
	return res, nil
}

func (h *Handler) getChatConfiguration(_ http.ResponseWriter, _ *http.Request, body []byte) (any, error) {
	var req struct{}
	if err := decodeRequest(body, &req); err != nil {
		return nil, err
	}
	cfg := h.svc.Config()
	res := GetChatConfigurationResponse{
		MaxMessageLength:          cfg.MaxMessageLength,
		MaxAttachmentSize:         max(cfg.MaxAttachmentKB, 0) * 1024,
		AllowedAttachmentTypes:    append([]string{}, cfg.AllowedAttachmentTypes...),
		RestrictedAttachmentTypes: append([]string{}, cfg.RestrictedAttachmentTypes...),
	}
	return res, nil
}

func (h *Handler) getVersion(_ http.ResponseWriter, _ *http.Request, body []byte) (any, error) {
	var req struct{}
	if err := decodeRequest(body, &req); err != nil {
		return nil, err
	}
	return parley.Version, nil
}

// getEvents long-polls the chat's events after the client's position; see
// positionReader for how a retried call gets the events of a lost
// response, and how another node continues.
func (h *Handler) getEvents(w http.ResponseWriter, r *http.Request, body []byte) (any, error) {
	var req GetEventsRequest
	if err := decodeRequest(body, &req); err != nil {
		return nil, err
	}
	if req.Timeout < 0 {
		return nil, parley.Errorf(parley.EINVALID, "Timeout must not be negative")
	}
	if req.Cursor != nil && *req.Cursor < 0 {
		return nil, parley.Errorf(parley.EINVALID, "Cursor must not be negative")
	}
	c, err := h.chat(r.Context(), req.ChatID)
	if err != nil {
		return nil, err
	}
	stored, err := h.svc.ReadPosition(r.Context(), c.actor, c.id, positionReader)
	if err != nil {
		return nil, err
	}
	after := stored
	if req.Cursor != nil {
		after = *req.Cursor
	}
	// Cap before converting: a huge Timeout would overflow a Duration.
	wait := time.Duration(min(int64(req.Timeout), h.opt.MaxWait.Milliseconds())) * time.Millisecond

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(h.stopping, cancel)()
	h.polling.Add(1)
	out, last, err := h.poll(ctx, c, after, wait)
	h.polling.Add(-1)
	if err != nil {
		if r.Context().Err() != nil {
			return written{}, nil // the client is gone; nothing is delivered
		}
		if h.stopping.Err() == nil {
			return nil, err
		}
		// Shutting down: answer with nothing new; the client polls again.
		out, last = []ChatEvent{}, after
	}
	data, err := json.Marshal(GetEventsResponse{Events: out})
	if err != nil {
		return nil, fmt.Errorf("micc: encode events: %w", err)
	}
	if r.Context().Err() != nil {
		return written{}, nil // the client went away: the retry gets these events
	}
	w.Header().Set("X-Parley-Cursor", strconv.FormatInt(last, 10))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, werr := w.Write(data)
	if werr == nil {
		werr = http.NewResponseController(w).Flush()
	}
	// Only a response that left the server moves the position on, and
	// only the end of the response (after this returns) tells the client
	// it has it all. The client's connection is not checked again after
	// the flush: a client that reads the answer and closes at once cancels
	// the request, and would get the same events again.
	if werr == nil && last > stored {
		if err := h.svc.SavePosition(context.WithoutCancel(r.Context()), c.actor, c.id, positionReader, last); err != nil {
			// The next call gets these events again.
			h.log.Warn("micc: store the GetEvents position", "chat", c.id, "err", err)
		}
	}
	return written{}, nil
}

// poll waits up to wait for events the customer sees. Events that have no
// MiCC form (the customer's own messages) do not end the wait.
func (h *Handler) poll(ctx context.Context, c chatRef, after int64, wait time.Duration) ([]ChatEvent, int64, error) {
	deadline := time.Now().Add(wait)
	for {
		events, last, err := h.svc.Poll(ctx, c.actor, c.id, after, max(time.Until(deadline), 0))
		if err != nil {
			return nil, after, err
		}
		out, err := h.translate(ctx, c, events)
		if err != nil {
			return nil, after, err
		}
		after = last
		if len(out) > 0 || len(events) == 0 || !time.Now().Before(deadline) {
			return out, last, nil
		}
	}
}
