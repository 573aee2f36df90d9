package integration_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/logfilter"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/webhook"
)

// logBuffer collects a logger's output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// chatFlow runs a whole chat through every part that logs: a MiCC
// request with a first message, a bot, a workflow with attached data and
// an INT note, the visitor and the agent, a hand-over, a transfer note,
// a rating, an offline message, and refused input. Every text and value
// holds a marker that must not reach the log.
func chatFlow(t *testing.T, ts *testserver.Server) {
	t.Helper()
	admin := ts.Login("admin")
	ts.Must(http.StatusNoContent, "PUT", "/integration/v1/admin/groups/1/bot", admin, map[string]string{"name": "Helper"}, nil)
	bot := &client{t: t, base: ts.URL, key: apiKey(t, ts, "Flow")}
	alice := ts.Login("alice")
	ts.Presence(alice, "available", "ready")

	req := ts.NewRequest("POST", "/chatservice/RequestChat", "", `{"request":{"ServiceGroupID":1,"CustomerName":"V","InitialMessage":"SECRET-first question"}}`)
	req.Header.Set("Content-Type", "application/json")
	st, body := ts.Send(req)
	if st != http.StatusOK {
		t.Fatalf("RequestChat = %d %s", st, body)
	}
	var started struct{ ChatID string }
	if err := json.Unmarshal(body, &started); err != nil {
		t.Fatal(err)
	}
	chatID, token, _ := strings.Cut(started.ChatID, ".")

	bot.must(http.StatusCreated, "POST", "/integration/v1/chats/"+chatID+"/messages", map[string]string{"from": "bot", "text": "SECRET-bot greeting"}, nil)
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", token, map[string]string{"text": "SECRET-visitor text"}, nil)
	bot.must(http.StatusOK, "PUT", "/integration/v1/chats/"+chatID+"/data", map[string]any{"data": map[string]string{
		"segment": "SECRET-platinum", "card": "SECRET-4111111111111111", "password": "SECRET-hunter2"}}, nil)
	bot.must(http.StatusCreated, "POST", "/integration/v1/chats/"+chatID+"/messages", map[string]string{"text": "SECRET-workflow", "message_type": "x"}, nil)
	bot.must(http.StatusCreated, "POST", "/integration/v1/chats/"+chatID+"/notices", map[string]string{"text": "SECRET-int note", "visibility": "INT"}, nil)
	bot.do("POST", "/integration/v1/chats/"+chatID+"/messages", map[string]string{"text": "SECRET-refused", "visibility": "nope"}, nil)
	bot.must(http.StatusNoContent, "POST", "/integration/v1/chats/"+chatID+"/handover", map[string]string{"note": "SECRET-handover note"}, nil)
	ts.OfferedChat(alice)
	ts.Must(http.StatusOK, "POST", "/api/v1/chats/"+chatID+"/accept", alice, nil, nil)
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", alice, map[string]string{"text": "SECRET-agent answer"}, nil)
	ts.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+chatID+"/transfer", alice, map[string]any{"group_id": 2, "note": "SECRET-transfer note"}, nil)
	ts.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+chatID+"/leave", token, nil, nil)
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/rating", token, map[string]any{"score": 2, "comment": "SECRET-rating comment"}, nil)
	ts.Must(http.StatusCreated, "POST", "/api/v1/offline-messages", "", map[string]string{"group": "1", "name": "O", "email": "o@example.com", "message": "SECRET-offline"}, nil)
	ts.Do("POST", "/api/v1/chats/"+chatID+"/messages", token, map[string]string{"text": "SECRET-after end"})
}

func loggedStack(t *testing.T, filter logfilter.Filter) (*testserver.Server, *logBuffer) {
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := stack(t, conversation.Config{LogFilter: filter}, webhook.Options{}, func(o *testserver.Options) { o.Logger = log })
	return ts, logs
}

// TestLogsHideChatText: with the defaults, a whole chat at debug level
// writes no chat text and no attached data into the log.
func TestLogsHideChatText(t *testing.T) {
	ts, logs := loggedStack(t, logfilter.Filter{})
	chatFlow(t, ts)
	out := logs.String()
	if !strings.Contains(out, `"msg":"chat data attached"`) || !strings.Contains(out, `"msg":"integration post"`) {
		t.Fatalf("the flow logged nothing of interest, so the test proves nothing:\n%s", out)
	}
	if i := strings.Index(out, "SECRET"); i >= 0 {
		t.Fatalf("chat content in the log: …%s…", out[max(i-200, 0):min(i+100, len(out))])
	}
}

// TestLogsFiltered: message-log-print-size and per-key filters let
// exactly what they allow into the log; credentials stay hidden.
func TestLogsFiltered(t *testing.T) {
	f, err := logfilter.Parse(9, "segment=unhide-last,8; card=hide-first,12; password=copy")
	if err != nil {
		t.Fatal(err)
	}
	ts, logs := loggedStack(t, f)
	chatFlow(t, ts)
	out := logs.String()
	for _, want := range []string{`"SECRET-vi…"`, `"SECRET-bo…"`, `"segment":"*******platinum"`, `"card":"************11111111111"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	for _, never := range []string{"SECRET-visitor", "SECRET-hunter2", "SECRET-4111", "SECRET-platinum", "SECRET-int note"} {
		if strings.Contains(out, never) {
			t.Errorf("log holds %q", never)
		}
	}
	if !strings.Contains(out, `"password":"`+logfilter.Hidden+`"`) {
		t.Errorf("the password key is not shown as hidden")
	}
}
