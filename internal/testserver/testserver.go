// Package testserver starts the real Parley stack for tests: a SQLite
// store in t.TempDir(), an embedded NATS bus, a conversation.Service with
// the test's configuration and seed data, the native API and, on request,
// the MiCC Chat service and the web UI, all on one httptest server.
//
// Nothing is mocked: a test drives the server over HTTP as a browser, an
// agent or an integration would. Start registers the teardown with
// t.Cleanup so that it runs in the order production shuts down: the
// handlers stop their sessions, the listener closes, the mail outbox
// stops, then the service, the bus and last the store.
//
// The Server's methods are the few requests every package's tests make:
// a JSON request, an agent's login, presence, and waiting for an offer.
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/integration"
	"github.com/parleychat/parley/mail"
	"github.com/parleychat/parley/micc"
	"github.com/parleychat/parley/natsbus"
	"github.com/parleychat/parley/sqlite"
	"github.com/parleychat/parley/web"
	"github.com/parleychat/parley/webhook"
)

// Password is the password seeded agents get when Options.Password is
// empty.
const Password = "test-password-123"

// Options say what to start and what to seed. The zero value starts the
// native API over an empty default tenant.
type Options struct {
	// Config configures the service; FilesDir is set to a directory in
	// the test's temporary directory, and MailWake to the outbox's when
	// Mail is set.
	Config conversation.Config
	// Groups and Agents are seeded into the default tenant (a zero
	// TenantID means the default tenant), the agents with Password.
	Groups []*parley.Group
	Agents []*parley.Agent
	// Password is the seeded agents' password; empty means Password.
	Password string
	// API configures the native API.
	API httpapi.Options
	// MICC, when set, puts the MiCC Chat service in front of the API.
	MICC *micc.Options
	// Web, when set, serves the web UI behind the API with the options
	// it returns for the started server (e.g. its Dir as DataDir, its
	// GroupStatus for the widget).
	Web func(*Server) web.Options
	// Mail, when set, runs a mail outbox over the store that delivers
	// with these options.
	Mail *mail.Options
	// Wrap, when set, wraps the whole handler, e.g. as a proxy would.
	Wrap func(http.Handler) http.Handler
	// WrapStore, when set, gives the service wrap(store) instead of the
	// store, e.g. to hold or fail a write.
	WrapStore func(parley.Store) parley.Store
	// Integration, when set, serves the integration API in front of the
	// others and runs the webhook sender with these options.
	Integration *webhook.Options
	// Logger, when set, logs the service, the APIs and the webhook sender.
	Logger *slog.Logger
	// StoreNow, when set, is the store's clock for the times callers
	// leave zero (as Config.Clock is the service's).
	StoreNow func() time.Time
}

// Server is a running stack. Its fields are for tests that reach past
// HTTP, e.g. to read the store or call the service directly.
type Server struct {
	T        testing.TB
	URL      string // the server's origin, http://127.0.0.1:<port>
	Dir      string // the data directory: p.db and files/
	Password string // the seeded agents' password
	Store    *sqlite.Store
	Bus      *natsbus.Bus
	Svc      *conversation.Service
	API      *httpapi.Server
	MICC     *micc.Handler // nil without Options.MICC
	HTTP     *httptest.Server

	// Integration and Webhooks are nil without Options.Integration.
	Integration *integration.Handler
	Webhooks    *webhook.Sender
}

// Start starts the stack described by opt and stops it when the test
// ends. It fails the test when any part does not start.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	ctx := context.Background()
	s := &Server{T: t, Dir: t.TempDir(), Password: opt.Password}
	if s.Password == "" {
		s.Password = Password
	}
	var err error
	if s.Store, err = sqlite.Open(ctx, filepath.Join(s.Dir, "p.db"), sqlite.Options{Now: opt.StoreNow}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Store.Close() })
	if s.Bus, err = natsbus.Open(ctx, natsbus.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Bus.Close() })

	cfg := opt.Config
	cfg.FilesDir = filepath.Join(s.Dir, "files")
	var outbox *mail.Outbox
	if opt.Mail != nil {
		if outbox, err = mail.NewOutbox(s.Store, *opt.Mail); err != nil {
			t.Fatal(err)
		}
		cfg.MailWake = outbox.Wake
	}
	var store parley.Store = s.Store
	if opt.WrapStore != nil {
		store = opt.WrapStore(s.Store)
	}
	s.Svc = conversation.New(store, s.Bus, cfg, opt.Logger)
	if err := s.Svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Svc.Close() })
	if outbox != nil {
		mailCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); outbox.Run(mailCtx) }()
		t.Cleanup(func() { stop(); <-done })
	}
	if len(opt.Groups) > 0 || len(opt.Agents) > 0 {
		for _, g := range opt.Groups {
			if g.TenantID == 0 {
				g.TenantID = parley.DefaultTenantID
			}
		}
		for _, a := range opt.Agents {
			if a.TenantID == 0 {
				a.TenantID = parley.DefaultTenantID
			}
		}
		if err := s.Svc.Seed(ctx, opt.Groups, opt.Agents, s.Password); err != nil {
			t.Fatal(err)
		}
	}

	if opt.API.Logger == nil {
		opt.API.Logger = opt.Logger
	}
	s.API = httpapi.New(s.Svc, opt.API)
	var next http.Handler
	if opt.Web != nil {
		next = web.Handler(opt.Web(s))
	}
	h := s.API.Handler(next)
	if opt.MICC != nil {
		mo := *opt.MICC
		if mo.Logger == nil {
			mo.Logger = opt.Logger
		}
		s.MICC = micc.New(s.Svc, mo)
		h = s.MICC.Wrap(h)
	}
	if opt.Integration != nil {
		wo := *opt.Integration
		if wo.Logger == nil {
			wo.Logger = opt.Logger
		}
		s.Webhooks = webhook.New(s.Store, wo)
		hctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); s.Webhooks.Run(hctx) }()
		t.Cleanup(func() { stop(); <-done })
		s.Integration = integration.New(s.Svc, integration.Options{Webhooks: s.Webhooks, Logger: opt.Logger})
		h = s.Integration.Wrap(h)
	}
	// As cmd/parley's listeners do: the client address into the context.
	h = opt.API.TrustedProxies.Handler(h, conversation.WithClientAddr)
	if opt.Wrap != nil {
		h = opt.Wrap(h)
	}
	s.HTTP = httptest.NewServer(h)
	s.URL = s.HTTP.URL
	t.Cleanup(s.HTTP.Close)
	// Registered last, so they run first: the handlers end their
	// sessions (WebSockets, long polls) before the listener closes.
	t.Cleanup(s.API.Shutdown)
	if s.MICC != nil {
		t.Cleanup(s.MICC.Shutdown)
	}
	if s.Integration != nil {
		t.Cleanup(s.Integration.Shutdown)
	}
	return s
}

