package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

// Routing across nodes: a follower's inputs go to the leader as requests
// on the bus and come back with the decisions they led to.

// routeRequest is a routing input or a snapshot request sent to the
// leader.
type routeRequest struct {
	Op      string          `json:"op"` // an input's type, "group" or "snapshot"
	Input   json.RawMessage `json:"input,omitempty"`
	GroupID int64           `json:"group_id,omitempty"`
}

// routeReply is the leader's answer: the decisions an input led to
// directly (those callers look at), or a snapshot.
type routeReply struct {
	Err       string            `json:"err,omitempty"`
	Decisions []wireDecision    `json:"decisions,omitempty"`
	Snapshot  *routing.Snapshot `json:"snapshot,omitempty"`
}

type wireDecision struct {
	Type    string `json:"type"`
	ChatID  string `json:"chat_id"`
	AgentID int64  `json:"agent_id"`
	GroupID int64  `json:"group_id,omitempty"`
}

var errNotLeader = errors.New("not the routing leader")

// errBusDown refuses a chat request on a node that cannot reach the
// routing leader because its bus is down: nothing is created, and the
// client tries again (on another node, or here once the bus is back).
var errBusDown = &parley.RetryError{
	Err:   parley.Errorf(parley.EUNAVAILABLE, "The service cannot reach its message bus; please try again."),
	After: 2 * time.Second,
}

// routingReachable returns errBusDown while this node does not lead and
// its bus is down, and nil otherwise (or alone).
func (s *Service) routingReachable() error {
	c := s.cluster
	if c == nil || c.dispatcher() != nil || c.cfg.Bus.Connected() {
		return nil
	}
	return errBusDown
}

// forward sends an input to the leader and returns the decisions it led
// to. While there is no leader (a take-over) or no bus it retries for up
// to 15 s; an input that never arrives is not lost for good: the leader
// rebuilds routing from the store once this node reaches it (resync).
func (c *cluster) forward(ctx context.Context, in routing.Input) []routing.Decision {
	req, err := encodeInput(in)
	if err != nil {
		c.s.log.Error("routing: encode input", "err", err)
		return nil
	}
	if req == nil {
		return nil // only the leader's own clock ticks
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	retry := time.NewTicker(200 * time.Millisecond)
	defer retry.Stop()
	for {
		var reply routeReply
		err := c.request(ctx, *req, &reply)
		if err == nil {
			c.mu.Lock()
			c.snap = nil
			c.snapGen++
			c.mu.Unlock()
			ds := decodeDecisions(reply.Decisions)
			// The leader wrote these chats; its cache notices may come
			// after its reply, and the caller reads them next.
			for _, w := range reply.Decisions {
				c.s.live.dropChat(w.ChatID)
			}
			return ds
		}
		if d := c.dispatcher(); d != nil {
			return d.Do(ctx, in) // this node became the leader meanwhile
		}
		select {
		case <-ctx.Done():
			c.s.log.Warn("routing input not delivered to a leader: the leader will rebuild routing from the store", "op", req.Op, "err", err)
			c.mu.Lock()
			c.undelivered++
			c.mu.Unlock()
			return nil
		case <-retry.C:
		}
	}
}

func (c *cluster) request(ctx context.Context, req routeRequest, reply *routeReply) error {
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	out, err := c.cfg.Bus.Request(ctx, subjectRoute, data)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, reply); err != nil {
		return fmt.Errorf("routing reply: %w", err)
	}
	if reply.Err != "" {
		return errors.New(reply.Err)
	}
	return nil
}

func encodeInput(in routing.Input) (*routeRequest, error) {
	var op string
	switch in := in.(type) {
	case routing.Tick:
		return nil, nil
	case routing.GroupChanged:
		// A schedule does not encode; the leader reads the group.
		return &routeRequest{Op: "group", GroupID: in.Group.ID}, nil
	case routing.ChatQueued:
		op = "ChatQueued"
	case routing.ChatAssigned:
		op = "ChatAssigned"
	case routing.OfferAccepted:
		op = "OfferAccepted"
	case routing.OfferDeclined:
		op = "OfferDeclined"
	case routing.Pick:
		op = "Pick"
	case routing.ChatEnded:
		op = "ChatEnded"
	case routing.AgentChanged:
		op = "AgentChanged"
	case routing.AgentRemoved:
		op = "AgentRemoved"
	default:
		return nil, fmt.Errorf("routing input %T cannot be forwarded", in)
	}
	data, err := json.Marshal(in)
	return &routeRequest{Op: op, Input: data}, err
}

