// Package gms serves the Genesys GMS Chat API Version 2, so a web client
// written for Genesys (Genesys Widgets, a GMS client library, a custom
// page) chats with Parley agents unchanged: form-encoded POSTs under
// /genesys/2/chat/{service}, the CometD variant under /genesys/cometd, and
// file operations, all answered with GMS's statusCode envelope. It only
// translates between that wire format and conversation.Service; the rules
// live there.
//
// A GMS client's secureKey is its Parley visitor token, so it is stored
// only hashed and outlives a restart. Each chat a client polls has a
// session in this node's memory (sessions.go): a cursor over the chat's
// log and the messages translated so far, so a refresh that finds nothing
// new reads nothing from the store.
package gms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/httperr"
	"github.com/parleychat/parley/internal/origin"
)

// Prefix is the path every GMS endpoint is under.
const Prefix = "/genesys/"

// DefaultService is the service name of Genesys' samples.
const DefaultService = "customer-support"

// DefaultAlias is the alias every answer carries (a GMS client sends it
// back; Parley does not need it).
const DefaultAlias = "parley"

// Target is where a GMS service's chats go: a Parley group of a tenant.
type Target struct {
	// TenantID 0 means the default tenant.
	TenantID int64
	// Group is the group's name.
	Group string
}

// Options configure a Handler.
type Options struct {
	// Services maps GMS service names to groups. A service not listed
	// goes to the group of the same name in the default tenant.
	Services map[string]Target
	// AllowedOrigins lists the web origins that may call the API from a
	// browser (CORS); "*" allows any.
	AllowedOrigins []string
	// Disconnected400 answers a refresh of an ended chat with HTTP 400
	// instead of 200 (GMS _chat_400_response_on_disconnected).
	Disconnected400 bool
	// Alias is the alias answers carry; empty means DefaultAlias.
	Alias string
	// Limits are the per-session file quotas; zero fields take their
	// defaults (see FileLimits).
	Limits FileLimits
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// CometTimeout is how long a CometD /meta/connect waits for events
	// (30 s).
	CometTimeout time.Duration
	// SessionTTL forgets a session (a client's place in one chat) unused
	// this long (10 min); the client's next request rebuilds it.
	SessionTTL time.Duration
}

// Handler serves the GMS Chat API.
type Handler struct {
	svc   *conversation.Service
	opt   Options
	log   *slog.Logger
	mux   *http.ServeMux
	sess  *sessions
	comet *comets

	polling atomic.Int64
	// stopping ends CometD long-polls when the server shuts down.
	stopping context.Context
	stop     context.CancelFunc
}

// New returns the GMS Chat API over svc.
func New(svc *conversation.Service, opt Options) *Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Alias == "" {
		opt.Alias = DefaultAlias
	}
	if opt.CometTimeout <= 0 || opt.CometTimeout > conversation.MaxPollWait {
		opt.CometTimeout = 30 * time.Second
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 10 * time.Minute
	}
	opt.Limits = opt.Limits.withDefaults(svc.Config())
	h := &Handler{svc: svc, opt: opt, log: opt.Logger}
	h.sess = newSessions(h, opt.SessionTTL)
	h.comet = newComets(opt.SessionTTL)
	h.stopping, h.stop = context.WithCancel(context.Background())
	m := http.NewServeMux()
	chat := "/genesys/2/chat/{service}"
	m.HandleFunc(chat, h.post(h.requestChat))
	m.HandleFunc(chat+"/{chat}/{op}", h.post(h.operation))
	m.HandleFunc(chat+"/{chat}/file", h.post(h.upload))
	m.HandleFunc(chat+"/{chat}/file/limits", h.post(h.fileLimits))
	m.HandleFunc(chat+"/{chat}/file/{file}/{fop}", h.post(h.fileOp))
	m.HandleFunc("/genesys/2/chat-ntf", h.post(h.chatNtf))
	m.HandleFunc("/genesys/cometd", h.cometd)
	m.HandleFunc("/genesys/cometd/{rest...}", h.cometd)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, parley.Errorf(parley.ENOTFOUND, "no such GMS endpoint"))
	})
	h.mux = m
	return h
}

