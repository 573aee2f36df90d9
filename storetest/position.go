package storetest

import (
	"testing"

	"github.com/parleychat/parley"
)

func testReadPositions(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	f.create(t, f.chat("chat-1", at(0)))
	f.create(t, f.chat("chat-2", at(1)))
	read := func(chat, reader string) int64 {
		t.Helper()
		seq, err := s.ReadPosition(ctx, chat, reader)
		must(t, err, "read position")
		return seq
	}
	if got := read("chat-1", "micc"); got != 0 {
		t.Fatalf("position never saved: %d, want 0", got)
	}
	must(t, s.SavePosition(ctx, "chat-1", "micc", 4), "save position")
	must(t, s.SavePosition(ctx, "chat-2", "micc", 9), "save position of another chat")
	must(t, s.SavePosition(ctx, "chat-1", "other", 1), "save another reader's position")
	if got := read("chat-1", "micc"); got != 4 {
		t.Fatalf("position after saving 4: %d", got)
	}
	must(t, s.SavePosition(ctx, "chat-1", "micc", 2), "save a lower position")
	if got := read("chat-1", "micc"); got != 4 {
		t.Errorf("position after saving 2 below 4: %d, want 4 kept", got)
	}
	must(t, s.SavePosition(ctx, "chat-1", "micc", 7), "save a higher position")
	if got, o, c2 := read("chat-1", "micc"), read("chat-1", "other"), read("chat-2", "micc"); got != 7 || o != 1 || c2 != 9 {
		t.Errorf("positions: chat-1 micc %d (want 7), other %d (want 1), chat-2 %d (want 9)", got, o, c2)
	}
	wantCode(t, s.SavePosition(ctx, "ghost", "micc", 1), parley.EINVALID, "position in a missing chat")
	wantCode(t, s.SavePosition(ctx, "chat-1", "", 1), parley.EINVALID, "position without a reader")
	wantCode(t, s.SavePosition(ctx, "chat-1", "micc", -1), parley.EINVALID, "negative position")
	if got := read("chat-1", "micc"); got != 7 {
		t.Errorf("position after refused saves: %d, want 7", got)
	}

	// Positions go with their chat.
	v := f.visitor
	f.create(t, f.ended("old", v, at(-100)))
	must(t, s.SavePosition(ctx, "old", "micc", 3), "save position of an ended chat")
	d, err := s.Purge(ctx, f.tenant, at(-50), 10)
	must(t, err, "purge")
	if len(d.ChatIDs) != 1 || d.ChatIDs[0] != "old" {
		t.Fatalf("purged %v, want old", d.ChatIDs)
	}
	if got := read("old", "micc"); got != 0 {
		t.Errorf("position of a purged chat: %d, want none", got)
	}
}
