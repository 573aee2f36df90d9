// Package httpapi serves Parley's native API v1: REST, a WebSocket with
// resume, and a long-poll fallback, for visitors and agents, plus an admin
// API, health endpoints and the OpenAPI document. It only translates HTTP
// to calls on conversation.Service; the rules live there.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/httperr"
	"github.com/parleychat/parley/internal/origin"
	"github.com/parleychat/parley/internal/throttle"
	"github.com/parleychat/parley/internal/wsnb"
)

// Options configure a Server.
type Options struct {
	// AllowedOrigins lists the web origins (scheme://host[:port]) that may
	// call the API from a browser and open WebSockets. The server's own
	// origin is always allowed. "*" allows any origin (not recommended).
	AllowedOrigins []string
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
	// Registry receives the HTTP metrics; nil skips them.
	Registry prometheus.Registerer
	// Ready reports whether dependencies are up, for /readyz.
	Ready func(ctx context.Context) error
	// SecureCookies marks the session cookie Secure (behind HTTPS).
	SecureCookies bool
	// PingInterval is the WebSocket keep-alive period (25 s): a peer
	// silent for half of it is pinged, one that does not answer within
	// it is dropped.
	PingInterval time.Duration
	// HelloTimeout is how long a WebSocket may take to send its hello
	// before it is closed with 4002 (10 s).
	HelloTimeout time.Duration
	// LoginLimits throttle password attempts (login and password change)
	// per account; a client address may fail four times as often. Zero
	// values take DefaultLoginLimits.
	LoginLimits throttle.Limits
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client address; any other peer is the client itself.
	TrustedProxies throttle.Proxies
	// Now is the clock of the login throttle and the keep-alive; nil
	// means time.Now.
	Now func() time.Time
	// Directory, when set, is the company directory admins sync with
	// POST /api/v1/admin/directory/sync.
	Directory Directory
}

// DefaultLoginLimits: five failures in a row lock an account for a
// minute, each further one doubles that up to 15 minutes, and one failure
// is forgiven per 15 quiet minutes.
var DefaultLoginLimits = throttle.Limits{Failures: 5, Lockout: time.Minute, MaxLockout: 15 * time.Minute}

// Server is the native API.
type Server struct {
	svc     *conversation.Service
	opt     Options
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics

	// stopping ends long-polls when the server shuts down.
	stopping context.Context
	stop     context.CancelFunc

	// accounts and addrs throttle password guessing per account and per
	// client address; tellLogins shares what they count with the other
	// nodes of a cluster (throttle.go).
	accounts, addrs *throttle.Limiter
	tellLogins      func(ctx context.Context, kind, key string, failed bool)

	// conns tracks open WebSockets so Shutdown can close them and wait
	// for their sessions to end.
	connsMu  sync.Mutex
	conns    map[*wsConn]struct{}
	closing  bool
	sessions sync.WaitGroup

	now       func() time.Time // Options.Now or time.Now
	keepalive *wsnb.KeepAlive
	ws        *wsnb.Engine
}

// route is one endpoint of the API; the table drives both the mux and the
// OpenAPI consistency test.
type route struct {
	method, path string
	handler      func(*Server, http.ResponseWriter, *http.Request)
}

