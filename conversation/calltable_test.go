package conversation

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func signalEvent(t *testing.T, seq int64, sig parley.CallSignal) *parley.Event {
	t.Helper()
	data, err := json.Marshal(sig)
	if err != nil {
		t.Fatal(err)
	}
	return &parley.Event{Seq: seq, Type: parley.EventSignal, At: time.Unix(seq, 0), From: parley.Party{Kind: parley.PartyVisitor}, Signal: data}
}

// TestCallTableNote: a node applies a chat's events from the bus in the
// log's order; events it already has are skipped, and a gap drops the
// chat, so the next question reads the log instead of trusting the table.
func TestCallTableNote(t *testing.T) {
	var tb callTable
	tb.note("c1", signalEvent(t, 1, parley.CallSignal{Call: "k1", Action: parley.CallInvite, Media: parley.MediaAudio}))
	if _, _, ok := tb.get("c1"); ok {
		t.Fatal("a chat the table did not know was recorded from the bus")
	}
	tb.put("c1", nil, 3)
	tb.note("c1", &parley.Event{Seq: 4, Type: parley.EventMessage})
	tb.note("c1", signalEvent(t, 5, parley.CallSignal{Call: "k1", Action: parley.CallInvite, Media: parley.MediaVideo}))
	open, seq, ok := tb.get("c1")
	if !ok || open == nil || open.id != "k1" || seq != 5 {
		t.Fatalf("after the invite: %+v at %d (%v); want call k1 at 5", open, seq, ok)
	}
	tb.note("c1", signalEvent(t, 4, parley.CallSignal{Call: "k1", Action: parley.CallHangup}))
	if open, seq, _ := tb.get("c1"); open == nil || seq != 5 {
		t.Fatalf("an event already applied changed the table: %+v at %d", open, seq)
	}
	tb.put("c1", nil, 2) // an older read of the log
	if open, _, _ := tb.get("c1"); open == nil {
		t.Fatal("an older read of the log replaced a newer state")
	}
	tb.note("c1", signalEvent(t, 7, parley.CallSignal{Call: "k1", Action: parley.CallHangup}))
	if _, _, ok := tb.get("c1"); ok {
		t.Fatal("a gap (6 missing) kept the chat in the table")
	}
}
