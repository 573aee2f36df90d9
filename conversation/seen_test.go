package conversation_test

import (
	"context"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// TestMarkSeen: read receipts are stored seen events, visible to the other
// side; a repeated or older receipt stores nothing; a seq beyond the log,
// another visitor's chat and an agent not in the chat are refused.
func TestMarkSeen(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	f.available(f.alice)
	chatID, visitor := f.request(1, "Vera")
	if _, err := f.svc.Accept(ctx, f.alice, chatID); err != nil {
		t.Fatal(err)
	}
	msg, err := f.svc.Send(ctx, f.alice, chatID, "Hello Vera", conversation.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.svc.MarkSeen(ctx, visitor, chatID, msg.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if e == nil || e.Type != parley.EventSeen || e.Seen != msg.Seq || e.From.Kind != parley.PartyVisitor || e.Seq <= msg.Seq {
		t.Fatalf("receipt %+v for seq %d", e, msg.Seq)
	}
	if again, err := f.svc.MarkSeen(ctx, visitor, chatID, msg.Seq-1); err != nil || again != nil {
		t.Fatalf("an older receipt: %+v, %v; want nothing stored", again, err)
	}
	_, err = f.svc.MarkSeen(ctx, visitor, chatID, e.Seq+5)
	wantCode(t, err, parley.EINVALID)
	_, err = f.svc.MarkSeen(ctx, visitor, chatID, 0)
	wantCode(t, err, parley.EINVALID)
	_, other := f.request(1, "Mallory")
	_, err = f.svc.MarkSeen(ctx, other, chatID, msg.Seq)
	wantCode(t, err, parley.EFORBIDDEN)
	_, err = f.svc.MarkSeen(ctx, f.bob, chatID, msg.Seq)
	wantCode(t, err, parley.EFORBIDDEN)

	byAgent, err := f.svc.MarkSeen(ctx, f.alice, chatID, e.Seq)
	if err != nil || byAgent == nil || byAgent.From.AgentID != f.alice.AgentID() {
		t.Fatalf("the agent's receipt: %+v, %v", byAgent, err)
	}
	var seen []int64
	for _, ev := range f.events(visitor, chatID) {
		if ev.Type == parley.EventSeen {
			seen = append(seen, ev.Seen)
		}
	}
	if len(seen) != 2 || seen[0] != msg.Seq || seen[1] != e.Seq {
		t.Fatalf("the visitor's log holds receipts for %v; want [%d %d]", seen, msg.Seq, e.Seq)
	}
}