// routes lists every endpoint under /api/v1.
var routes = []route{
	{"GET", "/api/v1/openapi.json", (*Server).openAPI},
	{"GET", "/api/v1/config", (*Server).getConfig},
	{"GET", "/api/v1/groups/{id}/status", (*Server).groupStatus},
	{"POST", "/api/v1/chats", (*Server).requestChat},
	{"GET", "/api/v1/chats/{id}", (*Server).getChat},
	{"GET", "/api/v1/chats/{id}/events", (*Server).pollEvents},
	{"POST", "/api/v1/chats/{id}/messages", (*Server).sendMessage},
	{"POST", "/api/v1/chats/{id}/typing", (*Server).typing},
	{"POST", "/api/v1/chats/{id}/seen", (*Server).markSeen},
	{"POST", "/api/v1/chats/{id}/signal", (*Server).callSignal},
	{"GET", "/api/v1/chats/{id}/calls/{call}/ice", (*Server).callICE},
	{"POST", "/api/v1/chats/{id}/files", (*Server).uploadFile},
	{"GET", "/api/v1/chats/{id}/files/{file}", (*Server).downloadFile},
	{"POST", "/api/v1/chats/{id}/leave", (*Server).leave},
	{"POST", "/api/v1/chats/{id}/accept", (*Server).accept},
	{"POST", "/api/v1/chats/{id}/decline", (*Server).decline},
	{"POST", "/api/v1/chats/{id}/pick", (*Server).pick},
	{"POST", "/api/v1/chats/{id}/end", (*Server).end},
	{"POST", "/api/v1/chats/{id}/transfer", (*Server).transfer},
	{"POST", "/api/v1/chats/{id}/rating", (*Server).rateChat},
	{"POST", "/api/v1/chats/{id}/page", (*Server).visitorPage},
	{"POST", "/api/v1/offline-messages", (*Server).leaveOfflineMessage},
	{"GET", "/api/v1/offline-messages", (*Server).listOfflineMessages},
	{"GET", "/api/v1/public/agents", (*Server).publicAgents},
	{"GET", "/api/v1/public/agents/{id}", (*Server).publicAgent},
	{"GET", "/api/v1/public/triggers", (*Server).publicTriggers},
	{"POST", "/api/v1/auth/login", (*Server).login},
	{"POST", "/api/v1/auth/logout", (*Server).logout},
	{"GET", "/api/v1/me", (*Server).me},
	{"PUT", "/api/v1/me/presence", (*Server).setPresence},
	{"PUT", "/api/v1/me/password", (*Server).changePassword},
	{"GET", "/api/v1/me/chats", (*Server).myChats},
	{"GET", "/api/v1/groups", (*Server).listGroups},
	{"GET", "/api/v1/groups/{id}/queue", (*Server).groupQueue},
	{"GET", "/api/v1/agents", (*Server).listAgents},
	{"GET", "/api/v1/admin/tenants", (*Server).listTenants},
	{"POST", "/api/v1/admin/tenants", (*Server).createTenant},
	{"PATCH", "/api/v1/admin/tenants/{id}", (*Server).updateTenant},
	{"DELETE", "/api/v1/admin/tenants/{id}", (*Server).deleteTenant},
	{"GET", "/api/v1/admin/tenant", (*Server).ownTenant},
	{"GET", "/api/v1/admin/widget", (*Server).getWidget},
	{"PUT", "/api/v1/admin/widget", (*Server).putWidget},
	{"GET", "/api/v1/admin/groups", (*Server).adminGroups},
	{"POST", "/api/v1/admin/groups", (*Server).createGroup},
	{"POST", "/api/v1/admin/groups/transcript-preview", (*Server).previewTranscript},
	{"GET", "/api/v1/admin/groups/{id}", (*Server).adminGroup},
	{"PATCH", "/api/v1/admin/groups/{id}", (*Server).updateGroup},
	{"DELETE", "/api/v1/admin/groups/{id}", (*Server).deleteGroup},
	{"GET", "/api/v1/admin/agents", (*Server).adminAgents},
	{"POST", "/api/v1/admin/agents", (*Server).createAgent},
	{"GET", "/api/v1/admin/agents/{id}", (*Server).adminAgent},
	{"PATCH", "/api/v1/admin/agents/{id}", (*Server).updateAgent},
	{"GET", "/api/v1/admin/directory", (*Server).directoryStatus},
	{"POST", "/api/v1/admin/directory/sync", (*Server).syncDirectory},
	{"POST", "/api/v1/admin/agents/{id}/invite", (*Server).inviteAgent},
	{"POST", "/api/v1/admin/agents/{id}/password-reset", (*Server).resetAgentPassword},
	{"POST", "/api/v1/admin/agents/{id}/disable", (*Server).disableAgent},
	{"POST", "/api/v1/admin/agents/{id}/enable", (*Server).enableAgent},
	{"POST", "/api/v1/admin/agents/{id}/sign-out", (*Server).signOutAgent},
	{"PUT", "/api/v1/admin/agents/{id}/photo", (*Server).putAgentPhoto},
	{"DELETE", "/api/v1/admin/agents/{id}/photo", (*Server).deleteAgentPhoto},
	{"GET", "/api/v1/admin/audit", (*Server).auditLog},
	{"GET", "/api/v1/public/agents/{id}/photo", (*Server).agentPhoto},
	{"POST", "/api/v1/auth/invite", (*Server).acceptInvite},
	{"GET", "/api/v1/admin/triggers", (*Server).listTriggers},
	{"POST", "/api/v1/admin/triggers", (*Server).createTrigger},
	{"GET", "/api/v1/admin/triggers/{id}", (*Server).getTrigger},
	{"PATCH", "/api/v1/admin/triggers/{id}", (*Server).updateTrigger},
	{"DELETE", "/api/v1/admin/triggers/{id}", (*Server).deleteTrigger},
	{"GET", "/api/v1/admin/retention", (*Server).getRetention},
	{"PUT", "/api/v1/admin/retention", (*Server).putRetention},
	{"POST", "/api/v1/admin/retention/run", (*Server).runRetention},
	{"POST", "/api/v1/admin/erasure", (*Server).erase},
	{"POST", "/api/v1/chats/{id}/transcript", (*Server).mailTranscript},
	{"GET", "/api/v1/chats/{id}/transcript", (*Server).getTranscript},
	{"GET", "/api/v1/chats/{id}/canned", (*Server).chatCanned},
	{"GET", "/api/v1/chats/{id}/history", (*Server).visitorHistory},
	{"POST", "/api/v1/chats/{id}/whisper", (*Server).whisper},
	{"POST", "/api/v1/chats/{id}/barge", (*Server).barge},
	{"POST", "/api/v1/chats/{id}/conference", (*Server).conference},
	{"POST", "/api/v1/agents/{id}/messages", (*Server).sendInternal},
	{"GET", "/api/v1/agents/{id}/messages", (*Server).internalHistory},
	{"GET", "/api/v1/mail/{id}", (*Server).getMail},
	{"GET", "/api/v1/archive", (*Server).searchArchive},
	{"GET", "/api/v1/canned", (*Server).listCanned},
	{"POST", "/api/v1/canned", (*Server).createCanned},
	{"POST", "/api/v1/canned/import", (*Server).importCanned},
	{"PATCH", "/api/v1/canned/{id}", (*Server).updateCanned},
	{"DELETE", "/api/v1/canned/{id}", (*Server).deleteCanned},
	{"GET", "/api/v1/supervisor/kpis", (*Server).kpis},
	{"GET", "/api/v1/supervisor/overview", (*Server).overview},
	{"GET", "/api/v1/ws", (*Server).websocket},
}

