package conversation

import (
	"context"
	"encoding/json"
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
	// Edge makes a node that never leads (parley serve --role edge): it
	// reads the lease to know who decides, and is never the leader.
	Edge bool
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
	// Connected reports whether the bus is connected now.
	Connected() bool
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
	snapGen   int64                  // inputs forwarded so far: each makes the snapshot stale
	snapCall  *snapFlight            // the snapshot request in flight, if any
	nodes     map[string]*nodeReport // other nodes' last whole reports
	parts     map[string]*nodeReport // other nodes' reports while their parts arrive
	dirty     bool                   // this node's connections changed since its report
	round     int64                  // this node's reports so far
	// The bus lag: how long this node's own report (of round
	// reportRound, sent at reportAt; zero once back) took to come back
	// through its subscription.
	reportRound int64
	reportAt    time.Time
	busLag      time.Duration
	// undelivered counts this node's routing inputs that never reached
	// a leader since the leader last rebuilt routing from the store
	// (resync).
	undelivered int
	rebuild     bool // the leader was asked to rebuild routing

	stop chan struct{}
	done chan struct{}
}

// nodeReport is a node's connections: console connections per agent,
// visitor connections per chat. A report of many connections is sent in
// parts (Part of Parts, all of one Round), each well under NATS's
// payload limit (1 MiB by default, about 25,000 chats in one message);
// the other nodes use a report once all its parts arrived.
type nodeReport struct {
	Node   string         `json:"node"`
	Bye    bool           `json:"bye,omitempty"`
	Round  int64          `json:"round,omitempty"`
	Part   int            `json:"part,omitempty"`
	Parts  int            `json:"parts,omitempty"`
	Agents map[int64]int  `json:"agents,omitempty"`
	Chats  map[string]int `json:"chats,omitempty"`
	seen   time.Time
	got    int // parts received of Round
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

// QueryLeader is Query with a snapshot asked of the leader now, not the
// one kept: for an answer that refuses something (a group closed), which
// must not come from a tenth of a second ago.
func (c *cluster) QueryLeader(fn func(v routing.View)) {
	if d := c.dispatcher(); d != nil {
		d.Query(fn)
		return
	}
	c.mu.Lock()
	c.snap = nil
	c.mu.Unlock()
	fn(c.snapshot())
}

// snapFlight is one snapshot request to the leader that callers share.
type snapFlight struct {
	gen  int64 // snapGen when it was sent
	done chan struct{}
	snap *routing.Snapshot
}

// snapshot returns the leader's routing snapshot: the last one while it
// is fresh (100 ms, and no input forwarded since), else a new one. Callers
// that need one at the same time share one request, unless an input was
// forwarded after it was sent: the leader's answer to a request holds
// every input whose reply came before it. Without the sharing each chat
// request on a follower asked the leader for its own copy of every queue,
// and the leader fell behind as the queues grew.
func (c *cluster) snapshot() *routing.Snapshot {
	for {
		now := time.Now()
		c.mu.Lock()
		if c.snap != nil && now.Sub(c.snapAt) < 100*time.Millisecond {
			snap := c.snap
			c.mu.Unlock()
			return snap
		}
		if f := c.snapCall; f != nil {
			gen := c.snapGen
			c.mu.Unlock()
			<-f.done
			if f.gen >= gen {
				return f.snap
			}
			continue // sent before an input this caller may have forwarded
		}
		f := &snapFlight{gen: c.snapGen, done: make(chan struct{})}
		c.snapCall = f
		c.mu.Unlock()
		f.snap = c.askSnapshot(now)
		c.mu.Lock()
		c.snapCall = nil
		if !f.snap.Unknown && c.snapGen == f.gen {
			c.snap, c.snapAt = f.snap, now
		}
		c.mu.Unlock()
		close(f.done)
		return f.snap
	}
}

// askSnapshot requests the leader's snapshot; without an answer it is
// "unknown".
func (c *cluster) askSnapshot(now time.Time) *routing.Snapshot {
	ctx, cancel := context.WithTimeout(c.s.ctx, 2*time.Second)
	defer cancel()
	var reply routeReply
	if err := c.request(ctx, routeRequest{Op: "snapshot"}, &reply); err != nil || reply.Snapshot == nil {
		c.s.log.Warn("routing snapshot from the leader", "err", err)
		return &routing.Snapshot{At: now.UTC(), Unknown: true}
	}
	return reply.Snapshot
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
			c.resync()
		}
	}
}