func decodeInput(req routeRequest) (routing.Input, error) {
	var in routing.Input
	var err error
	switch req.Op {
	case "ChatQueued":
		in, err = decodeAs[routing.ChatQueued](req.Input)
	case "ChatAssigned":
		in, err = decodeAs[routing.ChatAssigned](req.Input)
	case "OfferAccepted":
		in, err = decodeAs[routing.OfferAccepted](req.Input)
	case "OfferDeclined":
		in, err = decodeAs[routing.OfferDeclined](req.Input)
	case "Pick":
		in, err = decodeAs[routing.Pick](req.Input)
	case "ChatEnded":
		in, err = decodeAs[routing.ChatEnded](req.Input)
	case "AgentChanged":
		in, err = decodeAs[routing.AgentChanged](req.Input)
	case "AgentRemoved":
		in, err = decodeAs[routing.AgentRemoved](req.Input)
	default:
		err = fmt.Errorf("unknown routing op %q", req.Op)
	}
	return in, err
}

func decodeAs[T routing.Input](data []byte) (routing.Input, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

func encodeDecisions(ds []routing.Decision) []wireDecision {
	var out []wireDecision
	for _, d := range ds {
		switch d := d.(type) {
		case routing.Assign:
			out = append(out, wireDecision{Type: "assign", ChatID: d.ChatID, AgentID: d.AgentID, GroupID: d.GroupID})
		case routing.Revoke:
			out = append(out, wireDecision{Type: "revoke", ChatID: d.ChatID, AgentID: d.AgentID})
		case routing.Offer:
			out = append(out, wireDecision{Type: "offer", ChatID: d.ChatID, AgentID: d.AgentID, GroupID: d.GroupID})
		}
	}
	return out
}

func decodeDecisions(ws []wireDecision) []routing.Decision {
	var out []routing.Decision
	for _, w := range ws {
		switch w.Type {
		case "assign":
			out = append(out, routing.Assign{ChatID: w.ChatID, AgentID: w.AgentID, GroupID: w.GroupID})
		case "revoke":
			out = append(out, routing.Revoke{ChatID: w.ChatID, AgentID: w.AgentID})
		case "offer":
			out = append(out, routing.Offer{ChatID: w.ChatID, AgentID: w.AgentID, GroupID: w.GroupID})
		}
	}
	return out
}

// serveRoute answers a routing request on the leader.
func (c *cluster) serveRoute(data []byte) []byte {
	reply := c.handleRoute(data)
	out, err := json.Marshal(reply)
	if err != nil {
		out, _ = json.Marshal(routeReply{Err: err.Error()})
	}
	return out
}

func (c *cluster) handleRoute(data []byte) routeReply {
	d := c.dispatcher()
	if d == nil {
		return routeReply{Err: errNotLeader.Error()}
	}
	var req routeRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return routeReply{Err: "bad routing request"}
	}
	ctx, cancel := context.WithTimeout(c.s.ctx, 30*time.Second)
	defer cancel()
	switch req.Op {
	case "resync":
		// A follower's input never arrived: rebuild from the store, on
		// the node's own goroutine rather than the bus's.
		c.mu.Lock()
		c.rebuild = true
		c.mu.Unlock()
		return routeReply{}
	case "snapshot":
		var snap *routing.Snapshot
		d.Query(func(v routing.View) { snap = v.(*routing.Engine).Snapshot(c.s.now().UTC()) })
		return routeReply{Snapshot: snap}
	case "group":
		// Read past this node's cache: the writer's cache notice may
		// not have arrived yet.
		c.s.live.dropGroup(req.GroupID)
		g, err := c.s.live.Store.Group(ctx, req.GroupID)
		if err != nil {
			return routeReply{Err: err.Error()}
		}
		if err := c.s.groupChanged(ctx, g); err != nil {
			return routeReply{Err: err.Error()}
		}
		return routeReply{}
	}
	in, err := decodeInput(req)
	if err != nil {
		return routeReply{Err: err.Error()}
	}
	return routeReply{Decisions: encodeDecisions(d.Do(ctx, in))}
}
