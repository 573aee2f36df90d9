package conversation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// Only the author changes a message, and only while the chat is active;
// the log keeps the original and appends the correction.
func TestEditAndDeleteMessage(t *testing.T) {
	f := newFixture(t, conversation.Config{})
	ctx := context.Background()
	f.available(f.alice)
	chatID, visitor := f.request(1, "Vera")
	if _, err := f.svc.Accept(ctx, f.alice, chatID); err != nil {
		t.Fatal(err)
	}
	mine, err := f.svc.Send(ctx, visitor, chatID, "teh price", conversation.SendOptions{ClientID: "c-1"})
	if err != nil {
		t.Fatal(err)
	}
	hers, err := f.svc.Send(ctx, f.alice, chatID, "Which price?", conversation.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.EditMessage(ctx, visitor, chatID, hers.Seq, "changed"); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("visitor editing the agent's message: %v; want forbidden", err)
	}
	if _, err := f.svc.DeleteMessage(ctx, f.alice, chatID, mine.Seq); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("agent withdrawing the visitor's message: %v; want forbidden", err)
	}
	if _, err := f.svc.EditMessage(ctx, visitor, chatID, 999, "x"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("editing a message that does not exist: %v; want not found", err)
	}
	if _, err := f.svc.EditMessage(ctx, visitor, chatID, mine.Seq, " \n"); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("an empty edit: %v; want invalid", err)
	}
	ed, err := f.svc.EditMessage(ctx, visitor, chatID, mine.Seq, "the price")
	if err != nil {
		t.Fatal(err)
	}
	if ed.Type != parley.EventEdited || ed.Text != "the price" || len(ed.Args) != 2 || ed.Args[1] != "c-1" {
		t.Fatalf("edit event = %+v", ed)
	}
	del, err := f.svc.DeleteMessage(ctx, f.alice, chatID, hers.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if del.Type != parley.EventDeleted || del.From.AgentID != f.alice.AgentID() {
		t.Fatalf("delete event = %+v", del)
	}
	var log []string
	for _, e := range f.events(f.alice, chatID) {
		log = append(log, string(e.Type)+":"+e.Text)
	}
	joined := strings.Join(log, " ")
	if !strings.Contains(joined, "message:teh price") || !strings.Contains(joined, "edited:the price") || !strings.Contains(joined, "deleted:") {
		t.Fatalf("log = %v; want the original and both corrections", log)
	}
	if err := f.svc.Leave(ctx, visitor, chatID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.EditMessage(ctx, visitor, chatID, mine.Seq, "later"); parley.ErrorCode(err) != parley.ECLOSED {
		t.Fatalf("editing in an ended chat: %v; want closed", err)
	}
}
