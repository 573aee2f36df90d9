package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/httpapi"
)

// The clients of TestClusterNodeLoss. Each holds one WebSocket to one
// node of the cluster; when it drops, the client dials the next address
// (as behind an L4 balancer), says hello with the last seq it has of each
// chat, and resends what was not acknowledged with the same client_id.
// It checks that every chat's events arrive gap-free and duplicate-free
// across those reconnects.

// nlNode is one node's address and process.
type nlNode struct {
	url  string
	p    *proc
	dead atomic.Bool
}

// nlAck is where a send's acknowledgement put the message.
type nlAck struct {
	chatID string
	seq    int64
}

// nlOffer is an offer an agent received.
type nlOffer struct {
	chatID  string
	agentID int64
	at      time.Time
}

// nlWorld is what the clients share: the nodes and the observations.
type nlWorld struct {
	nodes []*nlNode
	hc    *http.Client

	mu        sync.Mutex
	acked     map[string]nlAck   // client_id → its ack
	problems  []string           // gaps, duplicates, failed sends
	offers    []nlOffer          // every offer frame
	accepted  map[string][]int64 // chat → agents whose accept returned 200
	assigned  map[string][]int64 // chat → agents told "assigned"
	owner     map[string]*nlClient
	resent    int // sends repeated with the same client_id
	reconnect int // WebSocket sessions opened again after a loss
	events    int // events received in streams
}

func newWorld(nodes []*nlNode) *nlWorld {
	return &nlWorld{nodes: nodes, hc: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		acked: map[string]nlAck{}, accepted: map[string][]int64{}, assigned: map[string][]int64{}, owner: map[string]*nlClient{}}
}

func (w *nlWorld) problem(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.problems) < 1000 {
		w.problems = append(w.problems, fmt.Sprintf(format, args...))
	}
}

// call makes one REST call to node i; err is a transport error (the node
// is gone), not a status.
func (w *nlWorld) call(ctx context.Context, i int, method, path, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.nodes[i].url+path, rd)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		_ = json.NewDecoder(resp.Body).Decode(out)
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, nil
}

// callAny makes a REST call starting at node i and moving to the next
// node while one does not answer; it gives up after 30 s.
func (w *nlWorld) callAny(ctx context.Context, i int, method, path, token string, body, out any) int {
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, err := w.call(ctx, i, method, path, token, body, out)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return code
		}
		i = (i + 1) % len(w.nodes)
		time.Sleep(50 * time.Millisecond) // backoff before the next address
	}
}

// nlSession is one open WebSocket and what waits on it.
type nlSession struct {
	conn *websocket.Conn
	node int
	done chan struct{} // closed when the session is lost
}

type nlResult struct {
	event *parley.Event
	err   *httpapi.ErrorInfo
}

// nlClient is a visitor or an agent.
type nlClient struct {
	w       *nlWorld
	name    string
	token   string
	agentID int64  // 0 for a visitor
	lpChat  string // a visitor on long-poll: its chat; "" on the WebSocket

	mu      sync.Mutex
	node    int
	sess    *nlSession
	up      chan struct{} // closed while a session is open
	seqs    map[string]int64
	waiting map[string]chan nlResult
	busy    atomic.Bool
	sent    atomic.Int64
}

func newClient(w *nlWorld, name, token string, agentID int64, node int, chats ...string) *nlClient {
	c := &nlClient{w: w, name: name, token: token, agentID: agentID, node: node % len(w.nodes),
		up: make(chan struct{}), seqs: map[string]int64{}, waiting: map[string]chan nlResult{}}
	for _, id := range chats {
		c.seqs[id] = 0
	}
	return c
}

// run keeps the client connected until ctx ends.
func (c *nlClient) run(ctx context.Context) {
	if c.lpChat != "" {
		c.poll(ctx)
		return
	}
	first := true
	for ctx.Err() == nil {
		s, err := c.dial(ctx)
		if err != nil {
			c.mu.Lock()
			c.node = (c.node + 1) % len(c.w.nodes)
			c.mu.Unlock()
			time.Sleep(100 * time.Millisecond) // backoff before the next address
			continue
		}
		if !first {
			c.w.mu.Lock()
			c.w.reconnect++
			c.w.mu.Unlock()
		}
		first = false
		c.mu.Lock()
		c.sess = s
		close(c.up)
		c.mu.Unlock()
		c.read(ctx, s)
		c.mu.Lock()
		c.sess = nil
		c.up = make(chan struct{})
		c.node = (c.node + 1) % len(c.w.nodes)
		c.mu.Unlock()
		close(s.done)
		s.conn.CloseNow()
	}
}

