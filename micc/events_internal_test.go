package micc

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// TestTranslate maps each kind of Parley event to its MiCC event, or to
// none.
func TestTranslate(t *testing.T) {
	created := time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC)
	later := created.Add(90*time.Second + 250*time.Millisecond)
	agent := parley.Party{Kind: parley.PartyAgent, AgentID: 7, Name: "Alice"}
	visitor := parley.Party{Kind: parley.PartyVisitor, Name: "John"}
	system := parley.Party{Kind: parley.PartySystem}
	queued := &conversation.ChatView{State: parley.StateQueued, CreatedAt: created, Queue: &parley.QueueInfo{Position: 3, EstimatedWait: 120}}
	handling := &conversation.ChatView{State: parley.StateHandling, CreatedAt: created}
	for _, tc := range []struct {
		name  string
		view  *conversation.ChatView
		event parley.Event
		want  string // JSON of the events, "[]" for none
	}{
		{"agent message", handling, parley.Event{Seq: 9, Type: parley.EventMessage, At: later, From: agent, Text: "Hi <b>John</b>"},
			`[{"EventType":0,"Data":{"ChatID":"X","Name":"Alice","Message":"Hi \u003cb\u003eJohn\u003c/b\u003e","System":false,"TimeStamp":"2026-11-21T16:01:30.250Z","Attachment":null}}]`},
		{"system message", handling, parley.Event{Seq: 9, Type: parley.EventMessage, At: later, From: system, Text: "Welcome."},
			`[{"EventType":0,"Data":{"ChatID":"X","Name":"","Message":"Welcome.","System":true,"TimeStamp":"2026-11-21T16:01:30.250Z","Attachment":null}}]`},
		{"queue message, returned by RequestChat", queued, parley.Event{Seq: 3, Type: parley.EventMessage, At: created, From: system, Text: "Please wait."}, `[]`},
		{"idle warning", handling, parley.Event{Seq: 9, Type: parley.EventNotice, At: later, From: system, Notice: parley.NoticeIdleWarning, Text: "The chat closes soon."},
			`[{"EventType":0,"Data":{"ChatID":"X","Name":"","Message":"The chat closes soon.","System":true,"TimeStamp":"2026-11-21T16:01:30.250Z","Attachment":null}}]`},
		{"pushed page", handling, parley.Event{Seq: 9, Type: parley.EventURL, At: later, From: agent, URL: "https://shop.example/help"},
			`[{"EventType":0,"Data":{"ChatID":"X","Name":"Alice","Message":"https://shop.example/help","System":false,"TimeStamp":"2026-11-21T16:01:30.250Z","Attachment":null}}]`},
		{"customer's own message", handling, parley.Event{Seq: 9, Type: parley.EventMessage, At: later, From: visitor, Text: "Hello"}, `[]`},
		{"customer's own file", handling, parley.Event{Seq: 9, Type: parley.EventFile, At: later, From: visitor, File: &parley.Attachment{ID: "f"}}, `[]`},
		{"agent joined", handling, parley.Event{Seq: 5, Type: parley.EventJoined, From: agent}, `[{"EventType":1,"Data":{"ChatID":"X","Name":"Alice"}}]`},
		{"customer joined", queued, parley.Event{Seq: 1, Type: parley.EventJoined, From: visitor}, `[]`},
		{"agent left", handling, parley.Event{Seq: 5, Type: parley.EventLeft, From: agent}, `[{"EventType":2,"Data":{"ChatID":"X","Name":"Alice"}}]`},
		{"customer left", handling, parley.Event{Seq: 5, Type: parley.EventLeft, From: visitor}, `[]`},
		{"agent typing", handling, parley.Event{Type: parley.EventTyping, From: agent, Typing: true}, `[{"EventType":3,"Data":{"ChatID":"X","Name":"Alice"}}]`},
		{"agent stopped typing", handling, parley.Event{Type: parley.EventTyping, From: agent}, `[]`},
		{"queued, position now", queued, parley.Event{Seq: 2, Type: parley.EventState, From: system, State: &parley.StateChange{State: parley.StateQueued}},
			`[{"EventType":4,"Data":{"ChatID":"X","State":0,"QueuePosition":3,"EstimatedWaitTime":120,"TerminationCause":0}}]`},
		{"queued, no longer", handling, parley.Event{Seq: 2, Type: parley.EventState, From: system, State: &parley.StateChange{State: parley.StateQueued}},
			`[{"EventType":4,"Data":{"ChatID":"X","State":0,"QueuePosition":0,"EstimatedWaitTime":-1,"TerminationCause":0}}]`},
		{"queue position pushed", queued, parley.Event{Type: parley.EventQueue, Queue: &parley.QueueInfo{Position: 2, EstimatedWait: 60}},
			`[{"EventType":4,"Data":{"ChatID":"X","State":0,"QueuePosition":2,"EstimatedWaitTime":60,"TerminationCause":0}}]`},
		{"handling", handling, parley.Event{Seq: 6, Type: parley.EventState, From: system, State: &parley.StateChange{State: parley.StateHandling}},
			`[{"EventType":4,"Data":{"ChatID":"X","State":1,"QueuePosition":0,"EstimatedWaitTime":-1,"TerminationCause":0}}]`},
		{"group closed", handling, parley.Event{Seq: 6, Type: parley.EventState, From: system, State: &parley.StateChange{State: parley.StateTerminated, Cause: parley.CauseGroupClosed}},
			`[{"EventType":4,"Data":{"ChatID":"X","State":2,"QueuePosition":0,"EstimatedWaitTime":-1,"TerminationCause":1}}]`},
		{"idle timeout", handling, parley.Event{Seq: 6, Type: parley.EventState, From: system, State: &parley.StateChange{State: parley.StateTerminated, Cause: parley.CauseIdleTimeout}},
			`[{"EventType":4,"Data":{"ChatID":"X","State":2,"QueuePosition":0,"EstimatedWaitTime":-1,"TerminationCause":0}}]`},
		{"call signaling", handling, parley.Event{Seq: 6, Type: parley.EventSignal, From: agent, Signal: json.RawMessage(`{}`)}, `[]`},
	} {
		h := &Handler{}
		out, err := h.translate(context.Background(), chatRef{raw: "X", view: tc.view}, []parley.Event{tc.event})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// TestBytes reads attachments as base64 or as arrays of bytes, and
// refuses anything else.
func TestBytes(t *testing.T) {
	for in, want := range map[string]string{
		`"aGk="`: "hi", `[104, 105]`: "hi", `[]`: "", `null`: "", `[0,255]`: "\x00\xff",
	} {
		var b Bytes
		if err := json.Unmarshal([]byte(in), &b); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", in, b, err, want)
		}
	}
	for _, in := range []string{`"***"`, `[256]`, `[-1]`, `[1.5]`, `["a"]`, `[[1]]`, `{}`, `1`, `true`, `[1e2]`} {
		var b Bytes
		err := json.Unmarshal([]byte(in), &b)
		if parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("%s: %v; want an invalid error", in, err)
		}
	}
}
