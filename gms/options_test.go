package gms_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/gms"
)

func TestParseServices(t *testing.T) {
	got, err := gms.ParseServices(" customer-support=Support , sales=2:Verkauf,")
	if err != nil {
		t.Fatal(err)
	}
	if got["customer-support"] != (gms.Target{Group: "Support"}) || got["sales"] != (gms.Target{TenantID: 2, Group: "Verkauf"}) || len(got) != 2 {
		t.Fatalf("ParseServices = %+v", got)
	}
	for _, bad := range []string{"x", "=g", "s=", "s=0:g", "s=a:g"} {
		if _, err := gms.ParseServices(bad); err == nil {
			t.Errorf("ParseServices(%q) accepted", bad)
		}
	}
}

// TestServiceMapping: a mapped service goes to its group; an unmapped
// name to the default tenant's group of that name.
func TestServiceMapping(t *testing.T) {
	s := newServer(t, gms.Options{Services: map[string]gms.Target{"shop": {Group: "Sales"}}})
	tok := s.ts.Login("agent1")
	s.ts.Presence(tok, "available", "ready")
	// Sales has no agent: the mapping reaches it, and it is closed.
	status, env, data := postForm(t, s.URL+"/genesys/2/chat/shop", url.Values{"nickname": {"Ada"}})
	if status != http.StatusOK || env.StatusCode != 2 || env.Errors[0].Code != gms.CodeClosed {
		t.Fatalf("requestChat on shop = %d %s; want Sales, closed", status, data)
	}
	// The unmapped name of a group reaches it in the default tenant.
	c := newClient(t, s.URL, "customer-support")
	c.request(url.Values{"nickname": {"Ada"}})
	var view struct {
		GroupName string `json:"group_name"`
	}
	s.ts.Must(http.StatusOK, "GET", "/api/v1/chats/"+s.acceptOffered(tok), tok, nil, &view)
	if view.GroupName != "customer-support" {
		t.Fatalf("chat in group %q", view.GroupName)
	}
}

// TestDisconnected400: with the option, a refresh of an ended chat is
// HTTP 400 with the same envelope.
func TestDisconnected400(t *testing.T) {
	s := newServer(t, gms.Options{Disconnected400: true})
	s.agent()
	c := newClient(t, s.URL, gms.DefaultService)
	c.request(url.Values{"nickname": {"Ada"}})
	c.op("disconnect", nil)
	status, env, data := postForm(t, c.base+"/"+c.chatID+"/refresh", c.creds(url.Values{"transcriptPosition": {"1"}}))
	if status != http.StatusBadRequest || env.StatusCode != 0 || !env.ChatEnded || len(env.Messages) == 0 {
		t.Fatalf("refresh after the end = %d %s", status, data)
	}
	if last := env.Messages[len(env.Messages)-1]; last.Type != "ParticipantLeft" || last.From.Type != "Client" {
		t.Fatalf("last message %+v", last)
	}
}

// TestCORS: an allowed origin gets the preflight and tagged answers; any
// other gets neither.
func TestCORS(t *testing.T) {
	s := newServer(t, gms.Options{AllowedOrigins: []string{"https://shop.example"}})
	for _, tc := range []struct {
		origin string
		ok     bool
	}{{"https://shop.example", true}, {"https://evil.example", false}} {
		req, _ := http.NewRequest("OPTIONS", s.URL+"/genesys/2/chat/customer-support", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "apikey")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		allowed := resp.Header.Get("Access-Control-Allow-Origin") == tc.origin
		if allowed != tc.ok || (tc.ok && resp.StatusCode != http.StatusNoContent) {
			t.Fatalf("preflight from %s = %d %v", tc.origin, resp.StatusCode, resp.Header)
		}
	}
}

// TestInactiveClientIsRemoved: a client that stops polling is gone after
// the disconnect timeout (GMS flex-disconnect-timeout); its next request
// says the chat ended.
func TestInactiveClientIsRemoved(t *testing.T) {
	s := newServerConfig(t, conversation.Config{PollGrace: 50 * time.Millisecond, DisconnectTimeout: 200 * time.Millisecond, DisconnectWarning: -1}, gms.Options{})
	tok := s.ts.Login("agent1")
	s.ts.Presence(tok, "available", "not_ready") // the group is open; the chat waits
	c := newClient(t, s.URL, gms.DefaultService)
	c.request(url.Values{"nickname": {"Ada"}})
	// No more requests from the client: the chat ends by itself.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ch, err := s.ts.Store.Chat(context.Background(), c.chatID)
		if err != nil {
			t.Fatal(err)
		}
		if ch.State == parley.StateTerminated {
			if ch.Cause != parley.CauseDisconnectTimeout {
				t.Fatalf("the chat ended with %v", ch.Cause)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the chat of an inactive client did not end")
		}
		time.Sleep(20 * time.Millisecond) // the poll's interval, not a wait for the outcome
	}
	// The session learns of the end from the bus, a moment after the
	// store has it.
	for {
		env := c.refresh()
		if env.ChatEnded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refresh after the timeout = %+v", env)
		}
		time.Sleep(20 * time.Millisecond) // the client's polling interval
	}
}
