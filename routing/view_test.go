package routing

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/parleychat/parley"
)

// TestSnapshotAnswersLikeTheEngine: a snapshot, sent as JSON to another
// node, answers every View question as the engine did when it was taken.
func TestSnapshotAnswersLikeTheEngine(t *testing.T) {
	e := NewEngine(Options{})
	for _, in := range []Input{
		group(1, parley.StrategyLongestIdle), group(2, parley.StrategyLongestIdle), group(3, parley.StrategyLongestIdle),
		join(member(10, 2, 1), 0), join(member(11, 1, 1, 2), 0),
		holds(11, "held", 2),
		ask("c1", 1, 1), ask("c2", 2, 1), ask("c3", 3, 1), ask("c4", 4, 2),
	} {
		e.Handle(in)
	}
	data, err := json.Marshal(e.Snapshot(tsec(5)))
	if err != nil {
		t.Fatal(err)
	}
	var snap Snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		t.Fatal(err)
	}
	now := tsec(5)
	for _, g := range []int64{1, 2, 3, 4} {
		if got, want := snap.GroupOpen(g, now), e.GroupOpen(g, now); got != want {
			t.Errorf("GroupOpen(%d) = %v; engine %v", g, got, want)
		}
		if got, want := snap.EstimatedWait(g), e.EstimatedWait(g); got != want {
			t.Errorf("EstimatedWait(%d) = %d; engine %d", g, got, want)
		}
		if got, want := snap.Queue(g), e.Queue(g); len(got)+len(want) > 0 && !reflect.DeepEqual(got, want) {
			t.Errorf("Queue(%d) = %v; engine %v", g, got, want)
		}
	}
	for _, id := range []string{"c1", "c2", "c3", "c4", "held", "unknown"} {
		gq, gok := snap.Position(id)
		wq, wok := e.Position(id)
		if gq != wq || gok != wok {
			t.Errorf("Position(%s) = %+v %v; engine %+v %v", id, gq, gok, wq, wok)
		}
	}
	for _, a := range []int64{10, 11, 12} {
		if got, want := snap.Load(a), e.Load(a); got != want {
			t.Errorf("Load(%d) = %d; engine %d", a, got, want)
		}
		for _, g := range []int64{1, 2} {
			if got, want := snap.AgentCanTake(a, g), e.AgentCanTake(a, g); got != want {
				t.Errorf("AgentCanTake(%d, %d) = %v; engine %v", a, g, got, want)
			}
		}
	}
	if got, want := snap.QueueLengths(), e.QueueLengths(); !reflect.DeepEqual(got, want) {
		t.Errorf("QueueLengths = %v; engine %v", got, want)
	}
	if g, ok := snap.FirstOpen([]int64{3, 1}, now); g != 1 || !ok {
		t.Errorf("FirstOpen = %d %v; want group 1", g, ok)
	}
	unknown := Snapshot{Unknown: true}
	if !unknown.GroupOpen(1, now) || unknown.EstimatedWait(1) != -1 {
		t.Error("a snapshot without a leader must count groups open with no estimate")
	}
}
