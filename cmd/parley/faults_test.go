package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/servicetest"
)

// TestClusterBusRestart: two nodes on a NATS server of the test's own,
// killed and started again on the same port while visitors and agents
// send. See faultTest.
func TestClusterBusRestart(t *testing.T) {
	faultTest(t, false, func(r *faultRig) (stop, start func()) { return r.nats.Stop, r.nats.Start })
}

// TestClusterStoreRestart: two nodes on a PostgreSQL server of the test's
// own, shut down (fast) and started again while visitors and agents send.
// See faultTest.
func TestClusterStoreRestart(t *testing.T) {
	faultTest(t, true, func(r *faultRig) (stop, start func()) { return r.pg.Stop, r.pg.Start })
}

// faultRig is a two-node cluster on its own PostgreSQL and NATS, with
// steady traffic: three chats, each visitor and each chat's agent sending
// (REST with client_ids, one visitor over a WebSocket), and an admin's
// WebSocket following every chat.
type faultRig struct {
	t     *testing.T
	pg    *servicetest.Postgres
	nats  *servicetest.NATS
	nodes []*proc

	mu       sync.Mutex
	acked    map[string]ackedAt // message text → where its ack put it
	refused  map[string]int     // refusals by how they came (REST 503, WS error frame)
	attempts atomic.Int64
	bad      []string // answers that are neither an ack nor a clear refusal
}

// outage is how long a fault lasts at least: longer than the routing
// lease (6 s) and than the silence after which a node takes another for
// dead (6 s) and its agents' grace (agentGrace) has ended.
const outage = 10 * time.Second

// agentGrace is the nodes' --agent-grace, short so that an agent wrongly
// taken for gone is set away within the outage.
const agentGrace = 3 * time.Second

type ackedAt struct {
	chat string
	seq  int64
}

