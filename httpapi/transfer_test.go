package httpapi_test

import (
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// TestTransferNote: a transfer's note reaches the receiving agent in the
// offer and the chat, never the visitor; the greeting is not repeated and
// accepted_at stays the first answer.
func TestTransferNote(t *testing.T) {
	s := newServer(t, conversation.Config{}, 2)
	chatID, vtok, agentTok, _ := s.handledChat("Vera", "")
	first := s.chatView(agentTok, chatID).AcceptedAt
	tok2 := s.login("agent2")
	ws2 := s.dial(tok2, nil)
	s.presence(tok2, "available")
	visitor := s.dial(vtok, map[string]int64{chatID: 0})
	visitor.event("welcome", chatID, isMessage("Welcome!"))

	path := "/api/v1/chats/" + chatID + "/transfer"
	s.fail(413, parley.ETOOLARGE, "POST", path, agentTok, map[string]any{"agent_id": ws2.ready.Actor.Agent.ID, "note": strings.Repeat("n", 1025)})
	const note = "Wants a refund for order 4711."
	s.must(204, "POST", path, agentTok, map[string]any{"agent_id": ws2.ready.Actor.Agent.ID, "note": note}, nil)
	f := ws2.expect("offer", func(f httpapi.ServerFrame) bool { return f.Type == "offer" && f.ChatID == chatID })
	if f.Chat == nil || f.Chat.TransferNote != note {
		t.Fatalf("the offer frame has chat %+v; want transfer_note %q", f.Chat, note)
	}
	s.must(200, "POST", "/api/v1/chats/"+chatID+"/accept", tok2, nil, nil)
	v := s.chatView(tok2, chatID)
	if v.TransferNote != note || !v.AcceptedAt.Equal(first) {
		t.Errorf("agent2 reads note %q, accepted_at %v; want %q and the first answer %v", v.TransferNote, v.AcceptedAt, note, first)
	}
	if vv := s.chatView(vtok, chatID); vv.TransferNote != "" {
		t.Errorf("the visitor reads the note %q", vv.TransferNote)
	}
	// The visitor's stream: the transferred notice, then agent2 joins; no
	// note and no second greeting on the way.
	visitor.expect("agent2 joined", func(f httpapi.ServerFrame) bool {
		if f.Type == "event" && f.Event.Type == parley.EventMessage && (f.Event.Text == note || f.Event.Text == "Welcome!") {
			t.Fatalf("the visitor got %q after the transfer", f.Event.Text)
		}
		return f.Type == "event" && f.Event.Type == parley.EventJoined && f.Event.From.AgentID == ws2.ready.Actor.Agent.ID
	})
	marker := ws2.send(chatID, "marker")
	visitor.expect("marker", func(f httpapi.ServerFrame) bool {
		if f.Type == "event" && f.Event.Type == parley.EventMessage && (f.Event.Text == note || f.Event.Text == "Welcome!") {
			t.Fatalf("the visitor got %q after the transfer", f.Event.Text)
		}
		return f.Type == "event" && f.Event.Seq == marker.Seq
	})
}

func (s *server) chatView(tok, chatID string) conversation.ChatView {
	s.t.Helper()
	var v conversation.ChatView
	s.must(200, "GET", "/api/v1/chats/"+chatID, tok, nil, &v)
	return v
}