// Shutdown answers waiting CometD connects, so clients reconnect after
// the restart or to another node.
func (h *Handler) Shutdown() { h.stop() }

// Polling returns the number of CometD connects waiting now.
func (h *Handler) Polling() int { return int(h.polling.Load()) }

// Serves reports whether r is a request for the GMS API.
func Serves(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, Prefix) }

// Wrap returns a handler that serves the GMS API under Prefix and passes
// every other request to next.
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Serves(r) {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the GMS API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	if o := r.Header.Get("Origin"); o != "" && origin.Allowed(h.opt.AllowedOrigins, o) {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", o)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			hd.Set("Access-Control-Allow-Methods", "POST")
			hd.Set("Access-Control-Allow-Headers", "Content-Type, apikey, X-Requested-With")
			hd.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// post wraps an operation: POST only; its error becomes the envelope.
func (h *Handler) post(op func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			h.fail(w, r, errMethod)
			return
		}
		if err := op(w, r); err != nil {
			h.fail(w, r, err)
		}
	}
}

var errMethod = &gmsError{code: CodeMethod, status: http.StatusMethodNotAllowed, err: parley.Errorf(parley.EINVALID, "use POST")}

// Envelope is every JSON answer of the API (GMS "API Responses").
type Envelope struct {
	// StatusCode is 0 on success, 1 for an error a retry may cure, 2 for
	// one it will not.
	StatusCode int `json:"statusCode"`
	// Errors says what went wrong when StatusCode is not 0.
	Errors       []ErrorItem       `json:"errors,omitempty"`
	Alias        string            `json:"alias,omitempty"`
	UserID       string            `json:"userId,omitempty"`
	SecureKey    string            `json:"secureKey,omitempty"`
	ChatID       string            `json:"chatId,omitempty"`
	ChatEnded    bool              `json:"chatEnded"`
	NextPosition int64             `json:"nextPosition,omitempty"`
	Messages     []Message         `json:"messages"`
	UserData     map[string]string `json:"userData,omitempty"`
}

// ErrorItem is one error of an envelope.
type ErrorItem struct {
	Code   int    `json:"code"`
	Advice string `json:"advice"`
}

// Message is one transcript event.
type Message struct {
	From        Party             `json:"from"`
	Index       int64             `json:"index"`
	Type        string            `json:"type"`
	UTCTime     int64             `json:"utcTime"`
	Text        string            `json:"text,omitempty"`
	MessageType string            `json:"messageType,omitempty"`
	UserData    map[string]string `json:"userData,omitempty"`
}

// Party is the author of a transcript event.
type Party struct {
	Nickname      string `json:"nickname"`
	ParticipantID int    `json:"participantId"`
	Type          string `json:"type"`
}

// Error codes of the envelope's errors[]. Genesys does not publish GMS
// v2's table; the Chat Server codes Genesys support quotes are used where
// they apply (8201, 8209, 8210), HTTP-like numbers elsewhere.
const (
	CodeInvalid     = 400  // a parameter is missing or malformed
	CodeForbidden   = 403  // not allowed (e.g. another party's file)
	CodeNotFound    = 404  // no such service, endpoint or file
	CodeMethod      = 405  // not a POST
	CodeTooLarge    = 413  // a message, file or body is too large
	CodeClosed      = 409  // the service takes no chats now (closed, no agents)
	CodeQuota       = 429  // a file quota of the session is used up
	CodeInternal    = 500  // an internal error; retry
	CodeUnavailable = 503  // the server is at its configured load limit; retry later
	CodeNoSession   = 8201 // no such chat for this client
	CodeLoggedOut   = 8209 // the chat has ended (e.g. the client was inactive too long)
	CodeBadKey      = 8210 // wrong secureKey; the chat's client was removed
)

// gmsError is an error with its envelope code and HTTP status.
type gmsError struct {
	code      int
	status    int
	chatEnded bool
	err       error
}

func (e *gmsError) Error() string { return e.err.Error() }
func (e *gmsError) Unwrap() error { return e.err }

