package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// A call over the native API: the visitor invites and sends its offer
// over the WebSocket, the agent answers over REST; the relayed signals
// reach only the other party and the lifecycle is in the log.
func TestCallOverAPI(t *testing.T) {
	s := newServer(t, conversation.Config{ICE: conversation.ICEConfig{
		TURN: []string{"turn:127.0.0.1:3478"}, Secret: "s3cret",
	}}, 3)
	agentTok := s.login("agent1")
	agent := s.dial(agentTok, nil)
	s.presence(agentTok, "available")
	started := s.requestChat(1, "Vera")
	chatID := started.Chat.ID
	s.must(200, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	visitor := s.dial(started.VisitorToken, map[string]int64{chatID: 0})
	visitor.event("handling", chatID, isState(parley.StateHandling))

	visitor.write(map[string]any{"type": "signal", "ref": "c1", "chat_id": chatID, "signal": map[string]any{"action": "invite", "media": "video"}})
	ack := visitor.expect("ack c1", func(f httpapi.ServerFrame) bool { return f.Ref == "c1" })
	if ack.Type != "ack" || ack.Event.Type != parley.EventSignal {
		t.Fatalf("invite answered %+v %+v", ack, ack.Error)
	}
	sig, _ := ack.Event.CallOf()
	call := sig.Call
	invite := agent.event("invite", chatID, func(e *parley.Event) bool { return e.Type == parley.EventSignal })
	if got, _ := invite.CallOf(); got.Call != call || got.Media != "video" {
		t.Fatalf("the agent got invite %+v", got)
	}

	// Another agent gets neither ICE servers nor a say in the call.
	other := s.login("agent2")
	s.fail(403, "forbidden", "POST", "/api/v1/chats/"+chatID+"/signal", other, map[string]string{"action": "accept", "call": call})
	s.fail(403, "forbidden", "GET", "/api/v1/chats/"+chatID+"/calls/"+call+"/ice", other, nil)

	var accepted parley.Event
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/signal", agentTok, map[string]string{"action": "accept", "call": call}, &accepted)
	var ice conversation.ICE
	s.must(200, "GET", "/api/v1/chats/"+chatID+"/calls/"+call+"/ice", started.VisitorToken, nil, &ice)
	if len(ice.Servers) != 1 || ice.Servers[0].Username == "" || ice.Servers[0].Credential == "" {
		t.Fatalf("ICE %+v; want the TURN server with credentials", ice)
	}

	sdp := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	visitor.write(map[string]any{"type": "signal", "chat_id": chatID, "signal": map[string]any{"action": "offer", "call": call, "sdp": sdp}})
	offer := agent.event("offer", chatID, func(e *parley.Event) bool { return e.Type == parley.EventRTC })
	if got, _ := offer.CallOf(); got.SDP != sdp || offer.Seq != 0 || offer.To == nil || offer.To.Kind != parley.PartyAgent {
		t.Fatalf("the agent got %+v", offer)
	}
	s.must(204, "POST", "/api/v1/chats/"+chatID+"/signal", agentTok, map[string]any{"action": "answer", "call": call, "sdp": sdp}, nil)
	answer := visitor.event("answer", chatID, func(e *parley.Event) bool { return e.Type == parley.EventRTC })
	if got, _ := answer.CallOf(); got.Action != "answer" {
		t.Fatalf("the visitor got %+v", answer)
	}

	// Malformed and oversized signals are refused and change nothing.
	before := s.lastSeq(chatID)
	s.fail(400, "invalid", "POST", "/api/v1/chats/"+chatID+"/signal", agentTok, map[string]any{"action": "answer", "call": call, "sdp": "not an sdp"})
	s.fail(413, "too_large", "POST", "/api/v1/chats/"+chatID+"/signal", agentTok, map[string]any{"action": "candidate", "call": call,
		"candidate": map[string]string{"candidate": "candidate:" + strings.Repeat("9", 2000)}})
	visitor.write(map[string]any{"type": "signal", "ref": "bad", "chat_id": chatID, "signal": json.RawMessage(`{"action":"offer","call":"` + call + `","sdp":"v=0\r\n\u0000"}`)})
	if f := visitor.expect("error bad", func(f httpapi.ServerFrame) bool { return f.Ref == "bad" }); f.Type != "error" || f.Error.Code != "invalid" {
		t.Fatalf("a malformed SDP over the socket: %+v", f)
	}
	visitor.write(map[string]any{"type": "signal", "ref": "empty", "chat_id": chatID})
	// A frame that does not decode is answered without its ref.
	if f := visitor.expect("error", func(f httpapi.ServerFrame) bool { return f.Type == "error" }); f.Error.Code != "invalid" {
		t.Fatalf("a signal frame without a signal: %+v", f)
	}
	if after := s.lastSeq(chatID); after != before {
		t.Fatalf("refused signals moved the log from %d to %d", before, after)
	}

	var hung parley.Event
	s.must(201, "POST", "/api/v1/chats/"+chatID+"/signal", agentTok, map[string]string{"action": "hangup", "call": call}, &hung)
	end := visitor.event("hang-up", chatID, func(e *parley.Event) bool { return e.Type == parley.EventSignal && e.Seq == hung.Seq })
	if got, _ := end.CallOf(); got.Outcome != parley.OutcomeCompleted {
		t.Fatalf("the visitor got the end %+v", got)
	}
}
