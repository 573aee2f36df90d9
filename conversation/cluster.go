package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

// A cluster is several nodes sharing one store (PostgreSQL) and one bus
// (NATS). Every node serves every client; one node at a time, the holder
// of the routing lease, runs the routing engine and applies its
// decisions, each fenced by the lease's epoch in its own transaction
// (parley.WithFence). The other nodes forward their routing inputs to it
// over the bus and ask it for snapshots of the queues. What one node keeps
// in memory about chats is kept coherent by the bus: cache notices after
// every write of a chat, group or visitor, chat events raising cached
// chats' last seqs, and presence reports of each node's connections.

// ClusterConfig makes the service one node of a cluster.
type ClusterConfig struct {
	// Node names this process; unique per process (a restarted node is a
	// new one).
	Node string
	// Lease elects the routing leader (postgres.Store).
	Lease Lease
	// Bus answers requests as well as carrying notifications (natsbus.Bus).
	Bus ClusterBus
	// LeaseTTL is how long a lease lasts unless renewed (6 s); it is
	// renewed every sixth of it, and a leader that could not renew for
	// two thirds of it stops deciding.
	LeaseTTL time.Duration
	// ReportInterval is how often a node reports its connections (2 s); a
	// node not heard from for three intervals is taken for dead.
	ReportInterval time.Duration
}

