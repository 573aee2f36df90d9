package integration_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/webhook"
)

const intText = "Internal: VIP customer, contract 4711"

// TestBotHandover: a bot written here against the integration API greets
// the visitor of a bot-first group, answers one question and hands over;
// only then is the chat routed, and the agent who takes it reads the
// bot's part. A workflow message with a message type reaches both sides;
// an INT message reaches the agent and no visitor transport (MiCC
// GetEvents, the native long-poll, the native WebSocket).
func TestBotHandover(t *testing.T) {
	ts := stack(t, conversation.Config{}, webhook.Options{})
	admin := ts.Login("admin")
	ts.Must(http.StatusNoContent, "PUT", "/integration/v1/admin/groups/1/bot", admin, map[string]string{"name": "Helper"}, nil)
	bot := &client{t: t, base: ts.URL, key: apiKey(t, ts, "Order workflow")}
	alice := ts.Login("alice")
	ts.Presence(alice, "available", "ready")

	// The visitor asks through MiCC; its ChatID holds its token.
	var started struct{ ChatID *string }
	req := ts.NewRequest("POST", "/chatservice/RequestChat", "", `{"request":{"ServiceGroupID":1,"CustomerName":"Vera"}}`)
	req.Header.Set("Content-Type", "application/json")
	if st, body := ts.Send(req); st != http.StatusOK || json.Unmarshal(body, &started) != nil || started.ChatID == nil {
		t.Fatalf("RequestChat = %d %s", st, body)
	}
	chatID, visitor, _ := strings.Cut(*started.ChatID, ".")

	// The chat waits for the bot, not for alice, though she is ready.
	var mine []conversation.ChatView
	ts.Must(http.StatusOK, "GET", "/api/v1/me/chats", alice, nil, &mine)
	if len(mine) != 0 {
		t.Fatalf("alice has %d chats before the hand-over; want none", len(mine))
	}
	var held []conversation.BotChat
	bot.must(http.StatusOK, "GET", "/integration/v1/bot/chats", nil, &held)
	if len(held) != 1 || held[0].ID != chatID || held[0].Bot != "Helper" {
		t.Fatalf("bot chats = %+v", held)
	}

	// The bot greets.
	_, after := bot.until(chatID, 0, func(e parley.Event) bool {
		return e.Type == parley.EventJoined && e.From.Kind == parley.PartyBot
	})
	var greeting parley.Event
	bot.must(http.StatusCreated, "POST", "/integration/v1/chats/"+chatID+"/messages",
		map[string]string{"from": "bot", "text": "Hi, I am Helper. How can I help?"}, &greeting)
	if greeting.From.Kind != parley.PartyBot || greeting.From.Name != "Helper" {
		t.Fatalf("greeting from %+v", greeting.From)
	}
	// The visitor asks, the bot answers.
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", visitor, map[string]string{"text": "When are you open?"}, nil)
	q, after := bot.until(chatID, after, func(e parley.Event) bool {
		return e.Type == parley.EventMessage && e.From.Kind == parley.PartyVisitor
	})
	if q.Text != "When are you open?" {
		t.Fatalf("bot read %q", q.Text)
	}
	bot.must(http.StatusCreated, "POST", "/integration/v1/chats/"+chatID+"/messages",
		map[string]string{"from": "bot", "text": "We are open 9 to 5."}, nil)

	// The workflow attaches data, posts a typed message for both sides
	// and an INT note for the agents.
	var data struct{ Data map[string]string }
	bot.must(http.StatusOK, "PUT", "/integration/v1/chats/"+chatID+"/data", map[string]any{"data": map[string]string{"segment": "gold"}}, &data)
	if data.Data["segment"] != "gold" {
		t.Fatalf("data = %+v", data)
	}
	bot.must(http.StatusCreated, "POST", "/integration/v1/chats/"+chatID+"/messages",
		map[string]string{"text": "Your order 12 has shipped.", "message_type": "order-status"}, nil)
	var note parley.Event
	bot.must(http.StatusCreated, "POST", "/integration/v1/chats/"+chatID+"/messages",
		map[string]string{"text": intText, "visibility": "INT"}, &note)
	if note.Audience != parley.AudienceAgents || note.From.Kind != parley.PartyExternal || note.From.Name != "Order workflow" {
		t.Fatalf("INT note = %+v", note)
	}
	// Wrong input changes nothing.
	for _, body := range []map[string]string{
		{"text": "x", "visibility": "VIP"}, {"text": ""}, {"text": "x", "from": "agent"}, {"text": "x", "message_type": "<script>"},
	} {
		if st, _ := bot.do("POST", "/integration/v1/chats/"+chatID+"/messages", body, nil); st != http.StatusBadRequest {
			t.Fatalf("post %v = %d; want 400", body, st)
		}
	}

	bot.must(http.StatusNoContent, "POST", "/integration/v1/chats/"+chatID+"/handover", map[string]any{"note": "Asked about opening hours"}, nil)
	if got := ts.OfferedChat(alice); got != chatID {
		t.Fatalf("offered %s; want %s", got, chatID)
	}
	ts.Must(http.StatusOK, "POST", "/api/v1/chats/"+chatID+"/accept", alice, nil, nil)
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", alice, map[string]string{"text": "Alice here."}, nil)

	// The agent reads the bot's part, the typed message and the note.
	var agentLog httpapi.EventsBody
	ts.Must(http.StatusOK, "GET", "/api/v1/chats/"+chatID+"/events?after=0", alice, nil, &agentLog)
	want := []string{"Hi, I am Helper. How can I help?", "When are you open?", "We are open 9 to 5.", "Your order 12 has shipped.", intText, "Alice here."}
	var texts []string
	for _, e := range agentLog.Events {
		if e.Type == parley.EventMessage && e.From.Kind != parley.PartySystem {
			texts = append(texts, e.Text)
			if strings.HasPrefix(e.Text, "Hi, I am") && e.From.Kind != parley.PartyBot {
				t.Fatalf("greeting not marked as the bot's: %+v", e.From)
			}
			if e.Text == "Your order 12 has shipped." && (e.MessageType != "order-status" || e.From.Kind != parley.PartyExternal) {
				t.Fatalf("workflow message for the agent: %+v", e)
			}
		}
	}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Fatalf("agent reads %q; want %q", texts, want)
	}
	last := agentLog.LastSeq

	// The visitor's transports: long-poll, WebSocket, MiCC.
	var visitorLog httpapi.EventsBody
	ts.Must(http.StatusOK, "GET", "/api/v1/chats/"+chatID+"/events?after=0", visitor, nil, &visitorLog)
	var typed bool
	for _, e := range visitorLog.Events {
		if e.Text == "Your order 12 has shipped." && e.MessageType == "order-status" {
			typed = true
		}
	}
	if !typed {
		t.Fatal("the visitor's long-poll has no typed workflow message")
	}
	raw, _ := json.Marshal(visitorLog)
	if strings.Contains(string(raw), intText) {
		t.Fatal("the INT message reached the visitor's long-poll")
	}
	if frames := wsFrames(t, ts.URL, visitor, chatID, last); strings.Contains(frames, intText) || !strings.Contains(frames, "Alice here.") {
		t.Fatalf("visitor WebSocket frames: INT present %v, complete %v", strings.Contains(frames, intText), strings.Contains(frames, "Alice here."))
	}
	miccLog := miccEvents(t, ts.URL, *started.ChatID, "Alice here.")
	if strings.Contains(miccLog, intText) || !strings.Contains(miccLog, "We are open 9 to 5.") {
		t.Fatalf("MiCC GetEvents: %s", miccLog)
	}
	// MiCC has no bots: the bot speaks as an agent would, by name.
	if !strings.Contains(miccLog, `"Name":"Helper","Message":"We are open 9 to 5.","System":false`) {
		t.Fatalf("MiCC shows the bot's answer otherwise: %s", miccLog)
	}
}