// dial opens a session on the client's current node: hello with the
// last seq of every chat, then ready.
func (c *nlClient) dial(ctx context.Context) (*nlSession, error) {
	c.mu.Lock()
	node := c.node
	resume := make(map[string]int64, len(c.seqs))
	for id, seq := range c.seqs {
		resume[id] = seq
	}
	c.mu.Unlock()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(c.w.nodes[node].url, "http") + "/api/v1/ws"
	conn, _, err := websocket.Dial(dctx, u, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	hello, _ := json.Marshal(httpapi.ClientFrame{Type: "hello", Token: c.token, Chats: resume})
	if err := conn.Write(dctx, websocket.MessageText, hello); err != nil {
		conn.CloseNow()
		return nil, err
	}
	_, data, err := conn.Read(dctx)
	var f httpapi.ServerFrame
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	if err == nil && f.Type != "ready" {
		err = fmt.Errorf("first frame %s", data)
	}
	if err != nil {
		conn.CloseNow()
		return nil, err
	}
	return &nlSession{conn: conn, node: node, done: make(chan struct{})}, nil
}

// read handles the frames of s until it is lost.
func (c *nlClient) read(ctx context.Context, s *nlSession) {
	for {
		_, data, err := s.conn.Read(ctx)
		if err != nil {
			return
		}
		var f httpapi.ServerFrame
		if err := json.Unmarshal(data, &f); err != nil {
			c.w.problem("%s: bad frame %s", c.name, data)
			continue
		}
		switch f.Type {
		case "event":
			c.event(f.Event)
		case "ack", "error":
			c.mu.Lock()
			ch := c.waiting[f.Ref]
			delete(c.waiting, f.Ref)
			c.mu.Unlock()
			if ch != nil {
				ch <- nlResult{event: f.Event, err: f.Error}
			} else if f.Type == "error" {
				c.w.problem("%s: error frame %+v", c.name, f.Error)
			}
		case "offer":
			c.w.mu.Lock()
			c.w.offers = append(c.w.offers, nlOffer{chatID: f.ChatID, agentID: c.agentID, at: time.Now()})
			c.w.mu.Unlock()
			go c.accept(ctx, f.ChatID)
		case "assigned":
			c.mu.Lock()
			if _, ok := c.seqs[f.ChatID]; !ok {
				c.seqs[f.ChatID] = 0
			}
			c.mu.Unlock()
			c.w.mu.Lock()
			if !containsID(c.w.assigned[f.ChatID], c.agentID) {
				c.w.assigned[f.ChatID] = append(c.w.assigned[f.ChatID], c.agentID)
			}
			c.w.owner[f.ChatID] = c
			c.w.mu.Unlock()
		}
	}
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// event checks that a stored event follows the last one of its chat.
func (c *nlClient) event(e *parley.Event) {
	if e == nil || e.Seq == 0 {
		return // typing, queue positions: not stored
	}
	c.mu.Lock()
	last := c.seqs[e.ChatID]
	if e.Seq > last {
		c.seqs[e.ChatID] = e.Seq
	}
	c.mu.Unlock()
	switch {
	case e.Seq <= last:
		c.w.problem("%s: chat %s: seq %d again after %d (duplicate)", c.name, e.ChatID, e.Seq, last)
	case e.Seq > last+1:
		c.w.problem("%s: chat %s: seq %d after %d (gap)", c.name, e.ChatID, e.Seq, last)
	}
	c.w.mu.Lock()
	c.w.events++
	c.w.mu.Unlock()
}

// lastSeq is the last seq the client received of a chat.
func (c *nlClient) lastSeq(chatID string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.seqs[chatID]
	return s, ok
}

// session waits for an open session.
func (c *nlClient) session(ctx context.Context) *nlSession {
	for {
		c.mu.Lock()
		s, up := c.sess, c.up
		c.mu.Unlock()
		if s != nil {
			return s
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil
		}
	}
}

// connected reports whether the client has a session on a live node.
func (c *nlClient) connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess != nil && !c.w.nodes[c.sess.node].dead.Load()
}

// send sends one message and waits for its ack, sending it again with
// the same client_id on the next session if this one is lost first.
func (c *nlClient) send(ctx context.Context, chatID, clientID string) {
	if c.lpChat != "" {
		c.sendPoll(ctx, chatID, clientID)
		return
	}
	defer c.busy.Store(false)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			c.w.mu.Lock()
			c.w.resent++
			c.w.mu.Unlock()
		}
		s := c.session(ctx)
		if s == nil {
			break
		}
		ref := fmt.Sprintf("%s/%d", clientID, attempt)
		ch := make(chan nlResult, 1)
		c.mu.Lock()
		c.waiting[ref] = ch
		c.mu.Unlock()
		frame, _ := json.Marshal(httpapi.ClientFrame{Type: "send", Ref: ref, ChatID: chatID, Text: "nl " + clientID, ClientID: clientID})
		if s.conn.Write(ctx, websocket.MessageText, frame) != nil {
			<-s.done
			continue
		}
		select {
		case r := <-ch:
			if r.err != nil {
				if r.err.Code == "unavailable" || r.err.Code == "timeout" {
					time.Sleep(200 * time.Millisecond) // a retryable refusal: back off
					continue
				}
				c.w.problem("%s: send %s to %s refused: %s %s", c.name, clientID, chatID, r.err.Code, r.err.Message)
				return
			}
			c.sent.Add(1)
			c.w.mu.Lock()
			if prev, ok := c.w.acked[clientID]; ok && prev != (nlAck{chatID, r.event.Seq}) {
				c.w.problems = append(c.w.problems, fmt.Sprintf("%s: %s acknowledged at seq %d and again at %d", c.name, clientID, prev.seq, r.event.Seq))
			}
			c.w.acked[clientID] = nlAck{chatID, r.event.Seq}
			c.w.mu.Unlock()
			return
		case <-s.done:
			c.mu.Lock()
			delete(c.waiting, ref)
			c.mu.Unlock()
		case <-time.After(15 * time.Second):
			c.w.problem("%s: no ack for %s within 15 s on node %d", c.name, clientID, s.node)
			c.mu.Lock()
			delete(c.waiting, ref)
			c.mu.Unlock()
		case <-ctx.Done():
		}
	}
	c.w.problem("%s: send %s to %s never acknowledged", c.name, clientID, chatID)
}