// New returns the API server over svc.
func New(svc *conversation.Service, opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.PingInterval == 0 {
		opt.PingInterval = 25 * time.Second
	}
	if opt.HelloTimeout <= 0 {
		opt.HelloTimeout = defaultHelloTimeout
	}
	lim := opt.LoginLimits
	if lim.Failures <= 0 {
		lim.Failures = DefaultLoginLimits.Failures
	}
	if lim.Lockout <= 0 {
		lim.Lockout = DefaultLoginLimits.Lockout
	}
	if lim.MaxLockout <= 0 {
		lim.MaxLockout = max(DefaultLoginLimits.MaxLockout, lim.Lockout)
	}
	opt.LoginLimits = lim
	perAddr := lim
	perAddr.Failures *= 4
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{svc: svc, opt: opt, log: opt.Logger, mux: http.NewServeMux(), conns: map[*wsConn]struct{}{}, now: now,
		accounts: throttle.New(lim, now), addrs: throttle.New(perAddr, now)}
	s.tellLogins = svc.ShareLogins(s.countLogin)
	s.keepalive = wsnb.NewKeepAlive(opt.PingInterval, s.now, s.log.Debug)
	s.ws = wsnb.NewEngine("parley-ws", maxFrame)
	s.stopping, s.stop = context.WithCancel(context.Background())
	s.metrics = newMetrics(opt.Registry, s)
	for _, rt := range routes {
		h := rt.handler
		s.mux.Handle(rt.method+" "+rt.path, s.metrics.instrument(rt.path, func(w http.ResponseWriter, r *http.Request) { h(s, w, r) }))
	}
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(r.URL.Path); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, errorBody("method_not_allowed",
				fmt.Sprintf("%s is not allowed here; use %s", r.Method, strings.Join(allow, " or "))))
			return
		}
		writeError(w, parley.Errorf(parley.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": parley.Version})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("GET /kpi", s.healthKPI)
	return s
}

// allowedMethods returns the methods the routes offer for path.
func allowedMethods(path string) []string {
	var out []string
	for _, rt := range routes {
		if matchPattern(rt.path, path) && !slices.Contains(out, rt.method) {
			out = append(out, rt.method)
		}
	}
	return out
}

// matchPattern reports whether path matches a route pattern whose
// {wildcards} stand for one segment each.
func matchPattern(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if !strings.HasPrefix(ps[i], "{") && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// Handler returns the API with CORS and cross-origin protection applied.
// Requests outside /api/, /healthz, /readyz and /kpi go to next (the web UI);
// next may be nil.
func (s *Server) Handler(next http.Handler) http.Handler {
	// Cookie-authenticated writes come only from Parley's own pages; the
	// allowed origins embed the visitor chat, which uses bearer tokens.
	protected := origin.Protect(s.cors(s.mux), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, parley.Errorf(parley.EFORBIDDEN, "cross-origin request refused; add the origin to allowed-origins"))
	}))
	plain := s.cors(s.mux)
	// Cross-site request forgery rides on ambient credentials (the session
	// cookie); a request that carries its own bearer token cannot be forged.
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
			plain.ServeHTTP(w, r)
			return
		}
		protected.ServeHTTP(w, r)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/"), r.URL.Path == "/healthz", r.URL.Path == "/readyz", r.URL.Path == "/kpi":
			if r.URL.Path == "/api/v1/ws" {
				// WebSocket upgrades check origins themselves.
				s.mux.ServeHTTP(w, r)
				return
			}
			api.ServeHTTP(w, r)
		case next != nil:
			next.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opt.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.opt.Ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Shutdown closes every WebSocket with "going away" and answers waiting