// faultTest runs steady traffic on two nodes, stops a service the nodes
// need (fault gives how), and checks, while it is down, that every node's
// /readyz says not ready and that every send is either acknowledged or
// refused with 503 and Retry-After (REST) or an error frame (WebSocket)
// of code "unavailable"; then starts the service again and checks that
// the nodes are ready again by themselves, that traffic goes on (messages
// and a new chat routed to an agent), that the admin's WebSocket, closed
// during the fault and resumed on the other node, got every event once
// and in order, and that every acknowledged message is stored exactly
// once at the seq its ack gave.
func faultTest(t *testing.T, leaderless bool, fault func(*faultRig) (stop, start func())) {
	r := &faultRig{t: t, pg: servicetest.StartPostgres(t), nats: servicetest.StartNATS(t),
		acked: map[string]ackedAt{}, refused: map[string]int{}}
	for range 2 {
		r.nodes = append(r.nodes, launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir(),
			"--store", r.pg.URL, "--bus", r.nats.URL, "--agent-grace", agentGrace.String()))
	}
	a, b := r.nodes[0], r.nodes[1]
	a.password = b.password // the last node to seed the demo set it
	eventually(t, 15*time.Second, "one leader and one follower", func() bool {
		ra, rb := a.role(), b.role()
		return (ra == "leader" && rb == "follower") || (ra == "follower" && rb == "leader")
	})

	agents := map[int64]string{}
	var tokens []string // in node order
	for i, login := range []string{"agent1", "agent2"} {
		n := r.nodes[i]
		tok := n.login(login)
		var me parley.Agent
		n.must(200, "PUT", "/api/v1/me/presence", tok, map[string]string{"presence": "available", "status": "ready"}, &me)
		agents[me.ID] = tok
		tokens = append(tokens, tok)
	}
	// Each agent's console stays connected to its node throughout.
	consoles, closeConsoles := context.WithCancel(context.Background())
	defer closeConsoles()
	for i, tok := range tokens {
		c, err := dialHello(consoles, r.nodes[i], tok, nil)
		if err != nil {
			t.Fatalf("agent console: %v", err)
		}
		go func() {
			defer c.CloseNow()
			for readFrame(consoles, c, &httpapi.ServerFrame{}) == nil {
			}
		}()
	}
	type chat struct{ id, visitor, agent string }
	var chats []chat
	for i := range 3 {
		id, visitor := r.request(r.nodes[i%2], fmt.Sprintf("Visitor %d", i))
		chats = append(chats, chat{id, visitor, r.acceptOffer(id, agents)})
	}

	// A chat without traffic, which its agent ends during the fault.
	ending, _ := r.request(a, "Ended during the fault")
	endingAgent := r.acceptOffer(ending, agents)

	admin := b.login("admin")
	watch := newWatcher(t, r.nodes, admin)
	for _, c := range chats {
		watch.follow(c.id)
	}
	watch.connect()

	ctx, stopTraffic := context.WithCancel(context.Background())
	var senders sync.WaitGroup
	for i, c := range chats {
		senders.Go(func() { r.sendWS(ctx, r.nodes[i%2], c.id, c.visitor, fmt.Sprintf("visitor %d", i), i == 0) })
		senders.Go(func() { r.sendWS(ctx, r.nodes[(i+1)%2], c.id, c.agent, fmt.Sprintf("agent in chat %d", i), false) })
	}
	defer func() {
		stopTraffic()
		senders.Wait()
	}()
	r.waitAcks(30, 20*time.Second, "before the fault")

	follower := 0
	if a.role() != "follower" {
		follower = 1
	}
	stop, start := fault(r)
	stop()
	down := time.Now()
	for i, n := range r.nodes {
		eventually(t, 15*time.Second, fmt.Sprintf("node %d not ready", i), func() bool { return n.call("GET", "/readyz", "", nil, nil) == 503 })
	}
	notReady := time.Since(down)
	watch.reconnect() // resumes on the other node, once it can
	// A chat requested on each node while it is not ready is refused
	// (503, code unavailable) or, if created, routed once all is back.
	var requests sync.WaitGroup
	during := make([]outageRequest, len(r.nodes))
	for i, n := range r.nodes {
		requests.Go(func() { during[i] = tryRequest(n, fmt.Sprintf("During the fault %d", i)) })
	}
	// The chat's agent ends it on the follower, with a client that gives
	// up after a second: the end is refused, or stored while routing does
	// not hear of it until the bus is back.
	endStatus := make(chan int, 1)
	go func() { endStatus <- tryEnd(r.nodes[follower], ending, endingAgent, time.Second) }()
	// The fault lasts for the outage while every sender tries again and
	// again.
	from := r.attempts.Load()
	eventually(t, 20*time.Second, "sends tried while down", func() bool {
		return r.attempts.Load() >= from+20 && time.Since(down) > outage
	})
	if leaderless {
		// Without the store no lease is renewed: the leader stops deciding.
		for i, n := range r.nodes {
			eventually(t, 15*time.Second, fmt.Sprintf("node %d not leading", i), func() bool { return n.role() == "follower" })
		}
	}
	start()
	up := time.Now()
	for i, n := range r.nodes {
		eventually(t, 30*time.Second, fmt.Sprintf("node %d ready again", i), func() bool { return n.call("GET", "/readyz", "", nil, nil) == 200 })
	}
	ready := time.Since(up)
	requests.Wait()
	t.Logf("chats requested during the fault: %+v", during)
	t.Cleanup(func() {
		if t.Failed() {
			for i, n := range r.nodes {
				t.Logf("node %d (%s) logged:\n%s", i, n.role(), n.stderr)
			}
		}
	})
	// No agent was set away: their consoles stayed connected to their
	// nodes, whatever a node heard of the others meanwhile.
	db, err := sql.Open("pgx", r.pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id := range agents {
		var presence string
		if err := db.QueryRow(`SELECT presence FROM agents WHERE id = $1`, id).Scan(&presence); err != nil {
			t.Fatal(err)
		}
		if presence != string(parley.PresenceAvailable) {
			t.Errorf("agent %d after the fault: presence %s in the store; want available", id, presence)
		}
	}
	for i, q := range during {
		switch {
		case q.status == 201:
			r.acceptOffer(q.id, agents)
		case q.status == 503 && q.code == parley.EUNAVAILABLE && q.retryAfter != "":
		default:
			t.Errorf("a chat requested on node %d during the fault: %+v; want 201 (then routed) or 503 unavailable with Retry-After", i, q)
		}
	}
	r.waitAcks(r.ackCount()+30, 30*time.Second, "after the restart")

	// Routing knows what the store holds: each agent's load is the number
	// of chats it handles (the end made during the fault included).
	t.Logf("the end during the fault: %d", <-endStatus)
	for deadline := time.Now().Add(15 * time.Second); ; {
		loads := r.loadsMatch(db, admin)
		if loads == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("routing's loads differ from the store after 15 s: %s", loads)
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}

	// Routing goes on: a new chat is offered to an agent and accepted.
	id, _ := r.request(a, "After the fault")
	r.acceptOffer(id, agents)
	routed := time.Since(up)

	stopTraffic()
	senders.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.bad {
		t.Error(s)
	}
	t.Logf("not ready %.2f s after the stop; ready %.2f s after the start; a new chat routed %.2f s after it; %d acknowledged, refused %v",
		notReady.Seconds(), ready.Seconds(), routed.Seconds(), len(r.acked), r.refused)

	// The admin's socket saw every acknowledged message.
	eventually(t, 20*time.Second, "every acknowledged message on the admin's WebSocket", func() bool {
		return watch.missing(r.acked) == ""
	})
	watch.close()
	if err := watch.failure(); err != "" {
		t.Error(err)
	}

	// Every acknowledged message is stored exactly once, at its seq, and
	// each chat's log is 1..N.
	stored := map[string][]ackedAt{}
	for _, c := range chats {
		rows, err := db.Query(`SELECT seq, COALESCE(text, '') FROM events WHERE chat_id = $1 ORDER BY seq`, c.id)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for rows.Next() {
			var seq int64
			var text string
			if err := rows.Scan(&seq, &text); err != nil {
				t.Fatal(err)
			}
			if n++; seq != n {
				t.Errorf("chat %s: seq %d where %d belongs: a gap or a duplicate in the log", c.id, seq, n)
			}
			stored[text] = append(stored[text], ackedAt{c.id, seq})
		}
		rows.Close()
	}
	for text, at := range r.acked {
		if got := stored[text]; len(got) != 1 || got[0] != at {
			t.Errorf("acknowledged %q (chat %s seq %d) is stored as %v; want exactly once there", text, at.chat, at.seq, got)
		}
	}
	for _, n := range r.nodes {
		n.stop()
	}
}

