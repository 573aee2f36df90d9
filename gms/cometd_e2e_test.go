package gms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/gms"
)

// cometClient is a Bayeux long-polling client written from the protocol,
// with net/http and encoding/json only.
type cometClient struct {
	t       testing.TB
	url     string
	id      string
	channel string
	n       int
	// From the pushed envelopes:
	chatID, key string
	next        int64
	history     []message
	ended       bool
}

type cometMsg struct {
	Channel    string          `json:"channel"`
	ClientID   string          `json:"clientId,omitempty"`
	ID         string          `json:"id,omitempty"`
	Successful *bool           `json:"successful,omitempty"`
	Error      string          `json:"error,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

func (c *cometClient) post(ctx context.Context, msgs ...map[string]any) ([]cometMsg, error) {
	for _, m := range msgs {
		c.n++
		m["id"] = string(rune('a'+c.n%26)) + time.Now().Format("150405.000000")
		if c.id != "" {
			m["clientId"] = c.id
		}
	}
	body, _ := json.Marshal(msgs)
	req, _ := http.NewRequestWithContext(ctx, "POST", c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out []cometMsg
	if err := json.Unmarshal(data, &out); err != nil {
		c.t.Fatalf("cometd answer %d %q: %v", resp.StatusCode, data, err)
	}
	return out, nil
}

func (c *cometClient) must(msgs ...map[string]any) []cometMsg {
	c.t.Helper()
	out, err := c.post(context.Background(), msgs...)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, m := range out {
		if m.Successful != nil && !*m.Successful {
			c.t.Fatalf("%s failed: %s", m.Channel, m.Error)
		}
	}
	return out
}

// take records the envelopes pushed on the chat's channel.
func (c *cometClient) take(out []cometMsg) []envelope {
	var envs []envelope
	for _, m := range out {
		if m.Channel != c.channel || len(m.Data) == 0 {
			continue
		}
		var env envelope
		if err := json.Unmarshal(m.Data, &env); err != nil {
			c.t.Fatal(err)
		}
		if env.StatusCode != 0 {
			c.t.Fatalf("pushed error %s", m.Data)
		}
		if env.SecureKey != "" {
			c.chatID, c.key = env.ChatID, env.SecureKey
		}
		c.history = append(c.history, env.Messages...)
		if env.NextPosition > 0 {
			c.next = env.NextPosition
		}
		c.ended = c.ended || env.ChatEnded
		envs = append(envs, env)
	}
	return envs
}

func (c *cometClient) connect() []envelope {
	c.t.Helper()
	return c.take(c.must(map[string]any{"channel": "/meta/connect", "connectionType": "long-polling"}))
}

func (c *cometClient) publish(data map[string]any) {
	c.t.Helper()
	if c.key != "" {
		data["secureKey"] = c.key
	}
	c.take(c.must(map[string]any{"channel": c.channel, "data": data}))
}

// await connects until a pushed message matches; each connect waits for
// events on the server.
func (c *cometClient) await(match func(message) bool) message {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range c.history {
			if match(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatal("no matching message within 10 s")
		}
		c.connect()
	}
}

// TestCometDEndToEnd is the GMS flow over CometD long-polling, with a
// dropped connect resumed by requestNotifications.
func TestCometDEndToEnd(t *testing.T) {
	s := newServer(t, gms.Options{CometTimeout: 2 * time.Second, Limits: gms.FileLimits{MaxFiles: 1}})
	tok := s.ts.Login("agent1")
	s.ts.Presence(tok, "available", "not_ready")
	c := &cometClient{t: t, url: s.URL + "/genesys/cometd", channel: "/service/chatV2/customer-support"}
	hs := c.must(map[string]any{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": []string{"long-polling"}})
	c.id = hs[0].ClientID
	if c.id == "" {
		t.Fatalf("handshake = %+v", hs)
	}
	c.connect()
	c.must(map[string]any{"channel": "/meta/subscribe", "subscription": c.channel})

	c.publish(map[string]any{"operation": "requestChat", "nickname": "Edsger", "subject": "Delivery",
		"userData": map[string]any{"TimeZone": "60", "Ticket": "T-7"}})
	c.await(typed("ParticipantJoined", "Client"))
	if c.chatID == "" || c.key == "" {
		t.Fatal("no chatId or secureKey pushed")
	}
	c.await(func(m message) bool { return m.UserData["queue-position"] == "1" })
	s.ts.Presence(tok, "available", "ready")
	id := s.acceptOffered(tok)
	if id != c.chatID {
		t.Fatalf("offered %s, client has %s", id, c.chatID)
	}
	c.await(typed("ParticipantJoined", "Agent"))

	s.ts.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+id+"/typing", tok, map[string]bool{"typing": true}, nil)
	c.await(typed("TypingStarted", "Agent"))
	cur := s.agentCursor(tok, id)
	c.publish(map[string]any{"operation": "startTyping", "message": "Is it sh"})
	if e := waitEvent(t, cur, func(e *parley.Event) bool { return e.Type == parley.EventTyping && e.From.Kind == parley.PartyVisitor }); e.Text != "Is it sh" {
		t.Fatalf("the agent sees typing %+v", e)
	}
	c.publish(map[string]any{"operation": "pushUrl", "pushUrl": "https://shop.example/track"})
	waitEvent(t, cur, func(e *parley.Event) bool { return e.Type == parley.EventURL && e.URL == "https://shop.example/track" })
	c.publish(map[string]any{"operation": "customNotice", "message": "cobrowse-request"})
	waitEvent(t, cur, func(e *parley.Event) bool { return e.Type == parley.EventNotice && e.Text == "cobrowse-request" })
	c.publish(map[string]any{"operation": "sendMessage", "message": "Is it shipped?"})
	c.await(func(m message) bool {
		return m.Type == "Message" && m.Text == "Is it shipped?" && m.From.Type == "Client"
	})
	s.ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+id+"/messages", tok, map[string]string{"text": "Yes, today."}, nil)
	c.await(func(m message) bool { return m.Text == "Yes, today." })

	// A connect whose answer is lost: the client never reads it.
	resume := c.next
	s.ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+id+"/messages", tok, map[string]string{"text": "lost once"}, nil)
	lost := &cometClient{t: t, url: c.url, id: c.id, channel: c.channel}
	for len(lost.take(lost.must(map[string]any{"channel": "/meta/connect", "connectionType": "long-polling"}))) == 0 {
	}
	s.ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+id+"/messages", tok, map[string]string{"text": "after the drop"}, nil)
	// The client resumes from the last position it received.
	c.publish(map[string]any{"operation": "requestNotifications", "transcriptPosition": resume})
	c.await(func(m message) bool { return m.Text == "after the drop" })
	var texts []string
	last := int64(0)
	for _, m := range c.history {
		if m.Index < resume || m.Type != "Message" {
			continue
		}
		if m.Index <= last {
			t.Fatalf("message %d after %d: duplicate or out of order", m.Index, last)
		}
		last = m.Index
		texts = append(texts, m.Text)
	}
	if len(texts) != 2 || texts[0] != "lost once" || texts[1] != "after the drop" {
		t.Fatalf("after the resume the client has %q; want both messages, no gap", texts)
	}

	// Files over chat-ntf.
	ct, body := multipartBody(t, url.Values{"operation": {"fileGetLimits"}, "secureKey": {c.key}}, "", nil)
	resp, err := http.Post(s.URL+"/genesys/2/chat-ntf", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	var lim envelope
	_ = json.NewDecoder(resp.Body).Decode(&lim)
	resp.Body.Close()
	if lim.StatusCode != 0 || lim.UserData["upload-max-files"] == "" {
		t.Fatalf("fileGetLimits = %+v", lim)
	}
	ct, body = multipartBody(t, url.Values{"operation": {"fileUpload"}, "secureKey": {c.key}}, "label.png", png(7))
	resp, err = http.Post(s.URL+"/genesys/2/chat-ntf", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	var up envelope
	_ = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if up.StatusCode != 0 || up.UserData["file-id"] == "" {
		t.Fatalf("fileUpload = %+v", up)
	}
	c.await(func(m message) bool {
		return m.Type == "FileUploaded" && m.UserData["file-id"] == up.UserData["file-id"]
	})
	ct, body = multipartBody(t, url.Values{"operation": {"fileDownload"}, "secureKey": {c.key}, "fileId": {up.UserData["file-id"]}}, "", nil)
	resp, err = http.Post(s.URL+"/genesys/2/chat-ntf", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, png(7)) {
		t.Fatalf("fileDownload = %d %q", resp.StatusCode, got)
	}
	ct, body = multipartBody(t, url.Values{"operation": {"fileUpload"}, "secureKey": {c.key}}, "second.png", png(8))
	resp, err = http.Post(s.URL+"/genesys/2/chat-ntf", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	var over envelope
	_ = json.NewDecoder(resp.Body).Decode(&over)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || over.StatusCode != 2 || over.Errors[0].Code != gms.CodeQuota {
		t.Fatalf("a second upload with upload-max-files 1 = %d %+v", resp.StatusCode, over)
	}

	// The agent ends the chat.
	s.ts.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+id+"/end", tok, nil, nil)
	c.await(typed("ParticipantLeft", "Agent"))
	for !c.ended {
		c.connect()
	}
	c.must(map[string]any{"channel": "/meta/disconnect"})
	if out, _ := c.post(context.Background(), map[string]any{"channel": "/meta/connect", "connectionType": "long-polling"}); len(out) != 1 || out[0].Successful == nil || *out[0].Successful {
		t.Fatalf("connect after disconnect = %+v; want unknown client", out)
	}
}

// TestCometDConnectCancelled: a connect whose client goes away while it
// waits ends with its request and takes nothing: the next connect gets
// what came meanwhile.
func TestCometDConnectCancelled(t *testing.T) {
	// No queue-position pushes: nothing but the agent's message comes.
	s := newServerConfig(t, conversation.Config{MaxAttachmentKB: 64, QueuePush: 1 << 62}, gms.Options{CometTimeout: time.Minute})
	tok := s.agent()
	c := &cometClient{t: t, url: s.URL + "/genesys/cometd", channel: "/service/chatV2/customer-support"}
	c.id = c.must(map[string]any{"channel": "/meta/handshake", "version": "1.0"})[0].ClientID
	c.connect()
	c.publish(map[string]any{"operation": "requestChat", "firstName": "Barbara", "lastName": "Liskov"})
	id := s.acceptOffered(tok)
	c.await(typed("ParticipantJoined", "Agent"))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.post(ctx, map[string]any{"channel": "/meta/connect", "connectionType": "long-polling"})
		done <- err
	}()
	for s.gms.Polling() == 0 {
		select {
		case err := <-done:
			t.Fatalf("the connect answered at once (%v); something was waiting", err)
		default:
		}
		time.Sleep(5 * time.Millisecond) // the poll's interval, not a wait for the outcome
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the cancelled connect answered")
	}
	for s.gms.Polling() != 0 {
		time.Sleep(5 * time.Millisecond) // the poll's interval, not a wait for the outcome
	}
	s.ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+id+"/messages", tok, map[string]string{"text": "still here"}, nil)
	got := c.await(func(m message) bool { return m.Text == "still here" })
	if got.From.Type != "Agent" {
		t.Fatalf("message %+v", got)
	}
}