// wsFrames reads the visitor's WebSocket until the event with seq last
// has come and returns every frame.
func wsFrames(t *testing.T, base, token, chatID string, last int64) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	hello, _ := json.Marshal(httpapi.ClientFrame{Type: "hello", Token: token, Chats: map[string]int64{chatID: 0}})
	if err := c.Write(ctx, websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("WebSocket read before seq %d: %v\n%s", last, err, all.String())
		}
		all.Write(data)
		all.WriteByte('\n')
		var f httpapi.ServerFrame
		if json.Unmarshal(data, &f) == nil && f.Event != nil && f.Event.Seq >= last {
			return all.String()
		}
	}
}

// miccEvents calls GetEvents for the MiCC ChatID until a response holds
// until, and returns every response.
func miccEvents(t *testing.T, base, chatID, until string) string {
	t.Helper()
	var all strings.Builder
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		body, _ := json.Marshal(map[string]any{"request": map[string]any{"ChatID": chatID, "Timeout": 1000}})
		resp, err := http.Post(base+"/chatservice/GetEvents", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		err = json.NewDecoder(resp.Body).Decode(&raw)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GetEvents = %d %v", resp.StatusCode, err)
		}
		all.Write(raw)
		if strings.Contains(all.String(), until) {
			return all.String()
		}
	}
	t.Fatalf("GetEvents never showed %q: %s", until, all.String())
	return ""
}