// tryEnd ends a chat on n as its agent and returns the status, 0 when the
// client gave up after within.
func tryEnd(n *proc, chatID, token string, within time.Duration) int {
	req, _ := http.NewRequest("POST", n.url+"/api/v1/chats/"+chatID+"/end", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: within}).Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// loadsMatch compares each agent's load in the leader's routing engine
// (the supervisor overview) with the chats it handles in the store, and
// says where they differ ("" when they agree).
func (r *faultRig) loadsMatch(db *sql.DB, admin string) string {
	var leader *proc
	for _, n := range r.nodes {
		if n.role() == "leader" {
			leader = n
		}
	}
	if leader == nil {
		return "no leader"
	}
	var ov struct {
		Agents []struct {
			ID   int64 `json:"id"`
			Load int   `json:"load"`
		} `json:"agents"`
	}
	if code := leader.call("GET", "/api/v1/supervisor/overview", admin, nil, &ov); code != 200 {
		return fmt.Sprintf("overview: %d", code)
	}
	var diff []string
	for _, ag := range ov.Agents {
		var handled int
		if err := db.QueryRow(`SELECT count(*) FROM chats WHERE agent_id = $1 AND state = $2`, ag.ID, parley.StateHandling).Scan(&handled); err != nil {
			return err.Error()
		}
		if handled != ag.Load {
			diff = append(diff, fmt.Sprintf("agent %d: load %d, handles %d", ag.ID, ag.Load, handled))
		}
	}
	return strings.Join(diff, "; ")
}

