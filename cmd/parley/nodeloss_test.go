package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/httpapi"
)

// Sizes of TestClusterNodeLoss: 200 chats between visitors and 20 agents
// of capacity 10 (so the agents are full), a few more visitors queued
// behind them, and messages both ways at nlRate a second in total.
const (
	nlVisitors = 200
	nlAgents   = 20
	nlCapacity = 10
	nlQueued   = 6
	nlRate     = 150
	// Every nlPollEvery-th visitor reads and sends with long-polls and
	// POST instead of the WebSocket.
	nlPollEvery = 20
)

// loopbacks returns the addresses for three nodes: 127.0.0.1, .2 and .3
// where the loopback answers on them, else 127.0.0.1 three times (the
// ports differ).
func loopbacks() []string {
	out := []string{"127.0.0.1"}
	for _, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		l, err := net.Listen("tcp", ip+":0")
		if err != nil {
			ip = "127.0.0.1"
		} else {
			l.Close()
		}
		out = append(out, ip)
	}
	return out
}

// TestClusterNodeLoss is acceptance 2 of the cluster: three `parley
// serve` nodes on PostgreSQL and NATS, 200 visitors and 20 agents chatting
// over WebSockets spread over the nodes at a steady rate, a few visitors
// queued behind them. kill -9 of the routing leader, then, after the
// cluster recovered, of another node holding sockets. Clients whose node
// died reconnect to the next address and resume from their last seq;
// sends whose ack was lost are sent again with the same client_id. The
// test prints the figures and checks that every acknowledged message is
// in its chat's log exactly once, every client saw every chat gap-free
// and duplicate-free up to its end, no chat was handled by or offered
// while handled to two agents, a new leader decided within 10 s of the
// kill, and the queued visitors were served in their order.
func TestClusterNodeLoss(t *testing.T) {
	c := newTestCluster(t)
	began := time.Now()
	var nodes []*nlNode
	for _, ip := range loopbacks() {
		p := c.node("--addr", ip+":0", "--limit-chat-requests", "0")
		nodes = append(nodes, &nlNode{url: p.url, p: p})
	}
	password := nodes[len(nodes)-1].p.password // the last node to seed the demo set it
	w := newWorld(nodes)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var clients sync.WaitGroup
	defer clients.Wait()
	defer cancel()

	leader := -1
	eventually(t, 20*time.Second, "a leader among three nodes", func() bool {
		leader = -1
		followers := 0
		for i, n := range nodes {
			switch n.p.role() {
			case "leader":
				leader = i
			case "follower":
				followers++
			}
		}
		return leader >= 0 && followers == 2
	})
	for _, n := range nodes {
		n.p.password = password
	}
	// The store's own record of offers: a trigger of this test's schema
	// notes every offer as it is written, with whom the chat had then.
	db, err := sql.Open("pgx", c.store)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`CREATE TABLE nodeloss_offers (chat_id text, old_offered bigint, offered bigint, agent bigint, at timestamptz)`,
		`CREATE FUNCTION nodeloss_offer() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO nodeloss_offers VALUES (NEW.id, OLD.offered_to, NEW.offered_to, NEW.agent_id, clock_timestamp());
			RETURN NULL;
		END; $$`,
		`CREATE TRIGGER nodeloss_offer AFTER UPDATE OF offered_to ON chats FOR EACH ROW
			WHEN (NEW.offered_to IS NOT NULL AND NEW.offered_to IS DISTINCT FROM OLD.offered_to) EXECUTE FUNCTION nodeloss_offer()`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	admin := nodes[0].p.login("admin")

	// The run's groups: one for the chats, one for the probe of the new
	// leader's first decision (its own agent, so that it is never full).
	group := func(name string) int64 {
		var g parley.Group
		nodes[0].p.must(201, "POST", "/api/v1/admin/groups", admin, map[string]any{"name": name, "routing": map[string]any{"strategy": "least_busy"}}, &g)
		return g.ID
	}
	mainGroup, probeGroup := group("Node loss"), group("Probe")
	agentPassword := "nodeloss-" + c.prefix
	addAgent := func(login string, groupID int64, capacity, node int) *nlClient {
		node %= len(nodes)
		var a parley.Agent
		nodes[node].p.must(201, "POST", "/api/v1/admin/agents", admin, map[string]any{"login": login, "password": agentPassword,
			"display_name": login, "role": "agent", "capacity": capacity, "groups": []map[string]any{{"group_id": groupID}}}, &a)
		var lr httpapi.LoginResponse
		nodes[node].p.must(200, "POST", "/api/v1/auth/login", "", map[string]string{"login": login, "password": agentPassword}, &lr)
		cl := newClient(w, login, lr.Token, a.ID, node)
		clients.Go(func() { cl.run(ctx) })
		if cl.session(ctx) == nil {
			t.Fatal("no session")
		}
		nodes[node].p.must(200, "PUT", "/api/v1/me/presence", lr.Token, map[string]string{"presence": "available", "status": "ready"}, nil)
		return cl
	}
	var agents []*nlClient
	for i := range nlAgents {
		agents = append(agents, addAgent(fmt.Sprintf("nl-agent-%02d", i), mainGroup, nlCapacity, i))
	}
	// The probe agent sits on a node that is not killed first.
	probe := addAgent("nl-probe", probeGroup, 5, (leader+1)%len(nodes))

	staff := append(agents[:len(agents):len(agents)], probe)

	// A node that does not lead answers from the leader's routing
	// snapshot, which may still call a group closed just after its agents
	// went ready (409, nothing created): ask again.
	tryRequest := func(node int, groupID int64, name string) (httpapi.ChatStartedBody, bool) {
		var chat httpapi.ChatStartedBody
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
			if w.callAny(ctx, node, "POST", "/api/v1/chats", "", map[string]any{"group_id": groupID, "name": name}, &chat) == 201 {
				return chat, true
			}
			time.Sleep(50 * time.Millisecond) // polling with a deadline
		}
		return chat, false
	}
	request := func(node int, groupID int64, name string) httpapi.ChatStartedBody {
		chat, ok := tryRequest(node, groupID, name)
		if !ok {
			t.Fatalf("no chat request of %s on node %d within 15 s", name, node)
		}
		return chat
	}
	type nlChat struct {
		id      string
		visitor *nlClient
	}
	var chats []*nlChat
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range nlVisitors {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			started, ok := tryRequest(i%len(nodes), mainGroup, fmt.Sprintf("Visitor %d", i))
			if !ok {
				t.Errorf("no chat request of visitor %d within 15 s", i)
				return
			}
			v := newClient(w, fmt.Sprintf("visitor-%03d", i), started.VisitorToken, 0, i, started.Chat.ID)
			if i%nlPollEvery == 0 {
				v.name = fmt.Sprintf("poller-%03d", i)
				v.lpChat = started.Chat.ID
			}
			clients.Go(func() { v.run(ctx) })
			mu.Lock()
			chats = append(chats, &nlChat{id: started.Chat.ID, visitor: v})
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	eventually(t, 60*time.Second, "every chat assigned to an agent", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.owner) == nlVisitors
	})
	// The queued visitors, one after another, so that their order is known.
	var queued []*nlChat
	for i := range nlQueued {
		started := request(i%len(nodes), mainGroup, fmt.Sprintf("Queued %d", i))
		v := newClient(w, fmt.Sprintf("queued-%d", i), started.VisitorToken, 0, i, started.Chat.ID)
		clients.Go(func() { v.run(ctx) })
		qc := &nlChat{id: started.Chat.ID, visitor: v}
		queued = append(queued, qc)
		chats = append(chats, qc)
	}
	for _, ch := range chats {
		if ch.visitor.session(ctx) == nil {
			t.Fatal("no session")
		}
	}
	setup := time.Since(began)

	// Messages both ways at nlRate a second: each tick, the next chat's
	// visitor or agent sends, unless its previous send still waits.
	sendCtx, stopSends := context.WithCancel(ctx)
	defer stopSends()
	var senders, pacer sync.WaitGroup
	var skipped int
	pacerCtx, stopPacer := context.WithCancel(ctx)
	pacer.Go(func() {
		tick := time.NewTicker(time.Second / nlRate)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-pacerCtx.Done():
				return
			case <-tick.C:
			}
			ch := chats[(n/2)%len(chats)]
			from := ch.visitor
			if n%2 == 1 {
				w.mu.Lock()
				from = w.owner[ch.id]
				w.mu.Unlock()
				if from == nil {
					continue // a queued chat has no agent
				}
			}
			if !from.busy.CompareAndSwap(false, true) {
				skipped++
				continue
			}
			id := fmt.Sprintf("%s-%d", from.name, n)
			senders.Go(func() { from.send(sendCtx, ch.id, id) })
		}
	})
	ackedCount := func() int {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.acked)
	}
	// flowing waits until n more messages were acknowledged and every
	// client has a session on a live node.
	flowing := func(what string, n int) {
		from := ackedCount()
		eventually(t, 60*time.Second, what, func() bool {
			if ackedCount() < from+n {
				return false
			}
			for _, cl := range staff {
				if !cl.connected() {
					return false
				}
			}
			for _, ch := range chats {
				if !ch.visitor.connected() {
					return false
				}
			}
			return true
		})
	}
	flowing("messages before the first kill", 4*nlRate)

	// 1. kill -9 the routing leader; at once request a chat of the probe
	// group: its offer is the new leader's first decision.
	kill := func(i int) time.Time {
		nodes[i].dead.Store(true)
		if err := nodes[i].p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		<-nodes[i].p.exited
		return at
	}
	holding := func(i int) int {
		n := 0
		for _, cl := range staff {
			cl.mu.Lock()
			if cl.sess != nil && cl.sess.node == i {
				n++
			}
			cl.mu.Unlock()
		}
		for _, ch := range chats {
			ch.visitor.mu.Lock()
			if ch.visitor.sess != nil && ch.visitor.sess.node == i {
				n++
			}
			ch.visitor.mu.Unlock()
		}
		return n
	}
	leaderSockets := holding(leader)
	killedAt := kill(leader)
	probeChat := request((leader+1)%len(nodes), probeGroup, "Probe")
	var firstDecision time.Duration
	eventually(t, 30*time.Second, "the new leader's first offer", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, o := range w.offers {
			if o.chatID == probeChat.Chat.ID {
				firstDecision = o.at.Sub(killedAt)
				return true
			}
		}
		return false
	})
	newLeader := -1
	eventually(t, 20*time.Second, "a surviving node leading", func() bool {
		for i, n := range nodes {
			if !n.dead.Load() && n.p.role() == "leader" {
				newLeader = i
				return true
			}
		}
		return false
	})
	flowing("messages after the leader's loss", 2*nlRate)
	recovered1 := time.Since(killedAt)

	// 2. kill -9 the other surviving node, which holds sockets.
	second := -1
	for i, n := range nodes {
		if !n.dead.Load() && i != newLeader {
			second = i
		}
	}
	secondSockets := holding(second)
	if secondSockets == 0 {
		t.Fatalf("node %d holds no clients", second)
	}
	killed2 := kill(second)
	flowing("messages after the second node's loss", 2*nlRate)
	recovered2 := time.Since(killed2)

	stopPacer()
	pacer.Wait()
	senders.Wait()
	stopSends()

	// Every client catches up with the store's last seq of its chats.
	lastSeqs := func() map[string]int64 {
		rows, err := db.Query(`SELECT id, last_seq FROM chats`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var id string
			var seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				t.Fatal(err)
			}
			out[id] = seq
		}
		return out
	}
	behind := func() []string {
		last := lastSeqs()
		var out []string
		check := func(cl *nlClient, chatID string) {
			if got, _ := cl.lastSeq(chatID); got != last[chatID] {
				out = append(out, fmt.Sprintf("%s at seq %d of chat %s, last %d", cl.name, got, chatID, last[chatID]))
			}
		}
		for _, ch := range chats {
			check(ch.visitor, ch.id)
			w.mu.Lock()
			owner := w.owner[ch.id]
			w.mu.Unlock()
			if owner != nil {
				check(owner, ch.id)
			}
		}
		return out
	}
	var lagging []string
	eventually(t, 30*time.Second, "every client at its chats' last seq", func() bool {
		lagging = behind()
		return len(lagging) == 0
	})

	// The log: 1..N in every chat, every acknowledged message once, at
	// the seq of its ack.
	rows, err := db.Query(`SELECT chat_id, seq, type, from_kind, from_agent_id, COALESCE(client_id, '') FROM events ORDER BY chat_id, seq`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string][]nlAck{}
	next := map[string]int64{}
	joined := map[string][]int64{}
	for rows.Next() {
		var chatID, typ, kind, clientID string
		var seq, agentID int64
		if err := rows.Scan(&chatID, &seq, &typ, &kind, &agentID, &clientID); err != nil {
			t.Fatal(err)
		}
		if seq != next[chatID]+1 {
			t.Errorf("chat %s: seq %d follows %d in the log", chatID, seq, next[chatID])
		}
		next[chatID] = seq
		if clientID != "" {
			stored[clientID] = append(stored[clientID], nlAck{chatID, seq})
		}
		if typ == string(parley.EventJoined) && kind == string(parley.PartyAgent) {
			joined[chatID] = append(joined[chatID], agentID)
		}
	}
	rows.Close()
	w.mu.Lock()
	missing, twice := 0, 0
	for id, a := range w.acked {
		switch s := stored[id]; {
		case len(s) == 0:
			missing++
			t.Errorf("acknowledged message %s (chat %s seq %d) is not in the log", id, a.chatID, a.seq)
		case len(s) > 1:
			twice++
			t.Errorf("acknowledged message %s is in the log %d times: %v", id, len(s), s)
		case s[0] != a:
			t.Errorf("acknowledged message %s at %v, stored at %v", id, a, s[0])
		}
	}
	unacked := 0
	for id := range stored {
		if _, ok := w.acked[id]; !ok {
			unacked++ // stored, but its sender gave up before an ack
		}
	}
	problems := append([]string(nil), w.problems...)
	acked, resent, reconnects, events := len(w.acked), w.resent, w.reconnect, w.events
	w.mu.Unlock()

	// 3. The queued visitors, served in their order: end one chat at a
	// time and see which queued chat its agent is given next.
	var served []string
	for i := range nlQueued {
		ch := chats[i]
		w.mu.Lock()
		owner := w.owner[ch.id]
		w.mu.Unlock()
		if code := w.callAny(ctx, newLeader, "POST", "/api/v1/chats/"+ch.id+"/end", owner.token, nil, nil); code != 204 {
			t.Fatalf("end of %s: %d", ch.id, code)
		}
		eventually(t, 20*time.Second, "a queued chat served", func() bool {
			w.mu.Lock()
			defer w.mu.Unlock()
			for _, q := range queued {
				if w.owner[q.id] != nil && !containsString(served, q.id) {
					served = append(served, q.id)
					return true
				}
			}
			return false
		})
	}
	inOrder := true
	for i, q := range queued {
		if served[i] != q.id {
			inOrder = false
		}
	}
	if !inOrder {
		t.Errorf("queued chats served in the order %v; requested %v", served, func() (ids []string) {
			for _, q := range queued {
				ids = append(ids, q.id)
			}
			return
		}())
	}

	w.mu.Lock()
	// One agent per chat: in the log, in the assigned notices and in the
	// accepts that succeeded.
	doubled := 0
	for _, ch := range append(chats, &nlChat{id: probeChat.Chat.ID}) {
		if len(joined[ch.id]) > 1 || len(w.assigned[ch.id]) > 1 || len(w.accepted[ch.id]) > 1 {
			doubled++
			t.Errorf("chat %s: agents joined %v, assigned %v, accepted %v", ch.id, joined[ch.id], w.assigned[ch.id], w.accepted[ch.id])
		}
	}
	offersByChat := map[string]int{}
	for _, o := range w.offers {
		offersByChat[o.chatID]++
	}
	reoffered := 0
	for _, n := range offersByChat {
		if n > 1 {
			reoffered++
		}
	}
	offers := len(w.offers)
	w.mu.Unlock()
	var storedOffers, whileHandled, moved int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE agent IS NOT NULL), count(*) FILTER (WHERE old_offered IS NOT NULL) FROM nodeloss_offers`).Scan(&storedOffers, &whileHandled, &moved); err != nil {
		t.Fatal(err)
	}
	if whileHandled > 0 {
		t.Errorf("%d offers were written while another agent handled the chat", whileHandled)
	}
	for _, p := range problems {
		t.Error(p)
	}
	figures := fmt.Sprintf(`cluster node loss: 3 nodes, %d visitors (%d chats + %d queued; %d on long-poll), %d agents, %d msg/s offered, set-up %.1f s, run %.1f s
  kill -9 of the leader (node %d, %d clients): new leader's first decision %.2f s after the kill (limit 10 s); messages flowing and every client back %.1f s after
  kill -9 of node %d (%d clients): messages flowing and every client back %.1f s after
  acknowledged messages %d: missing from the log %d, stored twice %d; stored without an ack %d; sends repeated with the same client_id %d; skipped by the pacer %d
  reconnects %d; stream events %d; gaps or duplicates %d
  offers received %d (chats offered more than once %d); offers in the store %d, written while another agent handled the chat %d, moved from one agent to another %d
  chats with two agents (joined, assigned or accepted) %d; queued chats served in order: %v
`, len(chats), nlVisitors, nlQueued, nlVisitors/nlPollEvery, nlAgents, nlRate, setup.Seconds(), time.Since(began).Seconds(),
		leader, leaderSockets, firstDecision.Seconds(), recovered1.Seconds(),
		second, secondSockets, recovered2.Seconds(),
		acked, missing, twice, unacked, resent, skipped,
		reconnects, events, countGaps(problems), offers, reoffered, storedOffers, whileHandled, moved, doubled, inOrder)
	t.Log(figures)
	fmt.Fprint(os.Stderr, figures)
	if firstDecision > 10*time.Second {
		t.Errorf("the new leader's first decision came %.2f s after the kill; want within 10 s", firstDecision.Seconds())
	}
	nodes[newLeader].p.stop()
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func countGaps(problems []string) int {
	n := 0
	for _, p := range problems {
		if strings.Contains(p, "(gap)") || strings.Contains(p, "(duplicate)") {
			n++
		}
	}
	return n
}