// long-polls, so clients reconnect to another node or after the restart.
// It returns when the WebSocket sessions have ended.
func (s *Server) Shutdown() {
	s.stop()
	s.connsMu.Lock()
	s.closing = true
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.connsMu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(c.goingAway)
	}
	wg.Wait()
	s.sessions.Wait()
	s.keepalive.Close()
	s.ws.Stop()
}

// cors answers preflights and tags responses for allowed origins.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		// Answers differ by origin; caches must keep them apart.
		w.Header().Add("Vary", "Origin")
		if origin != "" && s.originAllowed(origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "Content-Disposition, Repr-Digest")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) originAllowed(o string) bool { return origin.Allowed(s.opt.AllowedOrigins, o) }

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		// Field names the request field at fault, when one is.
		Field string `json:"field,omitempty"`
	} `json:"error"`
}

// native is the API's JSON dialect.
var native = httperr.Dialect{
	ContentType: "application/json",
	Shape:       func(code, message string) any { return errorBody(code, message) },
	Newline:     true,
	FieldShape: func(code, message, field string) any {
		b := errorBody(code, message)
		b.Error.Field = field
		return b
	},
}

func writeError(w http.ResponseWriter, err error) { native.Error(w, err) }

// WriteError writes err as the API's error response, for handlers in
// front of the API (the body deadline).
func WriteError(w http.ResponseWriter, err error) { native.Error(w, err) }

func errorBody(code, message string) ErrorBody {
	var body ErrorBody
	body.Error.Code, body.Error.Message = code, message
	return body
}

// fail writes err and logs it when it is internal.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if parley.ErrorCode(err) == parley.EINTERNAL {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) { native.JSON(w, status, v) }

// pollContext returns a request context that also ends when the server
// shuts down, for long-polls.
func (s *Server) pollContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(s.stopping, cancel)
	return ctx, func() { stop(); cancel() }
}

// maxJSONBody bounds request bodies other than file uploads.
const maxJSONBody = 64 << 10

// decode reads a JSON body strictly: unknown fields, wrong types, trailing
// data and oversize bodies are errors with a clear message.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return parley.Errorf(parley.EINVALID, "the body holds more than one JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooBig    *http.MaxBytesError
		domainErr *parley.Error
	)
	switch {
	case errors.As(err, &domainErr):
		return err
	case errors.As(err, &tooBig):
		return parley.Errorf(parley.ETOOLARGE, "the body is larger than %d bytes", tooBig.Limit)
	case errors.As(err, &syntax):
		return parley.Errorf(parley.EINVALID, "malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typeErr):
		return parley.Errorf(parley.EINVALID, "field %q must be %s", typeErr.Field, typeErr.Type)
	case errors.Is(err, io.EOF):
		return parley.Errorf(parley.EINVALID, "the body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return parley.Errorf(parley.EINVALID, "malformed JSON: unexpected end")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return parley.Errorf(parley.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return parley.Errorf(parley.EINVALID, "malformed JSON")
}
