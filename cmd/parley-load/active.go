package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// stampPrefix starts every message text; the send time follows in Unix
// nanoseconds. The receiver and the sender's ack handler parse it.
const stampPrefix = "load "

func stampText(t time.Time, size int) string {
	s := stampPrefix + strconv.FormatInt(t.UnixNano(), 10) + " "
	if len(s) < size {
		s += strings.Repeat("x", size-len(s))
	}
	return s
}

func parseStamp(text string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(text, stampPrefix)
	if !ok {
		return time.Time{}, false
	}
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		rest = rest[:i]
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// activeRun is the state of the active scenario in one process.
type activeRun struct {
	cfg      *config
	rig      *rig
	rec      *recorder
	measure  atomic.Int64 // UnixNano from which latencies count
	stopRecv atomic.Bool
	clientID atomic.Int64
}

// chatSide is one party of a chat: where it sends and how.
type chatSide struct {
	kind  string // visitor or agent
	token string
	cl    *client         // the node the party uses
	conn  *websocket.Conn // ws
	hc    *http.Client    // lp
}

type activeChat struct {
	id      string
	visitor *chatSide
	agent   *chatSide
}

// received records a message event read by a party of kind self.
func (a *activeRun) received(self string, e *eventView) {
	if e == nil || e.Type != "message" || e.From == nil || e.From.Kind == self {
		return
	}
	at, ok := parseStamp(e.Text)
	if !ok {
		return
	}
	name := "v2a"
	if self == "visitor" {
		name = "a2v"
	}
	a.rec.add("received", 1)
	if at.UnixNano() >= a.measure.Load() {
		a.rec.add("measured_received", 1)
		a.rec.hist(name).Record(time.Since(at))
	}
}

// acked records the ack of a message sent at the stamp in text.
func (a *activeRun) acked(text string) {
	at, ok := parseStamp(text)
	if !ok {
		return
	}
	a.rec.add("acked", 1)
	if at.UnixNano() >= a.measure.Load() {
		a.rec.hist("ack").Record(time.Since(at))
	}
}

// readWS handles the frames of one WebSocket until it closes.
func (a *activeRun) readWS(ctx context.Context, self string, conn *websocket.Conn) {
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if ctx.Err() == nil && !a.stopRecv.Load() {
				a.rec.fail(errKind("unexpected close", err))
			}
			return
		}
		var f serverFrame
		if err := json.Unmarshal(data, &f); err != nil {
			a.rec.fail("bad frame")
			continue
		}
		switch f.Type {
		case "event":
			a.received(self, f.Event)
		case "ack":
			if f.Event != nil {
				a.acked(f.Event.Text)
			}
		case "error":
			code := "?"
			if f.Error != nil {
				code = f.Error.Code
			}
			a.rec.fail("error frame: " + code)
		}
	}
}

// pollLP reads a chat's events with long-polls until ctx ends.
func (a *activeRun) pollLP(ctx context.Context, chatID string, s *chatSide) {
	var after int64
	for ctx.Err() == nil {
		var out struct {
			Events []eventView `json:"events"`
			Last   int64       `json:"last_seq"`
		}
		err := s.cl.call(ctx, s.hc, "GET", fmt.Sprintf("/api/v1/chats/%s/events?after=%d&wait=25", chatID, after), s.token, nil, &out)
		if err != nil {
			if ctx.Err() == nil {
				a.rec.fail(errKind("poll", err))
				_ = waitWithContext(ctx, 100*time.Millisecond)
			}
			continue
		}
		for i := range out.Events {
			a.received(s.kind, &out.Events[i])
		}
		after = max(after, out.Last)
	}
}

// send sends one stamped message from s.
func (a *activeRun) send(ctx context.Context, chatID string, s *chatSide) {
	text := stampText(time.Now(), a.cfg.msgSize)
	id := "m" + strconv.FormatInt(a.clientID.Add(1), 36)
	if s.conn != nil {
		frame, _ := json.Marshal(map[string]string{"type": "send", "chat_id": chatID, "text": text, "client_id": id})
		if err := s.conn.Write(ctx, websocket.MessageText, frame); err != nil {
			if ctx.Err() == nil {
				a.rec.fail(errKind("send", err))
			}
			return
		}
		return
	}
	var e eventView
	if err := s.cl.call(ctx, s.hc, "POST", "/api/v1/chats/"+chatID+"/messages", s.token, map[string]string{"text": text, "client_id": id}, &e); err != nil {
		if ctx.Err() == nil {
			a.rec.fail(errKind("send", err))
		}
		return
	}
	a.acked(e.Text)
}

