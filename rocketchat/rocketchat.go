// Package rocketchat serves the Rocket.Chat Livechat API, so the
// Rocket.Chat widget (@rocket.chat/livechat) and DDP clients written for
// Rocket.Chat's realtime API work against Parley: DDP over a WebSocket at
// /websocket (legacy livechat methods and the room streams) and REST
// under /api/v1/livechat/. It only translates between those wire formats
// and conversation.Service; the rules live there. Departments are Parley
// groups, rooms are chats, guests are visitors. docs/compat-rocketchat.md
// lists what maps to what and every deviation.
package rocketchat

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/httperr"
	"github.com/parleychat/parley/internal/origin"
	"github.com/parleychat/parley/internal/wsnb"
)

// Trigger is a Livechat trigger rule as the widget reads it from the
// configuration: {_id, name, enabled, runOnce, conditions, actions}. Its
// conditions and actions are passed through as given.
type Trigger = map[string]any

// Theme is the widget's look, from the widget configuration.
type Theme struct {
	Title        string
	Color        string
	OfflineTitle string
	OfflineColor string
	Position     string // "left" or "right"
}

// Options configure a Handler.
type Options struct {
	// Prefix, when set, serves everything under it as well (e.g.
	// "/rocketchat": /rocketchat/websocket, /rocketchat/api/v1/livechat/).
	Prefix string
	// TenantID is the tenant whose groups are the departments; 0 is the
	// default tenant.
	TenantID int64
	// AllowedOrigins lists the web origins whose pages may call the API
	// (CORS) and open the WebSocket; "*" allows any.
	AllowedOrigins []string
	// Theme is the widget's look where the widget configuration does not
	// set it; empty fields take Parley's defaults.
	Theme Theme
	// WidgetConfig, when set, returns the server layer of Parley's widget
	// configuration (the keys of docs/widget.md) with the tenant's
	// appearance over it: title, headerBackground, offlineColor,
	// offlineTitle, position, lang, offlineForm, transcript, prechatName
	// and prechatEmail shape the Rocket.Chat widget too.
	WidgetConfig func(ctx context.Context, tenantID int64) (map[string]any, error)
	// Triggers returns the trigger rules of the configuration; nil means
	// none.
	Triggers func(ctx context.Context, tenantID int64) ([]Trigger, error)
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// PingInterval is the DDP keep-alive interval (25 s when 0): a
	// session silent for half of it is pinged and dropped when it has
	// not answered by the next check.
	PingInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// WidgetDir, when set, is the build/ folder of the published
	// @rocket.chat/livechat package, served at /livechat as Rocket.Chat
	// serves it, so the widget's loader can point at Parley.
	WidgetDir string
}

// APIPrefix is where the REST API lives; the native API keeps the rest
// of /api/v1/.
const APIPrefix = "/api/v1/livechat/"

// Handler serves the Rocket.Chat dialect.
type Handler struct {
	svc    *conversation.Service
	opt    Options
	log    *slog.Logger
	now    func() time.Time
	guests *guests
	ws     *wsnb.Engine
	keep   *wsnb.KeepAlive

	mu       sync.Mutex
	sessions map[*session]struct{}
	closing  bool
	offline  offlineLimiter
}

// New returns the dialect over svc.
func New(svc *conversation.Service, opt Options) *Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.PingInterval <= 0 {
		opt.PingInterval = 25 * time.Second
	}
	if opt.TenantID == 0 {
		opt.TenantID = parley.DefaultTenantID
	}
	opt.Prefix = strings.TrimSuffix(opt.Prefix, "/")
	h := &Handler{svc: svc, opt: opt, log: opt.Logger, now: opt.Now, guests: newGuests(opt.Now),
		sessions: map[*session]struct{}{}}
	h.ws = wsnb.NewEngine("parley-rocketchat", maxFrame)
	h.keep = wsnb.NewKeepAlive(opt.PingInterval, opt.Now, h.log.Debug)
	h.offline.last = map[string]time.Time{}
	return h
}

// Shutdown closes every DDP session; clients reconnect and resume.
func (h *Handler) Shutdown() {
	h.mu.Lock()
	h.closing = true
	ss := make([]*session, 0, len(h.sessions))
	for s := range h.sessions {
		ss = append(ss, s)
	}
	h.mu.Unlock()
	for _, s := range ss {
		s.conn.Close(1001, "server restarting")
	}
	h.keep.Close()
	h.ws.Stop()
}

// Sessions returns the number of open DDP sessions.
func (h *Handler) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// Serves reports whether r is for this dialect.
func (h *Handler) Serves(r *http.Request) bool {
	_, ok := h.route(r.URL.Path)
	return ok
}

