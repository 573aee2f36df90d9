package conversation

import (
	"reflect"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

// TestRoutingInputsCrossTheBus: every input a follower forwards arrives
// at the leader as it was sent; a tick is never forwarded, a group's
// change travels as its ID; the decisions callers look at come back.
func TestRoutingInputsCrossTheBus(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, in := range []routing.Input{
		routing.ChatQueued{ChatID: "c", Groups: []int64{1, 2}, Priority: 3, At: at, OnlyAgent: 7, Exclude: 8, Sticky: 9, Preferred: 10},
		routing.ChatAssigned{ChatID: "c", GroupID: 1, AgentID: 7, At: at},
		routing.OfferAccepted{ChatID: "c", AgentID: 7, At: at},
		routing.OfferDeclined{ChatID: "c", AgentID: 7, At: at},
		routing.Pick{ChatID: "c", AgentID: 7, At: at},
		routing.ChatEnded{ChatID: "c", At: at},
		routing.AgentChanged{Agent: routing.Agent{ID: 7, Presence: parley.PresenceAvailable, Status: parley.StatusReady,
			Capacity: 3, Groups: map[int64]int{1: 0, 2: 2}}, At: at},
		routing.AgentRemoved{AgentID: 7, At: at},
	} {
		req, err := encodeInput(in)
		if err != nil || req == nil {
			t.Fatalf("encode %T: %v", in, err)
		}
		got, err := decodeInput(*req)
		if err != nil || !reflect.DeepEqual(got, in) {
			t.Errorf("%T arrived as %#v (%v); sent %#v", in, got, err, in)
		}
	}
	if req, err := encodeInput(routing.Tick{At: at}); req != nil || err != nil {
		t.Errorf("a tick was forwarded: %+v, %v", req, err)
	}
	if req, _ := encodeInput(routing.GroupChanged{Group: routing.Group{ID: 4}}); req == nil || req.Op != "group" || req.GroupID != 4 {
		t.Errorf("a group change travels as %+v; want its ID", req)
	}
	if _, err := decodeInput(routeRequest{Op: "Tick"}); err == nil {
		t.Error("an unknown op was accepted")
	}
	ds := []routing.Decision{routing.Assign{ChatID: "c", AgentID: 7, GroupID: 1}, routing.Revoke{ChatID: "d", AgentID: 8},
		routing.Offer{ChatID: "e", AgentID: 9, GroupID: 2}}
	if got := decodeDecisions(encodeDecisions(append(ds, routing.QueueChanged{GroupID: 1}))); !reflect.DeepEqual(got, ds) {
		t.Errorf("decisions came back as %v; want %v", got, ds)
	}
}
