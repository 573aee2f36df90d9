package httpapi_test

import (
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// TestReviewVisitorClientIDNeverReturnsWhisper: a client_id makes a send
// idempotent, but the stored event found by it must be the sender's own.
// A visitor who posts a message with the client_id of a whisper must not
// get the whisper back in the answer.
func TestReviewVisitorClientIDNeverReturnsWhisper(t *testing.T) {
	s := newServer(t, conversation.Config{}, 2)
	bossTok := s.addSupervisor()
	chatID, vtok, _, _ := s.handledChat("Vera", "vera@example.net")
	const secret = "psst: offer a voucher"

	var whisper parley.Event
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/whisper", bossTok,
		map[string]string{"text": secret, "client_id": "c-1"}, &whisper)

	var got parley.Event
	code := s.call("POST", "/api/v1/chats/"+chatID+"/messages", vtok,
		map[string]string{"text": "hi", "client_id": "c-1"}, &got)
	if got.Text == secret || got.Audience == parley.AudienceAgents {
		t.Fatalf("the visitor's send answered %d with the whisper: %+v", code, got)
	}
}