// outageRequest is the answer to a chat request made during a fault.
type outageRequest struct {
	status     int
	id         string
	code       string
	retryAfter string
	took       time.Duration
}

// tryRequest asks for a chat on n once.
func tryRequest(n *proc, name string) outageRequest {
	began := time.Now()
	body, _ := json.Marshal(map[string]any{"group_id": 1, "name": name})
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Post(n.url+"/api/v1/chats", "application/json", bytes.NewReader(body))
	if err != nil {
		return outageRequest{code: err.Error()}
	}
	defer resp.Body.Close()
	var out struct {
		httpapi.ChatStartedBody
		httpapi.ErrorBody
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	q := outageRequest{status: resp.StatusCode, code: out.Error.Code, retryAfter: resp.Header.Get("Retry-After"), took: time.Since(began)}
	if out.Chat != nil {
		q.id = out.Chat.ID
	}
	return q
}

// request asks for a chat on n until the group is open there (a follower
// answers from the leader's snapshot) and returns its ID and the visitor's
// token.
func (r *faultRig) request(n *proc, name string) (id, visitor string) {
	var chat httpapi.ChatStartedBody
	eventually(r.t, 15*time.Second, "the group open", func() bool {
		return n.call("POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": name}, &chat) == 201
	})
	return chat.Chat.ID, chat.VisitorToken
}

// acceptOffer waits for the chat's offer and has its agent accept it; it
// returns that agent's token.
func (r *faultRig) acceptOffer(id string, agents map[int64]string) string {
	var tok string
	eventually(r.t, 20*time.Second, "an offer of "+id, func() bool {
		for _, n := range r.nodes {
			for agentID, t := range agents {
				if v := chatOn(n, id, t); v.ID != "" && v.OfferedTo == agentID {
					tok = t
					return n.call("POST", "/api/v1/chats/"+id+"/accept", t, nil, nil) == 200
				}
			}
		}
		return false
	})
	return tok
}

func (r *faultRig) ackCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.acked)
}

// waitAcks waits until n messages are acknowledged in all.
func (r *faultRig) waitAcks(n int, within time.Duration, what string) {
	r.t.Helper()
	eventually(r.t, within, fmt.Sprintf("%d acknowledged messages %s", n, what), func() bool { return r.ackCount() >= n })
}

// outcome records what a send's answer was: an ack, a clear refusal to
// retry, or anything else (a failure of the test).
func (r *faultRig) outcome(text, how string, ack *parley.Event, chatID string, err string) (retry bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case ack != nil:
		if ack.Text != text || ack.ChatID != chatID || ack.Seq < 1 {
			r.bad = append(r.bad, fmt.Sprintf("ack of %q: %+v", text, ack))
		}
		r.acked[text] = ackedAt{chatID, ack.Seq}
		return false
	case err == "":
		r.refused[how]++
		return true
	default:
		r.bad = append(r.bad, fmt.Sprintf("send of %q (%s): %s", text, how, err))
		return true
	}
}