// poll reads the visitor's chat with long-polls from its last seq,
// moving to the next node while one does not answer. A poll that answered
// counts as a session on its node.
func (c *nlClient) poll(ctx context.Context) {
	first := true
	for ctx.Err() == nil {
		c.mu.Lock()
		node, after := c.node, c.seqs[c.lpChat]
		c.mu.Unlock()
		var page httpapi.EventsBody
		code, err := c.w.call(ctx, node, "GET", fmt.Sprintf("/api/v1/chats/%s/events?after=%d&wait=5", c.lpChat, after), c.token, nil, &page)
		if err != nil {
			c.mu.Lock()
			if c.sess != nil {
				c.sess = nil
				c.up = make(chan struct{})
			}
			c.node = (node + 1) % len(c.w.nodes)
			c.mu.Unlock()
			time.Sleep(100 * time.Millisecond) // backoff before the next address
			continue
		}
		if code != 200 {
			c.w.problem("%s: poll on node %d: %d", c.name, node, code)
			time.Sleep(200 * time.Millisecond) // backoff after a refusal
			continue
		}
		c.mu.Lock()
		if c.sess == nil {
			c.sess = &nlSession{node: node, done: make(chan struct{})}
			close(c.up)
			if !first {
				c.w.mu.Lock()
				c.w.reconnect++
				c.w.mu.Unlock()
			}
			first = false
		}
		c.mu.Unlock()
		for i := range page.Events {
			c.event(&page.Events[i])
		}
	}
}

// sendPoll sends one message with POST on the visitor's node, and again
// with the same client_id on the next node while one does not answer.
func (c *nlClient) sendPoll(ctx context.Context, chatID, clientID string) {
	defer c.busy.Store(false)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			c.w.mu.Lock()
			c.w.resent++
			c.w.mu.Unlock()
		}
		c.mu.Lock()
		node := c.node
		c.mu.Unlock()
		var e parley.Event
		code, err := c.w.call(ctx, node, "POST", "/api/v1/chats/"+chatID+"/messages", c.token, map[string]string{"text": "nl " + clientID, "client_id": clientID}, &e)
		switch {
		case err != nil:
			c.mu.Lock()
			if c.node == node {
				c.node = (node + 1) % len(c.w.nodes)
			}
			c.mu.Unlock()
			time.Sleep(100 * time.Millisecond) // backoff before the next address
			continue
		case code == 503:
			time.Sleep(200 * time.Millisecond) // a retryable refusal: back off
			continue
		case code != 201:
			c.w.problem("%s: send %s to %s refused: %d", c.name, clientID, chatID, code)
			return
		}
		c.sent.Add(1)
		c.w.mu.Lock()
		if prev, ok := c.w.acked[clientID]; ok && prev != (nlAck{chatID, e.Seq}) {
			c.w.problems = append(c.w.problems, fmt.Sprintf("%s: %s acknowledged at seq %d and again at %d", c.name, clientID, prev.seq, e.Seq))
		}
		c.w.acked[clientID] = nlAck{chatID, e.Seq}
		c.w.mu.Unlock()
		return
	}
	c.w.problem("%s: send %s to %s never acknowledged", c.name, clientID, chatID)
}

// accept accepts an offer over REST on the agent's node, or the next one
// while a node does not answer.
func (c *nlClient) accept(ctx context.Context, chatID string) {
	c.mu.Lock()
	node := c.node
	c.mu.Unlock()
	code := c.w.callAny(ctx, node, "POST", "/api/v1/chats/"+chatID+"/accept", c.token, nil, nil)
	if code == 200 {
		c.w.mu.Lock()
		c.w.accepted[chatID] = append(c.w.accepted[chatID], c.agentID)
		c.w.mu.Unlock()
	}
}
