package rocketchat

import (
	"fmt"
	"testing"
	"time"
)

// A full registry makes room by forgetting the guest without a chat seen
// longest ago; guests with chats are kept.
func TestGuestsFullEvictsIdleGuests(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	gs := newGuests(func() time.Time { return now })
	withChat, _, err := gs.upsert("with-chat")
	if err != nil {
		t.Fatal(err)
	}
	withChat.ptoken = "parley-token"
	for i := 1; i < maxGuests; i++ {
		now = now.Add(time.Millisecond)
		if _, _, err := gs.upsert(fmt.Sprintf("guest-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Millisecond)
	if _, _, err := gs.upsert("newcomer"); err != nil {
		t.Fatalf("a full registry refused a newcomer: %v", err)
	}
	if gs.get("guest-1") != nil {
		t.Fatal("the idle guest seen longest ago is still registered")
	}
	if gs.get("with-chat") == nil || gs.get("newcomer") == nil {
		t.Fatal("a guest with a chat or the newcomer was forgotten")
	}
	if err := checkToken("a b"); err == nil {
		t.Fatal("a token with a space was accepted")
	}
}
