package integration_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/micc"
	"github.com/parleychat/parley/webhook"
)

// stack starts the real stack with the integration API, the MiCC Chat
// service and the native API: group Support (1) with agent alice, and an
// admin.
func stack(t *testing.T, cfg conversation.Config, hooks webhook.Options, opts ...func(*testserver.Options)) *testserver.Server {
	t.Helper()
	admin := testserver.Agent("admin", "Admin")
	admin.Role = parley.RoleAdmin
	o := testserver.Options{
		Config:      cfg,
		Groups:      []*parley.Group{{ID: 1, Name: "Support"}, {ID: 2, Name: "Sales"}},
		Agents:      []*parley.Agent{testserver.Agent("alice", "Alice", 1, 2), admin},
		API:         httpapi.Options{PingInterval: time.Minute},
		MICC:        &micc.Options{},
		Integration: &hooks,
	}
	for _, f := range opts {
		f(&o)
	}
	return testserver.Start(t, o)
}

// apiKey creates an integration API key as the admin.
func apiKey(t *testing.T, ts *testserver.Server, name string) string {
	t.Helper()
	var k struct {
		Key    string `json:"key"`
		Prefix string `json:"prefix"`
	}
	ts.Must(http.StatusCreated, "POST", "/integration/v1/admin/api-keys", ts.Login("admin"), map[string]string{"name": name}, &k)
	if len(k.Key) < 20 || k.Key[:len(k.Prefix)] != k.Prefix {
		t.Fatalf("created key %+v", k)
	}
	return k.Key
}

// client is a plain HTTP client of the integration API, as a workflow
// or bot written in any language would be.
type client struct {
	t    *testing.T
	base string
	key  string
}

func (c *client) do(method, path string, body, out any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, data
}

func (c *client) must(want int, method, path string, body, out any) {
	c.t.Helper()
	if got, data := c.do(method, path, body, out); got != want {
		c.t.Fatalf("%s %s = %d %s; want %d", method, path, got, data, want)
	}
}

type eventsBody struct {
	Events  []parley.Event `json:"events"`
	LastSeq int64          `json:"last_seq"`
}

// until long-polls a chat's events from after until one matches and
// returns it with the position to poll from next; it fails after 10 s.
func (c *client) until(chatID string, after int64, match func(parley.Event) bool) (parley.Event, int64) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var page eventsBody
		c.must(http.StatusOK, "GET", "/integration/v1/chats/"+chatID+"/events?wait=5&after="+strconv.FormatInt(after, 10), nil, &page)
		for _, e := range page.Events {
			if e.Seq > 0 {
				after = e.Seq
			}
			if match(e) {
				return e, after
			}
		}
	}
	c.t.Fatal("no matching event within 10 s")
	return parley.Event{}, 0
}