// resync has routing rebuilt from the store once a routing input of this
// node was not delivered (the bus or the leader was out of reach for
// longer than forward waits): by this node when it leads, else by asking
// the leader until it answers. A leader asked to rebuild builds a new
// engine at its epoch, as a new leader would, so nothing stored
// meanwhile (a queued chat, an end, an agent's change) is left out.
func (c *cluster) resync() {
	c.mu.Lock()
	leading, rebuild, undelivered := c.disp != nil, c.rebuild, c.undelivered
	c.mu.Unlock()
	if undelivered > 0 && !leading && c.cfg.Bus.Connected() {
		ctx, cancel := context.WithTimeout(c.s.ctx, time.Second)
		var reply routeReply
		err := c.request(ctx, routeRequest{Op: "resync"}, &reply)
		cancel()
		if err == nil {
			// Inputs lost after this count are stored after it too, so
			// the leader's rebuild, which comes later, reads them; any
			// lost meanwhile ask again.
			c.mu.Lock()
			c.undelivered -= undelivered
			c.mu.Unlock()
		}
		return
	}
	if !leading || (!rebuild && undelivered == 0) {
		return
	}
	c.mu.Lock()
	c.rebuild = false
	c.undelivered -= undelivered
	epoch := c.epoch
	c.mu.Unlock()
	c.s.log.Warn("routing leader: rebuilding routing from the store after an input was lost", "epoch", epoch)
	c.depose()
	c.lead(epoch)
}

// leaseRound takes or renews the lease and acts on what it found.
func (c *cluster) leaseRound(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.LeaseTTL/3)
	st, err := c.cfg.Lease.TakeLease(rctx, leaseName, c.cfg.Node, c.cfg.LeaseTTL)
	cancel()
	if c.cfg.Edge {
		st.Held = false
	}
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
	// BusLag is how long the node's last report took to come back to it
	// through the bus, or how long the one on its way has been, if
	// longer.
	BusLag time.Duration
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
	st := ClusterStatus{Role: "follower", Epoch: c.epoch, LeaseAge: time.Since(c.lastRound), BusLag: c.busLag}
	if !c.reportAt.IsZero() {
		st.BusLag = max(st.BusLag, time.Since(c.reportAt))
	}
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
	c.mu.Lock()
	c.round++
	r := nodeReport{Node: c.cfg.Node, Bye: bye, Round: c.round, Agents: map[int64]int{}, Chats: map[string]int{}}
	c.mu.Unlock()
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
	c.mu.Lock()
	if c.reportAt.IsZero() {
		// A report still on its way keeps its time: the lag grows
		// while the bus does not deliver.
		c.reportRound, c.reportAt = r.Round, time.Now()
	}
	c.mu.Unlock()
	for _, part := range r.split(reportPartSize) {
		data, err := json.Marshal(part)
		if err == nil {
			err = c.s.bus.Publish(context.WithoutCancel(c.s.ctx), subjectNodes, data)
		}
		if err != nil {
			c.s.log.Warn("publish node report", "err", err)
			return
		}
	}
}

// control handles a cluster notice from the node's bus subscription.
func (c *cluster) control(subject string, data []byte) {
	switch subject {
	case subjectNodes:
		var r nodeReport
		if json.Unmarshal(data, &r) != nil {
			return
		}
		if r.Node == c.cfg.Node {
			c.mu.Lock()
			if r.Round >= c.reportRound && !c.reportAt.IsZero() {
				c.busLag, c.reportAt = time.Since(c.reportAt), time.Time{}
			}
			c.mu.Unlock()
			return
		}
		if gone := c.received(&r); gone != nil {
			c.nodeGone(gone)
		}
	case subjectLogins:
		c.s.loginNotice(data)
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
// While the bus is down no report arrives, from any node: nobody is
// taken for dead then, and each node is given three intervals again from
// the moment the bus is back.
func (c *cluster) expireNodes() {
	var gone []*nodeReport
	connected := c.cfg.Bus.Connected()
	c.mu.Lock()
	if !connected {
		now := time.Now()
		for _, r := range c.nodes {
			r.seen = now
		}
		c.mu.Unlock()
		return
	}
	for id, r := range c.nodes {
		if time.Since(r.seen) > 3*c.cfg.ReportInterval {
			delete(c.nodes, id)
			gone = append(gone, r)
		}
	}
	for id, p := range c.parts {
		if time.Since(p.seen) > 3*c.cfg.ReportInterval {
			delete(c.parts, id) // a round whose last parts never came
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
	if ev.Type == parley.EventSeen {
		// A receipt stored through another node: this one does not
		// store it again when the same party's next mark repeats it.
		c.s.noteSeen(seenKey{chat: id, kind: ev.From.Kind, agent: ev.From.AgentID}, ev.Seen)
	}
	if ev.Type == parley.EventState && ev.State != nil && ev.State.State == parley.StateTerminated {
		c.s.live.dropChat(id)
		c.s.dropTimers(id)
		c.s.forgetSeen(id)
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