// sendWS sends numbered messages to the chat through node n, over REST or
// (ws) a WebSocket, each with a client_id, until ctx ends; a refused send
// is tried again with the same client_id.
func (r *faultRig) sendWS(ctx context.Context, n *proc, chatID, token, who string, ws bool) {
	var sock *websocket.Conn
	defer func() {
		if sock != nil {
			sock.CloseNow()
		}
	}()
	client := &http.Client{Timeout: 30 * time.Second}
	for i := 0; ctx.Err() == nil; i++ {
		text := fmt.Sprintf("%s #%d", who, i)
		for ctx.Err() == nil {
			r.attempts.Add(1)
			var retry bool
			if ws {
				retry = r.sendFrame(ctx, &sock, n, chatID, token, text)
			} else {
				retry = r.post(client, n, chatID, token, text)
			}
			if !retry {
				break
			}
			select { // the client's pause before it retries
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
		select { // the pace of one sender: a message every 50 ms
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// post sends text over REST and records the outcome.
func (r *faultRig) post(client *http.Client, n *proc, chatID, token, text string) (retry bool) {
	body, _ := json.Marshal(map[string]string{"text": text, "client_id": text})
	req, _ := http.NewRequest("POST", n.url+"/api/v1/chats/"+chatID+"/messages", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return r.outcome(text, "rest", nil, chatID, err.Error())
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case 201:
		var e parley.Event
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			return r.outcome(text, "rest", nil, chatID, "201 with "+err.Error())
		}
		return r.outcome(text, "rest", &e, chatID, "")
	case 503:
		var eb httpapi.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&eb)
		if eb.Error.Code == parley.EUNAVAILABLE && resp.Header.Get("Retry-After") != "" {
			return r.outcome(text, "rest 503", nil, chatID, "")
		}
		return r.outcome(text, "rest", nil, chatID, fmt.Sprintf("503 %+v, Retry-After %q", eb.Error, resp.Header.Get("Retry-After")))
	default:
		var eb httpapi.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&eb)
		return r.outcome(text, "rest", nil, chatID, fmt.Sprintf("%d %+v", resp.StatusCode, eb.Error))
	}
}

// sendFrame sends text as a send frame on the visitor's socket, opening
// it first when needed, and records the ack or error frame. A socket that
// cannot be opened or breaks is opened again (a client's reconnect).
func (r *faultRig) sendFrame(ctx context.Context, sock **websocket.Conn, n *proc, chatID, token, text string) (retry bool) {
	if *sock == nil {
		c, err := dialHello(ctx, n, token, nil)
		if err != nil {
			return true // the session could not start: reconnect later
		}
		*sock = c
	}
	c := *sock
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	frame, _ := json.Marshal(httpapi.ClientFrame{Type: "send", Ref: text, ChatID: chatID, Text: text, ClientID: text})
	if err := c.Write(wctx, websocket.MessageText, frame); err != nil {
		c.CloseNow()
		*sock = nil
		return true
	}
	for {
		var f httpapi.ServerFrame
		if err := readFrame(wctx, c, &f); err != nil {
			c.CloseNow()
			*sock = nil
			if ctx.Err() != nil {
				return false
			}
			return r.outcome(text, "ws", nil, chatID, "no answer to a send frame: "+err.Error())
		}
		if f.Ref != text {
			continue // the chat's events
		}
		switch {
		case f.Type == "ack" && f.Event != nil:
			return r.outcome(text, "ws", f.Event, chatID, "")
		case f.Type == "error" && f.Error != nil && f.Error.Code == parley.EUNAVAILABLE && f.Error.RetryAfter > 0:
			return r.outcome(text, "ws error frame", nil, chatID, "")
		default:
			return r.outcome(text, "ws", nil, chatID, fmt.Sprintf("answer %+v %+v", f, f.Error))
		}
	}
}

// dialHello opens a WebSocket to n, says hello and waits for ready.
func dialHello(ctx context.Context, n *proc, token string, chats map[string]int64) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(n.url, "http")+"/api/v1/ws", nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	hello, _ := json.Marshal(httpapi.ClientFrame{Type: "hello", Token: token, Chats: chats})
	if err := c.Write(dctx, websocket.MessageText, hello); err != nil {
		c.CloseNow()
		return nil, err
	}
	var f httpapi.ServerFrame
	if err := readFrame(dctx, c, &f); err != nil || f.Type != "ready" {
		c.CloseNow()
		return nil, fmt.Errorf("hello answered %+v: %v", f, err)
	}
	return c, nil
}

func readFrame(ctx context.Context, c *websocket.Conn, f *httpapi.ServerFrame) error {
	_, data, err := c.Read(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, f)
}

// watcher is an admin's WebSocket following chats: it keeps the last seq
// of each and resumes from it on another node when its socket ends, and
// it notes any event that skips or repeats a seq.
type watcher struct {
	t     *testing.T
	nodes []*proc
	token string

	mu    sync.Mutex
	last  map[string]int64
	texts map[string]map[string]int64 // chat → message text → seq
	fail  []string
	conn  *websocket.Conn
	node  int
	ctx   context.Context
	stop  context.CancelFunc
	done  chan struct{}
}

func newWatcher(t *testing.T, nodes []*proc, token string) *watcher {
	ctx, stop := context.WithCancel(context.Background())
	return &watcher{t: t, nodes: nodes, token: token, last: map[string]int64{}, texts: map[string]map[string]int64{},
		ctx: ctx, stop: stop, done: make(chan struct{})}
}

func (w *watcher) follow(chatID string) {
	w.last[chatID] = 0
	w.texts[chatID] = map[string]int64{}
}

// connect starts the watcher's loop: connect, read until the socket ends,
// then resume on the next node.
func (w *watcher) connect() {
	go func() {
		defer close(w.done)
		for w.ctx.Err() == nil {
			w.mu.Lock()
			chats := map[string]int64{}
			for id, seq := range w.last {
				chats[id] = seq
			}
			n := w.nodes[w.node%len(w.nodes)]
			w.mu.Unlock()
			c, err := dialHello(w.ctx, n, w.token, chats)
			if err != nil {
				select { // a reconnect's backoff
				case <-w.ctx.Done():
				case <-time.After(200 * time.Millisecond):
				}
				continue
			}
			w.mu.Lock()
			w.conn = c
			w.mu.Unlock()
			w.read(c)
			c.CloseNow()
			w.mu.Lock()
			w.conn = nil
			w.node++
			w.mu.Unlock()
		}
	}()
}

func (w *watcher) read(c *websocket.Conn) {
	for {
		var f httpapi.ServerFrame
		if err := readFrame(w.ctx, c, &f); err != nil {
			return
		}
		if f.Type != "event" || f.Event == nil || f.Event.Seq == 0 {
			continue
		}
		e := f.Event
		w.mu.Lock()
		last, ok := w.last[e.ChatID]
		switch {
		case !ok:
		case e.Seq != last+1:
			w.fail = append(w.fail, fmt.Sprintf("chat %s: event %d after %d on the admin's socket", e.ChatID, e.Seq, last))
			w.last[e.ChatID] = max(last, e.Seq)
		default:
			w.last[e.ChatID] = e.Seq
			if e.Type == parley.EventMessage {
				w.texts[e.ChatID][e.Text] = e.Seq
			}
		}
		w.mu.Unlock()
	}
}

// reconnect closes the current socket, so the watcher resumes on the next
// node.
func (w *watcher) reconnect() {
	w.mu.Lock()
	c := w.conn
	w.mu.Unlock()
	if c != nil {
		c.CloseNow()
	}
}

// missing names an acknowledged message the watcher has not seen where
// its ack put it, or returns "".
func (w *watcher) missing(acked map[string]ackedAt) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for text, at := range acked {
		if seq, ok := w.texts[at.chat][text]; !ok || seq != at.seq {
			return text
		}
	}
	return ""
}

func (w *watcher) close() {
	w.stop()
	w.reconnect()
	<-w.done
}

func (w *watcher) failure() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.fail, "\n")
}