// classify returns the envelope code, statusCode and HTTP status of err.
func classify(err error) (code, statusCode, status int, ended bool) {
	var ge *gmsError
	if errors.As(err, &ge) {
		sc := 2
		if ge.code == CodeInternal || ge.code == CodeUnavailable {
			sc = 1
		}
		return ge.code, sc, ge.status, ge.chatEnded
	}
	pc := parley.ErrorCode(err)
	status = httperr.Status(pc)
	switch pc {
	case parley.EINVALID, parley.ETIMEOUT:
		return CodeInvalid, 2, http.StatusBadRequest, false
	case parley.ENOTFOUND:
		return CodeNotFound, 2, status, false
	case parley.EFORBIDDEN:
		return CodeForbidden, 2, status, false
	case parley.EUNAUTHORIZED:
		return CodeBadKey, 2, status, false
	case parley.ECLOSED:
		return CodeLoggedOut, 2, http.StatusBadRequest, true
	case parley.ETOOLARGE:
		return CodeTooLarge, 2, status, false
	case parley.ETOOMANY:
		return CodeQuota, 2, status, false
	case parley.EUNAVAILABLE:
		return CodeUnavailable, 1, status, false
	case parley.ECONFLICT:
		return CodeInvalid, 2, status, false
	}
	return CodeInternal, 1, http.StatusInternalServerError, false
}

// envelopeOf returns err's envelope and HTTP status.
func (h *Handler) envelopeOf(err error) (Envelope, int) {
	code, sc, status, ended := classify(err)
	return Envelope{StatusCode: sc, Alias: h.opt.Alias, ChatEnded: ended, Messages: []Message{},
		Errors: []ErrorItem{{Code: code, Advice: parley.ErrorMessage(err)}}}, status
}

// fail writes err as an envelope and logs it when it is internal.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if parley.ErrorCode(err) == parley.EINTERNAL {
		h.log.Error("gms request failed", "path", r.URL.Path, "err", err)
	}
	env, status := h.envelopeOf(err)
	switch after := parley.RetryAfter(err); {
	case after > 0:
		w.Header().Set("Retry-After", httperr.RetryAfterSeconds(after))
	case status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, env)
}

var dialect = httperr.Dialect{
	ContentType: "application/json; charset=utf-8",
	Shape: func(code, message string) any {
		return Envelope{StatusCode: 1, Messages: []Message{}, Errors: []ErrorItem{{Code: CodeInternal, Advice: message}}}
	},
}

func writeJSON(w http.ResponseWriter, status int, v any) { dialect.JSON(w, status, v) }

// WriteError writes err as an envelope, for handlers in front of the API
// (the body deadline).
func WriteError(w http.ResponseWriter, err error) {
	env, status := (&Handler{opt: Options{Alias: DefaultAlias}}).envelopeOf(err)
	writeJSON(w, status, env)
}

// target resolves a service name to its tenant and group.
func (h *Handler) target(service string) (Target, error) {
	if t, ok := h.opt.Services[service]; ok {
		if t.TenantID == 0 {
			t.TenantID = parley.DefaultTenantID
		}
		return t, nil
	}
	if service == "" || len(service) > 200 {
		return Target{}, parley.Errorf(parley.ENOTFOUND, "unknown service")
	}
	return Target{TenantID: parley.DefaultTenantID, Group: service}, nil
}

// ParseServices reads a --gms-services value: comma-separated
// name=group or name=tenant:group entries.
func ParseServices(v string) (map[string]Target, error) {
	out := map[string]Target{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, target, ok := strings.Cut(item, "=")
		name, target = strings.TrimSpace(name), strings.TrimSpace(target)
		if !ok || name == "" || target == "" {
			return nil, fmt.Errorf("%q is not service=group or service=tenant:group", item)
		}
		t := Target{Group: target}
		if tenant, group, ok := strings.Cut(target, ":"); ok {
			var id int64
			if _, err := fmt.Sscan(tenant, &id); err != nil || id <= 0 {
				return nil, fmt.Errorf("%q: %q is not a tenant id", item, tenant)
			}
			t = Target{TenantID: id, Group: strings.TrimSpace(group)}
		}
		out[name] = t
	}
	return out, nil
}
