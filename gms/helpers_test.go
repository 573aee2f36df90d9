package gms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/gms"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
)

// server is the native API with the GMS API in front, over one service
// with a real SQLite store and embedded NATS. Group 1 is
// "customer-support"; agent1 (Alice) is in it.
type server struct {
	t   testing.TB
	ts  *testserver.Server
	gms *gms.Handler
	URL string
}

func newServer(t testing.TB, opt gms.Options, wrap ...func(parley.Store) parley.Store) *server {
	t.Helper()
	return newServerConfig(t, conversation.Config{MaxAttachmentKB: 64}, opt, wrap...)
}

func newServerConfig(t testing.TB, cfg conversation.Config, opt gms.Options, wrap ...func(parley.Store) parley.Store) *server {
	t.Helper()
	agent1 := testserver.Agent("agent1", "Alice", 1)
	agent1.Capacity = 50
	s := &server{t: t}
	o := testserver.Options{
		Config: cfg,
		Groups: []*parley.Group{{ID: 1, Name: "customer-support"}, {ID: 2, Name: "Sales"}},
		Agents: []*parley.Agent{agent1},
		API:    httpapi.Options{PingInterval: time.Minute},
		Wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if gms.Serves(r) {
					s.gms.ServeHTTP(w, r)
					return
				}
				next.ServeHTTP(w, r)
			})
		},
	}
	if len(wrap) > 0 {
		o.WrapStore = wrap[0]
	}
	s.ts = testserver.Start(t, o)
	s.gms = gms.New(s.ts.Svc, opt)
	t.Cleanup(s.gms.Shutdown)
	s.URL = s.ts.URL
	return s
}

// agent signs agent1 in, sets it ready and returns its token.
func (s *server) agent() string {
	s.t.Helper()
	tok := s.ts.Login("agent1")
	s.ts.Presence(tok, "available", "ready")
	return tok
}

// acceptOffered accepts the chat offered to the agent.
func (s *server) acceptOffered(tok string) string {
	s.t.Helper()
	id := s.ts.OfferedChat(tok)
	s.ts.Must(http.StatusOK, "POST", "/api/v1/chats/"+id+"/accept", tok, nil, nil)
	return id
}

// agentCursor follows the chat as the agent sees it, through the service.
func (s *server) agentCursor(tok, chatID string) *conversation.Cursor {
	s.t.Helper()
	ctx := context.Background()
	a, err := s.ts.Svc.Authenticate(ctx, tok)
	if err != nil {
		s.t.Fatal(err)
	}
	cur, err := s.ts.Svc.OpenCursor(ctx, a, chatID, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(cur.Close)
	return cur
}

// waitEvent reads the cursor until an event matches, failing after 10 s.
func waitEvent(t testing.TB, cur *conversation.Cursor, match func(*parley.Event) bool) parley.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		events, err := cur.Next(context.Background(), time.Until(deadline))
		if err != nil {
			t.Fatal(err)
		}
		for i := range events {
			if match(&events[i]) {
				return events[i]
			}
		}
	}
	t.Fatal("no matching event within 10 s")
	return parley.Event{}
}

// The client side below uses only net/http, url.Values and its own types,
// as a GMS client would.

type envelope struct {
	StatusCode   int               `json:"statusCode"`
	Errors       []errorItem       `json:"errors"`
	Alias        string            `json:"alias"`
	UserID       string            `json:"userId"`
	SecureKey    string            `json:"secureKey"`
	ChatID       string            `json:"chatId"`
	ChatEnded    bool              `json:"chatEnded"`
	NextPosition int64             `json:"nextPosition"`
	Messages     []message         `json:"messages"`
	UserData     map[string]string `json:"userData"`
}

type errorItem struct {
	Code   int    `json:"code"`
	Advice string `json:"advice"`
}

type message struct {
	From struct {
		Nickname      string `json:"nickname"`
		ParticipantID int    `json:"participantId"`
		Type          string `json:"type"`
	} `json:"from"`
	Index       int64             `json:"index"`
	Type        string            `json:"type"`
	UTCTime     int64             `json:"utcTime"`
	Text        string            `json:"text"`
	MessageType string            `json:"messageType"`
	UserData    map[string]string `json:"userData"`
}

