package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

var miccLine = regexp.MustCompile(`MiCC Chat service on (http://\S+)/ChatService/`)

// TestServeMICC: the binary serves the MiCC Chat service under
// /ChatService/ on its main listener and, with --micc-addr, on a listener
// that serves nothing else.
func TestServeMICC(t *testing.T) {
	p := launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--micc-addr", "127.0.0.1:0", "--data", t.TempDir())
	var own string
	for _, l := range p.stdout {
		if m := miccLine.FindStringSubmatch(l); m != nil {
			own = m[1]
		}
	}
	if own == "" {
		t.Fatalf("no MiCC listener announced in %q", p.stdout)
	}
	post := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"request":{}}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	version, _ := json.Marshal(parley.Version)
	for _, url := range []string{p.url + "/ChatService/GetVersion", p.url + "/chatservice/getversion", own + "/ChatService/GetVersion"} {
		if code, body := post(url); code != 200 || body != string(version) {
			t.Fatalf("POST %s = %d %s; want 200 %s", url, code, body, version)
		}
	}
	// The own listener is the Chat service only.
	if code, body := post(own + "/api/v1/chats"); code != 404 || !strings.Contains(body, `"Code":"not_found"`) {
		t.Fatalf("the MiCC listener answers the native API: %d %s", code, body)
	}
	p.stop()
}

// TestMICCPositionsSurviveRestart: where a MiCC client's GetEvents calls
// left off is kept in the store, so after a restart of the (single) node
// the client's next call returns only what is new.
func TestMICCPositionsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	agent := p.login("agent1")
	var me parley.Agent
	p.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "ready"}, &me)
	var started struct{ ChatID *string }
	if code, err := p.micc("RequestChat", map[string]any{"ServiceGroupID": 1, "CustomerName": "Rui"}, &started); err != nil || code != 200 || started.ChatID == nil {
		t.Fatalf("RequestChat = %d %v %+v", code, err, started)
	}
	chatID := *started.ChatID
	id, _, _ := strings.Cut(chatID, ".")
	acceptOn(t, p, agent, me.ID, id)
	type events struct {
		Events []struct {
			EventType int
			Data      struct {
				Message string
				System  bool
			}
		}
	}
	// messages polls until n of the agent's messages arrived, and fails on
	// more.
	messages := func(p *proc, n int) []string {
		t.Helper()
		var got []string
		for len(got) < n {
			var res events
			if code, err := p.micc("GetEvents", map[string]any{"ChatID": chatID, "Timeout": 5000}, &res); err != nil || code != 200 {
				t.Fatalf("GetEvents = %d %v", code, err)
			}
			for _, e := range res.Events {
				if e.EventType == 0 && !e.Data.System {
					got = append(got, e.Data.Message)
				}
			}
		}
		return got
	}
	for _, text := range []string{"one", "two"} {
		p.must(201, "POST", "/api/v1/chats/"+id+"/messages", agent, map[string]string{"text": text}, nil)
	}
	if got := messages(p, 2); strings.Join(got, " ") != "one two" {
		t.Fatalf("before the restart: %q", got)
	}
	p.stop()

	p = start(t, dir)
	p.must(201, "POST", "/api/v1/chats/"+id+"/messages", agent, map[string]string{"text": "three"}, nil)
	if got := messages(p, 1); strings.Join(got, " ") != "three" {
		t.Fatalf("after the restart: %q; want only the new message", got)
	}
	p.stop()
}
