package wsnb

import (
	"testing"
	"time"
)

// fakePeer records what the wheel does to it.
type fakePeer struct {
	PeerState
	pinged, aborted int
}

func (p *fakePeer) Ping() error { p.pinged++; return nil }
func (p *fakePeer) Abort()      { p.aborted++ }

// The wheel pings a peer silent for half an interval, leaves a chatty one
// alone, and drops one that did not answer its ping within the pong wait.
func TestKeepAliveWheel(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	k := NewKeepAlive(16*time.Second, func() time.Time { return t0 }, func(string, ...any) {})
	defer k.Close()
	quiet, chatty := &fakePeer{}, &fakePeer{}
	quiet.Hear(t0)
	chatty.Hear(t0)
	k.Add(quiet)
	k.Add(chatty)
	turn := func(now time.Time) {
		for range WheelSlots {
			k.Tick(now)
		}
	}
	t1 := t0.Add(9 * time.Second)
	chatty.Hear(t1)
	turn(t1)
	if quiet.pinged != 1 || quiet.Pings() != 1 || !quiet.AwaitingPong() {
		t.Fatalf("quiet peer: pinged %d, awaiting %v; want one ping", quiet.pinged, quiet.AwaitingPong())
	}
	if chatty.pinged != 0 {
		t.Fatalf("chatty peer pinged %d times", chatty.pinged)
	}
	// No answer within the pong wait: dropped.
	turn(t1.Add(17 * time.Second))
	if quiet.aborted != 1 {
		t.Fatalf("silent peer aborted %d times; want 1", quiet.aborted)
	}
	// A peer that answers is not dropped, and a removed one is not seen.
	chatty.Hear(t1.Add(17 * time.Second))
	k.Remove(quiet)
	turn(t1.Add(40 * time.Second))
	if chatty.aborted != 0 || quiet.aborted != 1 {
		t.Fatalf("aborts: chatty %d, removed quiet %d", chatty.aborted, quiet.aborted)
	}
}