// route strips the configured prefix and reports whether the rest is
// one of the dialect's paths.
func (h *Handler) route(p string) (string, bool) {
	if h.opt.Prefix != "" && strings.HasPrefix(p, h.opt.Prefix+"/") {
		p = p[len(h.opt.Prefix):]
	}
	switch {
	case p == "/websocket", p == "/websocket/":
		return p, true
	case strings.HasPrefix(p, APIPrefix):
		return p, true
	case strings.HasPrefix(p, filePrefix):
		return p, true
	case h.opt.WidgetDir != "" && (p == widgetPath || strings.HasPrefix(p, widgetPath+"/") || strings.HasPrefix(p, avatarPrefix)):
		return p, true
	}
	return "", false
}

// Wrap returns a handler that serves the dialect's paths and passes every
// other request to next.
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.Serves(r) {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the DDP WebSocket and the REST API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, ok := h.route(r.URL.Path)
	if !ok {
		h.fail(w, r, rcErr(parley.ENOTFOUND, "not-found", "Not found"))
		return
	}
	if strings.HasPrefix(p, "/websocket") {
		h.websocket(w, r)
		return
	}
	if p == widgetPath || strings.HasPrefix(p, widgetPath+"/") {
		h.serveWidget(w, r, p)
		return
	}
	if strings.HasPrefix(p, avatarPrefix) {
		serveAvatar(w, r, p[len(avatarPrefix):])
		return
	}
	w.Header().Add("Vary", "Origin")
	if o := r.Header.Get("Origin"); o != "" && origin.Allowed(h.opt.AllowedOrigins, o) {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", o)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			hd.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
			hd.Set("Access-Control-Allow-Headers", "Content-Type, X-Visitor-Token, X-Auth-Token, X-User-Id")
			hd.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if strings.HasPrefix(p, filePrefix) {
		h.serveFile(w, r, p[len(filePrefix):])
		return
	}
	h.rest(w, r, p[len(APIPrefix):])
}

// rcError is an error as Rocket.Chat names it: code is Parley's (it
// picks the status), rc Rocket.Chat's error string, reason its text.
type rcError struct {
	code   string
	rc     string
	reason string
}

func (e *rcError) Error() string { return "rocketchat: " + e.rc + ": " + e.reason }

// Unwrap gives Parley's code to parley.ErrorCode.
func (e *rcError) Unwrap() error { return &parley.Error{Code: e.code, Message: e.reason} }

func rcErr(code, rc, reason string) *rcError { return &rcError{code: code, rc: rc, reason: reason} }

// asRC names any error as Rocket.Chat would. fallback names the errors
// of missing or foreign rooms in the caller's context.
func asRC(err error, fallback string) *rcError {
	var re *rcError
	if errors.As(err, &re) {
		return re
	}
	msg := parley.ErrorMessage(err)
	switch code := parley.ErrorCode(err); code {
	case parley.EUNAVAILABLE:
		return rcErr(code, "service-unavailable", "The service is unavailable: "+msg)
	case parley.ENOTFOUND, parley.EFORBIDDEN, parley.EUNAUTHORIZED:
		return rcErr(code, fallback, msg)
	case parley.ECLOSED:
		return rcErr(code, "room-closed", msg)
	case parley.ETOOLARGE:
		return rcErr(code, "message-length-exceeds-character-limit", msg)
	case parley.ETOOMANY:
		return rcErr(code, "error-too-many-requests", msg)
	case parley.EINTERNAL:
		return rcErr(code, "error-internal", "Internal error")
	default:
		return rcErr(code, "error-invalid-params", msg)
	}
}

// restStatus is the HTTP status of a failure: Rocket.Chat answers 400
// for the errors of a request (a bad token too), Parley keeps its statuses
// for load limits, throttling, oversize bodies and its own faults.
func restStatus(code string) int {
	switch code {
	case parley.EUNAVAILABLE, parley.ETOOMANY, parley.EINTERNAL, parley.ETOOLARGE:
		return httperr.Status(code)
	}
	return http.StatusBadRequest
}

// dialect writes the REST API's JSON.
var dialect = httperr.Dialect{
	ContentType: "application/json",
	Shape:       func(code, message string) any { return failure{Error: code, Message: message} },
}

// failure is Rocket.Chat's error envelope.
type failure struct {
	Success bool   `json:"success"`
	Error   string `json:"error"`
	// Message is Parley's text for the error (an extension).
	Message string `json:"message,omitempty"`
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if parley.ErrorCode(err) == parley.EINTERNAL {
		h.log.Error("rocketchat request failed", "path", r.URL.Path, "err", err)
	}
	re := asRC(err, "invalid-room")
	switch after := parley.RetryAfter(err); {
	case after > 0:
		w.Header().Set("Retry-After", httperr.RetryAfterSeconds(after))
	case re.code == parley.ETOOMANY || re.code == parley.EUNAVAILABLE:
		w.Header().Set("Retry-After", "5")
	}
	msg := re.reason
	if msg == re.rc {
		msg = ""
	}
	dialect.JSON(w, restStatus(re.code), failure{Error: re.rc, Message: msg})
}