// GroupStatus is a web.Options.GroupStatus for the widget: as the server
// does, it looks a group up by ID when group is a number or "g_<number>",
// else by name.
func (s *Server) GroupStatus(ctx context.Context, tenant int64, group string) (any, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(group, "g_"), 10, 64)
	if err != nil {
		return s.Svc.GroupStatus(ctx, tenant, 0, group)
	}
	return s.Svc.GroupStatus(ctx, tenant, id, "")
}

// Agent returns an agent of the default tenant in groups: role agent,
// capacity 3, offline and ready. Tests change the fields they need.
func Agent(login, name string, groups ...int64) *parley.Agent {
	a := &parley.Agent{TenantID: parley.DefaultTenantID, Login: login, DisplayName: name, Role: parley.RoleAgent,
		Capacity: 3, Presence: parley.PresenceOffline, Status: parley.StatusReady, Groups: []parley.Membership{}}
	for _, g := range groups {
		a.Groups = append(a.Groups, parley.Membership{GroupID: g})
	}
	return a
}

// NewRequest builds a request to path on the server. body is sent as
// is when it is a string or []byte, and otherwise encoded as JSON with
// Content-Type application/json; nil sends no body. A token is sent as
// a bearer token.
func (s *Server) NewRequest(method, path, token string, body any) *http.Request {
	s.T.Helper()
	var rd io.Reader
	isJSON := false
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.T.Fatal(err)
		}
		rd, isJSON = bytes.NewReader(data), true
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.T.Fatal(err)
	}
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// Send sends req and returns the status and the whole body.
func (s *Server) Send(req *http.Request) (int, []byte) {
	s.T.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.T.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.T.Fatal(err)
	}
	return resp.StatusCode, data
}

// Do makes a request (see NewRequest for body) and returns the status
// and the body.
func (s *Server) Do(method, path, token string, body any) (int, []byte) {
	s.T.Helper()
	return s.Send(s.NewRequest(method, path, token, body))
}

// Must makes a request that must answer status want, and decodes the
// answer into out when out is not nil. It returns the raw answer.
func (s *Server) Must(want int, method, path, token string, body, out any) []byte {
	s.T.Helper()
	got, data := s.Do(method, path, token, body)
	if got != want {
		s.T.Fatalf("%s %s = %d %s; want %d", method, path, got, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.T.Fatalf("%s %s: decoding %q: %v", method, path, data, err)
		}
	}
	return data
}

// Login signs a seeded agent in with the seed password and returns its
// token.
func (s *Server) Login(login string) string {
	s.T.Helper()
	var res httpapi.LoginResponse
	s.Must(http.StatusOK, "POST", "/api/v1/auth/login", "", map[string]string{"login": login, "password": s.Password}, &res)
	if res.Token == "" {
		s.T.Fatalf("login %s: no token", login)
	}
	return res.Token
}

// Presence sets the signed-in agent's presence and, when status is not
// empty, its status.
func (s *Server) Presence(token, presence, status string) {
	s.T.Helper()
	body := map[string]string{"presence": presence}
	if status != "" {
		body["status"] = status
	}
	s.Must(http.StatusOK, "PUT", "/api/v1/me/presence", token, body, nil)
}

// OfferedChat polls the agent's chats until one is offered to it and
// returns that chat's ID; it fails the test after 10 s.
func (s *Server) OfferedChat(token string) string {
	s.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var chats []struct {
			ID        string `json:"id"`
			OfferedTo int64  `json:"offered_to"`
		}
		s.Must(http.StatusOK, "GET", "/api/v1/me/chats", token, nil, &chats)
		for _, c := range chats {
			if c.OfferedTo != 0 {
				return c.ID
			}
		}
		time.Sleep(10 * time.Millisecond) // the poll's interval, not a wait for the outcome
	}
	s.T.Fatal("no chat was offered within 10 s")
	return ""
}