// runActive runs chats between visitors and agents exchanging messages at
// -rate per second.
func runActive(ctx context.Context, cfg *config, stderr io.Writer, b barrier) (*Result, error) {
	rec := newRecorder()
	r, err := newRig(ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	a := &activeRun{cfg: cfg, rig: r, rec: rec}
	a.measure.Store(1 << 62)
	nChats := share(cfg.chats, cfg.procs, cfg.child)
	nAgents := min(max(share(cfg.agents, cfg.procs, cfg.child), 1), nChats)
	capacity := min((nChats+nAgents-1)/nAgents, 50)
	if nAgents*capacity < nChats {
		return nil, fmt.Errorf("%d agents cannot take %d chats", nAgents, nChats)
	}
	if err := r.addAgents(ctx, nAgents, capacity, "ready"); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readers sync.WaitGroup
	defer readers.Wait()
	defer cancel()
	agentSides := map[int64]*chatSide{}
	for i, ag := range r.agents {
		s := &chatSide{kind: "agent", token: ag.token, cl: ag.cl, hc: ag.cl.clients[i%len(ag.cl.clients)]}
		if cfg.transport == "ws" {
			conn, err := ag.cl.dialWS(ctx, ag.token, nil)
			if err != nil {
				return nil, fmt.Errorf("agent WebSocket: %w", err)
			}
			defer conn.CloseNow()
			s.conn = conn
			readers.Go(func() { a.readWS(rctx, "agent", conn) })
		}
		agentSides[ag.id] = s
	}
	visitors, err := r.requestChats(ctx, nChats, rec)
	if err != nil {
		return nil, err
	}
	// Wait until routing has given every chat to an agent.
	owner := map[string]int64{}
	deadline := time.Now().Add(60 * time.Second)
	for len(owner) < nChats {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d chats were assigned within 60 s", len(owner), nChats)
		}
		for _, ag := range r.agents {
			var chats []chatView
			if err := ag.cl.call(ctx, nil, "GET", "/api/v1/me/chats", ag.token, nil, &chats); err != nil {
				return nil, fmt.Errorf("agent chats: %w", err)
			}
			for _, c := range chats {
				if c.Agent != nil && c.Agent.AgentID == ag.id {
					owner[c.ID] = ag.id
				}
			}
		}
		if len(owner) < nChats {
			if err := waitWithContext(ctx, 50*time.Millisecond); err != nil {
				return nil, err
			}
		}
	}
	chats := make([]*activeChat, 0, nChats)
	for i, v := range visitors {
		vs := &chatSide{kind: "visitor", token: v.token, cl: v.cl, hc: v.cl.clients[i%len(v.cl.clients)]}
		if cfg.transport == "ws" {
			conn, took, err := v.cl.openVisitor(ctx, v.token, nil)
			if err != nil {
				return nil, fmt.Errorf("visitor WebSocket: %w", err)
			}
			defer conn.CloseNow()
			rec.hist("open").Record(took)
			vs.conn = conn
			readers.Go(func() { a.readWS(rctx, "visitor", conn) })
		}
		ch := &activeChat{id: v.chatID, visitor: vs, agent: agentSides[owner[v.chatID]]}
		chats = append(chats, ch)
		if cfg.transport == "lp" {
			readers.Go(func() { a.pollLP(rctx, ch.id, ch.visitor) })
			readers.Go(func() { a.pollLP(rctx, ch.id, ch.agent) })
		}
	}
	progress(stderr, "%d chats with %d agents ready (%s)", nChats, nAgents, cfg.transport)
	if err := b(ctx, "messages-start", int64(nChats), false); err != nil {
		return nil, err
	}

	rate := cfg.rate / float64(cfg.procs)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(max(cfg.child, 0))))
	var senders sync.WaitGroup
	start := time.Now()
	a.measure.Store(start.Add(cfg.warmup).UnixNano())
	end := cfg.warmup + cfg.duration
	n := 0
	var measured int64
	tick := time.NewTicker(time.Millisecond)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		el := time.Since(start)
		if el >= end {
			break
		}
		due := int(el.Seconds() * rate)
		for ; n < due; n++ {
			ch := chats[n%len(chats)]
			s := ch.visitor
			if cfg.agentShare > 0 && rng.Float64() < cfg.agentShare {
				s = ch.agent
			}
			if el >= cfg.warmup {
				measured++
			}
			senders.Go(func() { a.send(rctx, ch.id, s) })
		}
	}
	tick.Stop()
	senders.Wait()
	elapsed := time.Since(start) - cfg.warmup
	// Wait for the messages in flight to arrive.
	drain := time.Now().Add(10 * time.Second)
	for rec.count("received") < int64(n) && time.Now().Before(drain) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	a.stopRecv.Store(true)
	rec.add("sent", int64(n))
	rec.add("measured_sent", measured)
	rec.add("not_received", int64(n)-rec.count("received"))
	if err := b(ctx, "messages-end", int64(nChats), false); err != nil {
		return nil, err
	}
	cancel()
	res := rec.result(cfg)
	res.Start = start
	res.Seconds = elapsed.Seconds()
	return res, nil
}
