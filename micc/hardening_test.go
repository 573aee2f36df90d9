package micc_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleychat/parley/conversation"
)

// TestUnsafeCharactersRefusedMICC: RequestChat refuses NUL and bidi
// overrides in every customer field with the native API's rule.
func TestUnsafeCharactersRefusedMICC(t *testing.T) {
	s := newServer(t, conversation.Config{})
	s.presence(s.login(), "available", "ready")
	for _, field := range []string{"CustomerName", "EmailAddress", "PhoneNumber", "CustomerID", "PrivateData", "SessionID", "InitialMessage"} {
		for _, bad := range []string{"\x00", "\u202e", "\u2067"} {
			req := map[string]any{"ServiceGroupID": 1, "CustomerName": "Ann"}
			req[field] = "x" + bad + "y@example.com"
			body, _ := json.Marshal(map[string]any{"request": req})
			code, out := s.do("POST", "/ChatService/RequestChat", "", body)
			if code != 400 || !strings.Contains(string(out), `"Code":"invalid"`) || !strings.Contains(string(out), "control or bidirectional") {
				t.Fatalf("%s with %q = %d %s; want a 400 fault", field, bad, code, out)
			}
		}
	}
}

// TestEmptyAttachmentRefused: SendMessage with an empty Attachment is an
// empty file, refused with the native upload's wording, not a text
// message.
func TestEmptyAttachmentRefused(t *testing.T) {
	s := newServer(t, conversation.Config{})
	s.presence(s.login(), "available", "ready")
	code, out := s.do("POST", "/ChatService/RequestChat", "", []byte(`{"request":{"ServiceGroupID":1,"CustomerName":"Ann"}}`))
	var res struct{ ChatID string }
	if err := json.Unmarshal(out, &res); err != nil || code != 200 || res.ChatID == "" {
		t.Fatalf("RequestChat = %d %s", code, out)
	}
	before := s.lastSeq(t, res.ChatID)
	for _, att := range []string{`""`, `[]`} {
		code, out := s.do("POST", "/ChatService/SendMessage", "", []byte(`{"request":{"ChatID":"`+res.ChatID+`","Message":"notes.txt","Attachment":`+att+`}}`))
		if code != 400 || string(out) != `{"Message":"the file is empty","Code":"invalid"}` {
			t.Fatalf("SendMessage with Attachment %s = %d %s; want the native empty-file fault", att, code, out)
		}
	}
	if after := s.lastSeq(t, res.ChatID); after != before {
		t.Fatalf("a refused attachment stored events %d..%d", before, after)
	}
}

// lastSeq returns the sequence number of the chat's newest stored event.
func (s *server) lastSeq(t *testing.T, chatID string) int64 {
	t.Helper()
	c, err := s.store.Chat(context.Background(), parleyID(chatID))
	if err != nil {
		t.Fatal(err)
	}
	return c.LastSeq
}