// Lease is the store's lease of the routing leader.
type Lease interface {
	TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (parley.LeaseState, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// ClusterBus is a bus with requests and replies.
type ClusterBus interface {
	Request(ctx context.Context, subject string, data []byte) ([]byte, error)
	Handle(subject string, fn func(data []byte) []byte) (unsubscribe func() error, err error)
}

// leaseName is the lease of the routing leader (postgres.RoutingLease).
const leaseName = "routing"

// Subjects of the cluster. Control notices are under busPattern, so the
// node's one subscription receives them; routing requests are not, so it
// does not.
const (
	subjectControl = "parley.cluster."
	subjectNodes   = "parley.cluster.nodes"
	subjectCache   = "parley.cluster.cache"
	subjectRoute   = "cluster.route"
)

// router is what the service asks of routing: the dispatcher on one node,
// the cluster on several.
type router interface {
	Do(ctx context.Context, in routing.Input) []routing.Decision
	Update(ctx context.Context, prepare func() (routing.Input, error)) ([]routing.Decision, error)
	Query(fn func(v routing.View))
}

// cluster is a node's part in the cluster.
type cluster struct {
	s   *Service
	cfg ClusterConfig

	mu        sync.Mutex
	disp      *routing.Dispatcher // set while this node leads
	epoch     int64               // the lease's epoch as last seen
	unserve   func() error        // stops answering routing requests
	lastRound time.Time           // the last lease round that reached the store
	lastRenew time.Time           // the last renewal while leading
	roundErr  error
	snap      *routing.Snapshot // the leader's last answer, for followers
	snapAt    time.Time
	nodes     map[string]*nodeReport // other nodes' last reports
	dirty     bool                   // this node's connections changed since its report

	stop chan struct{}
	done chan struct{}
}

// nodeReport is a node's connections: console connections per agent,
// visitor connections per chat.
type nodeReport struct {
	Node   string         `json:"node"`
	Bye    bool           `json:"bye,omitempty"`
	Agents map[int64]int  `json:"agents,omitempty"`
	Chats  map[string]int `json:"chats,omitempty"`
	seen   time.Time
}

// cacheNotice tells the other nodes which cached record a write changed.
type cacheNotice struct {
	Node    string `json:"node"`
	Chat    string `json:"chat,omitempty"`
	Group   int64  `json:"group,omitempty"`
	Visitor string `json:"visitor,omitempty"`
}

func newCluster(s *Service, cfg ClusterConfig) *cluster {
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 6 * time.Second
	}
	if cfg.ReportInterval <= 0 {
		cfg.ReportInterval = 2 * time.Second
	}
	return &cluster{s: s, cfg: cfg, nodes: map[string]*nodeReport{}, stop: make(chan struct{}), done: make(chan struct{})}
}

// dispatcher returns the node's dispatcher while it leads, else nil.
func (c *cluster) dispatcher() *routing.Dispatcher {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.disp
}

// fence marks ctx with the epoch this node leads at; a node that does not
// lead gets an epoch no lease has, so its routing writes fail.
func (c *cluster) fence(ctx context.Context) context.Context {
	c.mu.Lock()
	epoch := c.epoch
	if c.disp == nil {
		epoch = -1
	}
	c.mu.Unlock()
	return parley.WithFence(ctx, epoch)
}

// Do hands the input to the engine: here while this node leads, else to
// the leader over the bus.
func (c *cluster) Do(ctx context.Context, in routing.Input) []routing.Decision {
	if d := c.dispatcher(); d != nil {
		return d.Do(ctx, in)
	}
	return c.forward(ctx, in)
}

// Update is Dispatcher.Update on the leader. Elsewhere the change is
// stored here and its input forwarded: it is not atomic with the leader's
// decisions, which read what the store holds when they apply.
func (c *cluster) Update(ctx context.Context, prepare func() (routing.Input, error)) ([]routing.Decision, error) {
	if d := c.dispatcher(); d != nil {
		return d.Update(ctx, prepare)
	}
	in, err := prepare()
	if err != nil || in == nil {
		return nil, err
	}
	return c.forward(ctx, in), nil
}

// Query reads the engine on the leader, else a snapshot the leader sent
// (kept for a tenth of a second, so a burst of reads costs one request,
// and dropped when this node forwards an input, so it reads its own
// changes).
func (c *cluster) Query(fn func(v routing.View)) {
	if d := c.dispatcher(); d != nil {
		d.Query(fn)
		return
	}
	fn(c.snapshot())
}

func (c *cluster) snapshot() *routing.Snapshot {
	now := time.Now()
	c.mu.Lock()
	if c.snap != nil && now.Sub(c.snapAt) < 100*time.Millisecond {
		snap := c.snap
		c.mu.Unlock()
		return snap
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.s.ctx, 2*time.Second)
	defer cancel()
	var reply routeReply
	if err := c.request(ctx, routeRequest{Op: "snapshot"}, &reply); err != nil || reply.Snapshot == nil {
		c.s.log.Warn("routing snapshot from the leader", "err", err)
		return &routing.Snapshot{At: now.UTC(), Unknown: true}
	}
	c.mu.Lock()
	c.snap, c.snapAt = reply.Snapshot, now
	c.mu.Unlock()
	return reply.Snapshot
}

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

// forward sends an input to the leader and returns the decisions it led
// to. While there is no leader (a take-over) it retries for up to 15 s;
// an input that never arrives is not lost for good, since the next
// leader rebuilds routing from the store.
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
			c.s.log.Warn("routing input not delivered to a leader", "op", req.Op, "err", err)
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

// start takes part in the election once, so that a lone node leads when
// Start returns, then keeps at it in the background.
func (c *cluster) start(ctx context.Context) error {
	if _, err := c.s.hub.subscribe(ctx, subjectNodes); err != nil {
		return fmt.Errorf("conversation: cluster notices: %w", err)
	}
	c.leaseRound(ctx)
	go c.run()
	return nil
}

func (c *cluster) run() {
	defer close(c.done)
	lease := time.NewTicker(c.cfg.LeaseTTL / 6)
	defer lease.Stop()
	report := time.NewTicker(c.cfg.ReportInterval / 8)
	defer report.Stop()
	var reported time.Time
	for {
		select {
		case <-c.stop:
			return
		case <-lease.C:
			c.leaseRound(c.s.ctx)
		case <-report.C:
			c.mu.Lock()
			due := c.dirty || time.Since(reported) >= c.cfg.ReportInterval
			c.dirty = false
			c.mu.Unlock()
			if due {
				c.report(false)
				reported = time.Now()
			}
			c.expireNodes()
		}
	}
}

// leaseRound takes or renews the lease and acts on what it found.
func (c *cluster) leaseRound(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.LeaseTTL/3)
	st, err := c.cfg.Lease.TakeLease(rctx, leaseName, c.cfg.Node, c.cfg.LeaseTTL)
	cancel()
	now := time.Now()
	c.mu.Lock()
	c.roundErr = err
	leading := c.disp != nil
	if err == nil {
		c.lastRound = now
		c.epoch = st.Epoch
		if st.Held {
			c.lastRenew = now
		}
	}
	lapsed := leading && now.Sub(c.lastRenew) > c.cfg.LeaseTTL*2/3
	c.mu.Unlock()
	switch {
	case err != nil && lapsed:
		c.s.log.Error("routing lease not renewed: no longer deciding", "err", err)
		c.depose()
	case err != nil:
		c.s.log.Warn("routing lease", "err", err)
	case st.Held && !leading:
		c.lead(st.Epoch)
	case !st.Held && leading:
		c.s.log.Warn("routing lease taken over", "holder", st.Holder, "epoch", st.Epoch)
		c.depose()
	}
}