// client is a GMS client of one chat.
type client struct {
	t       testing.TB
	base    string // …/genesys/2/chat/{service}
	chatID  string
	key     string
	userID  string
	alias   string
	next    int64
	history []message
}

func newClient(t testing.TB, url, service string) *client {
	return &client{t: t, base: url + "/genesys/2/chat/" + service}
}

// postForm posts a form and decodes the envelope.
func postForm(t testing.TB, u string, v url.Values) (int, envelope, []byte) {
	t.Helper()
	resp, err := http.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatalf("POST %s = %d %q: %v", u, resp.StatusCode, data, err)
	}
	return resp.StatusCode, env, data
}

// request starts the chat.
func (c *client) request(v url.Values) envelope {
	c.t.Helper()
	status, env, data := postForm(c.t, c.base, v)
	if status != 200 || env.StatusCode != 0 || env.ChatID == "" || env.SecureKey == "" {
		c.t.Fatalf("requestChat = %d %s", status, data)
	}
	c.chatID, c.key, c.userID, c.alias = env.ChatID, env.SecureKey, env.UserID, env.Alias
	c.take(env)
	return env
}

func (c *client) take(env envelope) {
	c.history = append(c.history, env.Messages...)
	if env.NextPosition > 0 {
		c.next = env.NextPosition
	}
}

func (c *client) creds(v url.Values) url.Values {
	if v == nil {
		v = url.Values{}
	}
	v.Set("secureKey", c.key)
	v.Set("userId", c.userID)
	v.Set("alias", c.alias)
	return v
}

// op posts an operation and requires success.
func (c *client) op(name string, v url.Values) envelope {
	c.t.Helper()
	status, env, data := postForm(c.t, c.base+"/"+c.chatID+"/"+name, c.creds(v))
	if status != 200 || env.StatusCode != 0 {
		c.t.Fatalf("%s = %d %s", name, status, data)
	}
	c.take(env)
	return env
}

// fail posts an operation that must fail with statusCode and code.
func (c *client) fail(name string, v url.Values, statusCode, code int) envelope {
	c.t.Helper()
	_, env, data := postForm(c.t, c.base+"/"+c.chatID+"/"+name, c.creds(v))
	if env.StatusCode != statusCode || len(env.Errors) == 0 || env.Errors[0].Code != code || env.Errors[0].Advice == "" {
		c.t.Fatalf("%s = %s; want statusCode %d, code %d", name, data, statusCode, code)
	}
	return env
}

// refresh asks for the events from nextPosition.
func (c *client) refresh() envelope {
	c.t.Helper()
	return c.op("refresh", url.Values{"transcriptPosition": {strconv.FormatInt(c.next, 10)}})
}

// await refreshes, every 20 ms as a client polls, until a message
// matches; it fails after 10 s.
func (c *client) await(match func(message) bool) message {
	c.t.Helper()
	for _, m := range c.history {
		if match(m) {
			return m
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range c.refresh().Messages {
			if match(m) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond) // the poll's interval, not a wait for the outcome
	}
	c.t.Fatal("no matching message within 10 s")
	return message{}
}

func typed(kind, from string) func(message) bool {
	return func(m message) bool { return m.Type == kind && (from == "" || m.From.Type == from) }
}

// multipartBody builds a multipart body with fields and one file.
func multipartBody(t testing.TB, fields url.Values, name string, content []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if name != "" {
		fw, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	return w.FormDataContentType(), &buf
}

// upload posts a file and returns the envelope.
func (c *client) upload(name string, content []byte) (int, envelope) {
	c.t.Helper()
	ct, body := multipartBody(c.t, c.creds(url.Values{"userData[file-description]": {"a picture"}}), name, content)
	resp, err := http.Post(c.base+"/"+c.chatID+"/file", ct, body)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var env envelope
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &env); err != nil {
		c.t.Fatalf("upload = %d %q", resp.StatusCode, data)
	}
	return resp.StatusCode, env
}

// png is a tiny valid PNG header with a body, distinct per n.
func png(n int) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{byte(n)}, 100)...)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
