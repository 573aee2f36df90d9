package micc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/micc"
)

// FuzzDecodeRequest sends arbitrary bodies to every method. A body that is
// not a valid request must get a fault (4xx, a JSON body with a message
// and a code) and change nothing: no chat appears, the chat's log does
// not grow. "<ChatID>" in a body stands for a live chat, so the fuzzer
// reaches past the ChatID check.
func FuzzDecodeRequest(f *testing.F) {
	// GetEvents waits at most a millisecond, so the fuzzer keeps going.
	s := newServer(f, quiet, micc.Options{MaxWait: time.Millisecond})
	agent := s.login()
	s.presence(agent, "available", "not_ready")
	names := []string{"RequestChat", "LeaveChat", "SendMessage", "SendTyping", "GetEvents",
		"GetQueueInfo", "GetChatInfo", "GetChatConfiguration", "GetVersion"}

	files, _ := filepath.Glob("testdata/golden/*.request.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		method := strings.Split(filepath.Base(file), "_")[1]
		for i, n := range names {
			if n == method {
				f.Add(uint8(i), data)
			}
		}
	}
	for i, body := range []string{``, `null`, `[]`, `{"request":null}`, `{"request":[1]}`, `{"request":{"ChatID":1}}`,
		`{"request":{"ChatID":"<ChatID>","Message":"a.txt","Attachment":[256]}}`,
		`{"request":{"ChatID":"<ChatID>","Message":"a.txt","Attachment":"***"}}`,
		`{"request":{"ChatID":"<ChatID>","Timeout":-1}}`, `{"request":{"TenantID":1e99}}`, `{"a":1}{"b":2}`} {
		f.Add(uint8(i), []byte(body))
	}

	ctx := context.Background()
	var chatID string
	newChat := func() {
		rec := httptest.NewRecorder()
		s.micc.ServeHTTP(rec, httptest.NewRequest("POST", "/chatservice/RequestChat",
			strings.NewReader(`{"request":{"ServiceGroupName":"Support","CustomerName":"Fuzz"}}`)))
		var res struct{ ChatID *string }
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res.ChatID == nil {
			f.Fatalf("RequestChat: %s", rec.Body)
		}
		chatID = *res.ChatID
	}
	newChat()
	state := func() (chats int, lastSeq int64, active bool) {
		all, err := s.store.Chats(ctx, parley.ChatFilter{})
		if err != nil {
			f.Fatal(err)
		}
		c, err := s.store.Chat(ctx, parleyID(chatID))
		if err != nil {
			f.Fatal(err)
		}
		return len(all), c.LastSeq, c.Active()
	}

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		method := names[int(which)%len(names)]
		body = bytes.ReplaceAll(body, []byte("<ChatID>"), []byte(chatID))
		chats, seq, _ := state()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/chatservice/"+method, bytes.NewReader(body))
		s.micc.ServeHTTP(rec, req)
		code := rec.Code
		if code < 400 {
			// A valid request; it may change things.
			if _, _, active := state(); !active {
				newChat()
			}
			return
		}
		if code >= 500 {
			t.Fatalf("%s %q = %d %s; want a client fault", method, body, code, rec.Body)
		}
		var fault micc.Fault
		if err := json.Unmarshal(rec.Body.Bytes(), &fault); err != nil || fault.Message == "" || fault.Code == "" {
			t.Fatalf("%s %q = %d %q; want a fault with a message and a code", method, body, code, rec.Body)
		}
		if c2, seq2, _ := state(); c2 != chats || seq2 != seq {
			t.Fatalf("%s %q was refused (%s) but changed the store: chats %d→%d, log %d→%d", method, body, fault.Message, chats, c2, seq, seq2)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("fault Content-Type %q", ct)
		}
	})
}