// lead makes this node the routing leader at epoch: a new engine, rebuilt
// from the store. Requests are answered from the start, so that inputs
// sent during the rebuild wait for it rather than get lost.
func (c *cluster) lead(epoch int64) {
	start := time.Now()
	d := c.s.newDispatcher()
	c.mu.Lock()
	c.disp, c.epoch, c.snap = d, epoch, nil
	c.mu.Unlock()
	unserve, err := c.cfg.Bus.Handle(subjectRoute, c.serveRoute)
	if err != nil {
		c.s.log.Error("routing leader: answer requests", "err", err)
		c.depose()
		return
	}
	c.mu.Lock()
	c.unserve = unserve
	c.mu.Unlock()
	if err := c.s.restoreRouting(c.s.ctx); err != nil {
		c.s.log.Error("routing leader: rebuild", "err", err)
		c.depose()
		return
	}
	c.s.log.Info("routing leader", "epoch", epoch, "rebuilt_in", time.Since(start).Round(time.Millisecond))
}

// depose stops deciding: the engine is dropped, requests go unanswered
// here, and writes under the old epoch fail in the store anyway.
func (c *cluster) depose() {
	c.mu.Lock()
	c.disp = nil
	unserve := c.unserve
	c.unserve = nil
	c.mu.Unlock()
	if unserve != nil {
		_ = unserve()
	}
}

// close stops the node's part: a leader gives the lease up, and the node
// says goodbye, so the others act at once rather than after a timeout.
func (c *cluster) close() {
	close(c.stop)
	<-c.done
	leading := c.dispatcher() != nil
	c.depose()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if leading {
		if err := c.cfg.Lease.ReleaseLease(ctx, leaseName, c.cfg.Node); err != nil {
			c.s.log.Warn("release routing lease", "err", err)
		}
	}
	c.report(true)
}

// Status is the node's part in the cluster, for readiness and metrics.
type ClusterStatus struct {
	// Role is "single" (no cluster), "leader" or "follower".
	Role  string
	Epoch int64
	// LeaseAge is how long ago this node last renewed the lease (leader)
	// or last read it (follower).
	LeaseAge time.Duration
	// Err is set when the lease could not be read for a whole lease
	// time: the node cannot tell who decides.
	Err error
}

