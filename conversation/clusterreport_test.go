package conversation

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/natsbus"
	"github.com/parleychat/parley/routing"
)

// TestNodeReportInParts: a node's report of more connections than one bus
// message carries (NATS refuses payloads over 1 MiB by default, about
// 25,000 chats) goes in parts, each well under the limit; another node
// keeps using the last whole report until every part of the next one has
// arrived, then uses all of it, and drops a round whose parts were
// overtaken by a newer round.
func TestNodeReportInParts(t *testing.T) {
	chatID := func(i int) string { return fmt.Sprintf("01a1fe5c-fa56-79e6-ad57-%012d", i) }
	big := nodeReport{Node: "b", Round: 7, Agents: map[int64]int{1: 1, 2: 2, 3: 1}, Chats: map[string]int{}}
	for i := range 30_000 {
		big.Chats[chatID(i)] = 1
	}
	whole, _ := json.Marshal(big)
	if len(whole) <= 1<<20 {
		t.Fatalf("the report is %d bytes: not over NATS's limit, the test proves nothing", len(whole))
	}
	parts := big.split(reportPartSize)
	if len(parts) != 7 {
		t.Fatalf("%d parts; want 7 of at most %d", len(parts), reportPartSize)
	}
	agents, chats := map[int64]int{}, map[string]int{}
	for i, p := range parts {
		data, _ := json.Marshal(p)
		if len(data) > 256<<10 || p.Part != i || p.Parts != len(parts) || p.Round != 7 || p.Node != "b" {
			t.Errorf("part %d: %d bytes, part %d of %d, round %d", i, len(data), p.Part, p.Parts, p.Round)
		}
		maps.Copy(agents, p.Agents)
		maps.Copy(chats, p.Chats)
	}
	if !maps.Equal(agents, big.Agents) || !maps.Equal(chats, big.Chats) {
		t.Fatalf("the parts hold %d agents and %d chats; the report %d and %d", len(agents), len(chats), len(big.Agents), len(big.Chats))
	}

	c := newCluster(nil, ClusterConfig{Node: "a"})
	send := func(r nodeReport) {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		c.control(subjectNodes, data)
	}
	send(nodeReport{Node: "b", Round: 6, Parts: 1, Agents: map[int64]int{9: 1}, Chats: map[string]int{"old": 1}})
	if c.chatConns("old") != 1 || c.agentConns(9) != 1 {
		t.Fatal("a report in one message was not used")
	}
	for _, p := range parts[:len(parts)-1] {
		send(p)
	}
	if c.chatConns("old") != 1 || c.chatConns(chatID(0)) != 0 || c.agentConns(2) != 0 {
		t.Error("a report was used before all its parts arrived")
	}
	send(parts[len(parts)-1])
	if c.chatConns("old") != 0 || c.agentConns(9) != 0 {
		t.Error("the connections of the older report are still counted")
	}
	for i := range 30_000 {
		if c.chatConns(chatID(i)) != 1 {
			t.Fatalf("chat %d of the whole report not counted", i)
		}
	}
	if c.agentConns(2) != 2 {
		t.Errorf("agent 2: %d connections; want 2", c.agentConns(2))
	}

	// Round 8 loses its last part; round 9 comes whole and is used alone.
	r8 := nodeReport{Node: "b", Round: 8, Chats: map[string]int{}}
	r9 := nodeReport{Node: "b", Round: 9, Chats: map[string]int{}}
	for i := range 12_000 {
		r8.Chats[chatID(100_000+i)] = 1
		r9.Chats[chatID(200_000+i)] = 1
	}
	p8 := r8.split(reportPartSize)
	send(p8[0])
	send(p8[1])
	for _, p := range r9.split(reportPartSize) {
		send(p)
	}
	if c.chatConns(chatID(100_000)) != 0 || c.chatConns(chatID(200_000)) != 1 || c.chatConns(chatID(0)) != 0 {
		t.Error("parts of an overtaken round were merged into the next one")
	}
	send(nodeReport{Node: "b", Bye: true})
	if c.chatConns(chatID(200_000)) != 0 {
		t.Error("the connections of a node that said goodbye are still counted")
	}
}

// TestFollowerSharesSnapshotRequests: callers on a follower that need the
// leader's routing snapshot at the same moment share one request over
// NATS, instead of each asking the leader for its own copy of every
// queue; a caller within 100 ms of the answer gets it without asking.
func TestFollowerSharesSnapshotRequests(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nb, err := natsbus.Open(ctx, natsbus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Close()
	var asked atomic.Int32
	release := make(chan struct{})
	// The test is the leader: it answers snapshot requests once released.
	unsub, err := nb.Handle(subjectRoute, func(data []byte) []byte {
		var req routeRequest
		if json.Unmarshal(data, &req) != nil || req.Op != "snapshot" {
			return []byte(`{"err":"unexpected request"}`)
		}
		n := asked.Add(1)
		<-release
		out, _ := json.Marshal(routeReply{Snapshot: &routing.Snapshot{At: time.Now().UTC(), Waits: map[int64]int{1: int(n)}}})
		return out
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	c := newCluster(&Service{ctx: ctx, log: slog.New(slog.DiscardHandler)}, ClusterConfig{Node: "f", Bus: nb})

	const callers = 20
	var wg sync.WaitGroup
	got := make(chan *routing.Snapshot, callers)
	for range callers {
		wg.Go(func() { got <- c.snapshot() })
	}
	deadline := time.Now().Add(10 * time.Second)
	for asked.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no snapshot request reached the leader")
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	close(release)
	wg.Wait()
	close(got)
	for s := range got {
		if s.Unknown || s.Waits[1] == 0 {
			t.Fatalf("a caller got %+v; want the leader's snapshot", s)
		}
	}
	// Each caller asking on its own would be 20 requests; a caller held
	// up past the 100 ms the answer stays fresh may ask once more.
	if n := asked.Load(); n > callers/2 {
		t.Errorf("%d callers made %d snapshot requests; want them shared", callers, n)
	}
	t.Logf("%d callers, %d snapshot requests", callers, asked.Load())
}