// ClusterStatus reports the node's part in the cluster.
func (s *Service) ClusterStatus() ClusterStatus {
	c := s.cluster
	if c == nil {
		return ClusterStatus{Role: "single"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := ClusterStatus{Role: "follower", Epoch: c.epoch, LeaseAge: time.Since(c.lastRound)}
	if c.disp != nil {
		st.Role, st.LeaseAge = "leader", time.Since(c.lastRenew)
	}
	if st.LeaseAge > c.cfg.LeaseTTL {
		st.Err = fmt.Errorf("routing lease not read for %s: %v", st.LeaseAge.Round(time.Second), c.roundErr)
	}
	return st
}

// connectionsChanged marks the node's report as due.
func (c *cluster) connectionsChanged() {
	c.mu.Lock()
	c.dirty = true
	c.mu.Unlock()
}

// report publishes this node's connections.
func (c *cluster) report(bye bool) {
	r := nodeReport{Node: c.cfg.Node, Bye: bye, Agents: map[int64]int{}, Chats: map[string]int{}}
	if !bye {
		s := c.s
		s.tmu.Lock()
		for id, l := range s.agentLinks {
			if l.conns > 0 {
				r.Agents[id] = l.conns
			}
		}
		for id, t := range s.timers {
			n := t.conns
			if t.poll != nil {
				n++ // a visitor between long-polls is still here
			}
			if n > 0 && !t.away {
				r.Chats[id] = n
			}
		}
		s.tmu.Unlock()
	}
	data, err := json.Marshal(r)
	if err == nil {
		err = c.s.bus.Publish(context.WithoutCancel(c.s.ctx), subjectNodes, data)
	}
	if err != nil {
		c.s.log.Warn("publish node report", "err", err)
	}
}

// control handles a cluster notice from the node's bus subscription.
func (c *cluster) control(subject string, data []byte) {
	switch subject {
	case subjectNodes:
		var r nodeReport
		if json.Unmarshal(data, &r) != nil || r.Node == c.cfg.Node {
			return
		}
		c.mu.Lock()
		old := c.nodes[r.Node]
		if r.Bye {
			delete(c.nodes, r.Node)
		} else {
			r.seen = time.Now()
			c.nodes[r.Node] = &r
		}
		c.mu.Unlock()
		if r.Bye && old != nil {
			c.nodeGone(old)
		}
	case subjectCache:
		var n cacheNotice
		if json.Unmarshal(data, &n) != nil || n.Node == c.cfg.Node {
			return
		}
		l := c.s.live
		if n.Chat != "" {
			l.dropChat(n.Chat)
		}
		if n.Group != 0 {
			l.dropGroup(n.Group)
		}
		if n.Visitor != "" {
			l.dropVisitorEntry(n.Visitor)
		}
	}
}

// expireNodes forgets nodes not heard from for three report intervals.
func (c *cluster) expireNodes() {
	var gone []*nodeReport
	c.mu.Lock()
	for id, r := range c.nodes {
		if time.Since(r.seen) > 3*c.cfg.ReportInterval {
			delete(c.nodes, id)
			gone = append(gone, r)
		}
	}
	c.mu.Unlock()
	for _, r := range gone {
		c.s.log.Warn("cluster node silent: its agents and visitors get their grace", "node", r.Node)
		c.nodeGone(r)
	}
}

// nodeGone gives the agents and visitors of a node that died or left
// their grace, on the leader: those who reconnect elsewhere within it
// keep their presence and their chats.
func (c *cluster) nodeGone(r *nodeReport) {
	if c.dispatcher() == nil {
		return
	}
	for id := range r.Agents {
		c.s.agentSeen(id)
	}
	for id := range r.Chats {
		c.s.visitorSeen(id)
	}
}

// agentConns counts an agent's console connections on the other nodes.
func (c *cluster) agentConns(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.nodes {
		n += r.Agents[id]
	}
	return n
}

// chatConns counts a chat's visitor connections on the other nodes.
func (c *cluster) chatConns(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.nodes {
		n += r.Chats[id]
	}
	return n
}

// noteChat keeps this node's view of a chat in step with an event of it,
// whichever node stored it: the cached last seq, the idle timer on
// visitor activity, and the chat's timers once it ended.
func (c *cluster) noteChat(subject string, n *note) {
	id := strings.TrimPrefix(subject, "parley.chat.")
	ev, err := n.event()
	if err != nil || ev.Seq == 0 {
		return
	}
	c.s.live.appended(id, []parley.Event{ev}, nil)
	c.s.noteCall(id, &ev)
	if ev.From.Kind == parley.PartyVisitor && ev.Type == parley.EventMessage {
		c.s.visitorActive(id)
	}
	if ev.Type == parley.EventState && ev.State != nil && ev.State.State == parley.StateTerminated {
		c.s.live.dropChat(id)
		c.s.dropTimers(id)
	}
}

// publishCache tells the other nodes that a write changed a record they
// may have cached.
func (c *cluster) publishCache(n cacheNotice) {
	n.Node = c.cfg.Node
	data, err := json.Marshal(n)
	if err == nil {
		err = c.s.bus.Publish(context.WithoutCancel(c.s.ctx), subjectCache, data)
	}
	if err != nil {
		c.s.log.Warn("publish cache notice", "err", err)
	}
}
