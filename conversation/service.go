// Package conversation is the chat lifecycle: requesting a chat, messages,
// typing, files, accepting, declining, transferring, leaving and ending,
// the idle and disconnect timeouts, and the limits on what is sent. Every
// transport (native API, dialects) is a thin translation onto Service.
//
// Each change is committed to the Store before it is acknowledged and then
// published on the Bus; clients read a chat through a Cursor, which merges
// the store's log with live notifications without gap or duplicate.
//
// Where things are:
//
//   - The chat log: send.go (a message from check to ack), live.go (the
//     active chats in memory and the ordering of a chat's writes), hub.go
//     (the node's one bus subscription), cursor.go (a reader's position).
//   - The lifecycle: request.go (a visitor asks; groups, limits), agent.go
//     (routing's decisions applied; accept, decline, transfer), end.go
//     (leave and every end), timeouts.go (idle, disconnect and the
//     visitor's presence), presence.go (agents' consoles).
//   - The agent side: chat.go (actors, views, who may read what),
//     canned.go, files.go, context.go (the visitor's page), archive.go.
//   - The supervisor side: supervisor.go (overview, KPIs, whisper, barge-in,
//     conference), queues.go (positions and wait estimates pushed).
//   - After the chat: transcript.go (mail through package transcript),
//     feedback.go (ratings, offline messages).
//   - The service itself: service.go (Config, New, Start, Close, locks,
//     stats), clock.go, auth.go, admin.go, public.go, id.go.
package conversation

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/logfilter"
	"github.com/parleychat/parley/routing"
)

// Bus carries notifications between nodes; natsbus implements it. The bus
// is a doorbell: everything that matters is in the store first.
type Bus interface {
	Publish(ctx context.Context, subject string, data []byte) error
	// Subscribe calls fn with every message on a subject matching pattern
	// (with NATS wildcards), and lost when messages were dropped.
	Subscribe(pattern string, fn func(subject string, data []byte), lost func()) (unsubscribe func() error, err error)
	// Flush returns once every earlier Subscribe is in effect.
	Flush(ctx context.Context) error
}

// Config holds the limits and timeouts of chats. The zero value of a field
// means its default, except where a field says 0 turns a feature off.
type Config struct {
	// Clock is the source of time; nil is the wall clock.
	Clock Clock
	// MaxMessageLength is the maximum message length in characters (1024).
	MaxMessageLength int
	// MaxAttachmentKB is the largest attachment in KB (5120); negative
	// turns attachments off (the configuration value 0).
	MaxAttachmentKB int
	// AllowedAttachmentTypes, when not empty, lists the only file
	// extensions accepted; RestrictedAttachmentTypes is then ignored.
	AllowedAttachmentTypes []string
	// RestrictedAttachmentTypes lists refused extensions (exe, bat, cmd,
	// com, vbs); nil means the default list.
	RestrictedAttachmentTypes []string
	// CustomerTimeout is the server's fail-safe: no chat stays open longer
	// than this without visitor activity (900 s).
	CustomerTimeout time.Duration
	// IdleTimeout closes a chat whose visitor was inactive this long (300 s)
	// unless the group or the request sets another; capped by
	// CustomerTimeout.
	IdleTimeout time.Duration
	// IdleWarning is how long before the idle timeout the visitor is
	// warned (60 s); negative turns the warning off.
	IdleWarning time.Duration
	// DisconnectTimeout is the grace a visitor whose page went away has to
	// come back (60 s).
	DisconnectTimeout time.Duration
	// DisconnectWarning is how long before the grace ends the agent is
	// warned (20 s); negative turns the warning off.
	DisconnectWarning time.Duration
	// PollGrace is how long after a long-poll ends its visitor still
	// counts as connected (20 s).
	PollGrace time.Duration
	// AgentGrace is how long an agent without any console connection
	// (WebSocket or long-poll) keeps its presence before it is set away
	// and its offers go to others (60 s).
	AgentGrace time.Duration
	// RejectGroups lists group IDs that cannot be requested
	// (ServiceGroupIDsToReject).
	RejectGroups []int64
	// IgnoreCustomerDetails drops name, email and phone from requests.
	IgnoreCustomerDetails bool
	// FilesDir is where attachments are stored, unless Files is set.
	FilesDir string
	// Files keeps attachments elsewhere than FilesDir (an edge node
	// sends them to a core node).
	Files Files
	// SessionTTL is how long an agent's login lasts (12 h).
	SessionTTL time.Duration
	// OfferTimeout withdraws an offer nobody answered and gives the chat to
	// the next agent (60 s); negative turns it off.
	OfferTimeout time.Duration
	// DeclineCooldown keeps a declined or unanswered chat away from that
	// agent for a while (30 s); negative means for as long as it waits.
	DeclineCooldown time.Duration
	// RoutingTick is how often routing looks at the clock (5 s).
	RoutingTick time.Duration
	// MissedOfferNotReady puts an agent who let an offer time out into
	// not ready.
	MissedOfferNotReady bool
	// PreferredWait is how long a returning visitor's chat waits for the
	// agent of its earlier chat when that agent is busy (30 s); negative
	// turns preferred agents off.
	PreferredWait time.Duration
	// RampUp paces an agent who just became ready: one new offer per
	// RampUp until at capacity; 0 gives it as many as it has room for.
	RampUp time.Duration
	// DefaultHandleTime is assumed for wait estimates until a group has
	// history; 0 reports -1 (no estimate) until then.
	DefaultHandleTime time.Duration
	// QueuePush is how often changed queue positions and wait estimates
	// are pushed to waiting visitors (500 ms).
	QueuePush time.Duration
	// LogText puts message text into debug logs; off by default.
	LogText bool
	// LogFilter says how much message text (message-log-print-size) and
	// attached data (per-key filters) debug logs show; the zero value
	// shows none.
	LogFilter logfilter.Filter
	// MailFrom is the sender address of transcripts for groups that set
	// none; "" leaves those groups without transcripts.
	MailFrom string
	// MailWake, when set, is called after a mail is queued so the outbox
	// sends it at once.
	MailWake func()
	// FromPriority orders the visitor details an archive shows as "from"
	// (Mitel FromPriority); nil means email, phone, id.
	FromPriority []parley.FromField
	// ServiceLevel is the answer time within which a chat counts as
	// answered in time, for the service level KPI (20 s).
	ServiceLevel time.Duration
	// OverviewPush is how often logged-in supervisors and admins are sent
	// the live overview when it changed (2 s); negative turns it off.
	OverviewPush time.Duration
	// ICE is what the browsers of a call are given to connect.
	ICE ICEConfig
	// LimitForSessions refuses new chats with EUNAVAILABLE while this many
	// are active on the node (Genesys limit-for-sessions); 0 is no limit.
	LimitForSessions int
	// DirectoryBind checks a directory agent's password by binding to the
	// directory as dn (package directory); it returns an EUNAUTHORIZED
	// error for wrong credentials. Nil refuses directory agents' logins.
	DirectoryBind func(ctx context.Context, dn, password string) error
	// Limits are the abuse limits; the zero value limits nothing.
	Limits AbuseLimits
	// Audit records admins' retention settings and erasures and the
	// retention job's runs; nil records them in the audit log.
	Audit Auditor
	// Cluster, when set, makes the service one node of several sharing
	// the store and the bus (cluster.go); nil is a node on its own.
	Cluster *ClusterConfig
}

// Defaults.
const (
	DefaultMaxMessageLength  = 1024
	DefaultMaxAttachmentKB   = 5120
	DefaultCustomerTimeout   = 900 * time.Second
	DefaultIdleTimeout       = 300 * time.Second
	DefaultIdleWarning       = 60 * time.Second
	DefaultDisconnectTimeout = 60 * time.Second
	DefaultDisconnectWarning = 20 * time.Second
	DefaultPollGrace         = 20 * time.Second
	DefaultAgentGrace        = 60 * time.Second
	DefaultSessionTTL        = 12 * time.Hour
	DefaultOfferTimeout      = 60 * time.Second
	DefaultDeclineCooldown   = 30 * time.Second
	DefaultRoutingTick       = 5 * time.Second
	DefaultPreferredWait     = 30 * time.Second
	DefaultQueuePush         = 500 * time.Millisecond
	DefaultServiceLevel      = 20 * time.Second
	DefaultOverviewPush      = 2 * time.Second
)

// DefaultRestrictedAttachmentTypes is the restricted list when none is set.
var DefaultRestrictedAttachmentTypes = []string{"exe", "bat", "cmd", "com", "vbs"}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.MaxMessageLength == 0 {
		c.MaxMessageLength = DefaultMaxMessageLength
	}
	if c.MaxAttachmentKB == 0 {
		c.MaxAttachmentKB = DefaultMaxAttachmentKB
	}
	if c.RestrictedAttachmentTypes == nil {
		c.RestrictedAttachmentTypes = DefaultRestrictedAttachmentTypes
	}
	def(&c.CustomerTimeout, DefaultCustomerTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.IdleWarning, DefaultIdleWarning)
	def(&c.DisconnectTimeout, DefaultDisconnectTimeout)
	def(&c.DisconnectWarning, DefaultDisconnectWarning)
	def(&c.PollGrace, DefaultPollGrace)
	def(&c.AgentGrace, DefaultAgentGrace)
	def(&c.SessionTTL, DefaultSessionTTL)
	def(&c.OfferTimeout, DefaultOfferTimeout)
	def(&c.DeclineCooldown, DefaultDeclineCooldown)
	def(&c.RoutingTick, DefaultRoutingTick)
	def(&c.PreferredWait, DefaultPreferredWait)
	def(&c.QueuePush, DefaultQueuePush)
	def(&c.ServiceLevel, DefaultServiceLevel)
	def(&c.OverviewPush, DefaultOverviewPush)
	if len(c.FromPriority) == 0 {
		c.FromPriority = parley.DefaultFromPriority
	}
	c.AllowedAttachmentTypes = normalizeTypes(c.AllowedAttachmentTypes)
	c.RestrictedAttachmentTypes = normalizeTypes(c.RestrictedAttachmentTypes)
	return c
}

func normalizeTypes(list []string) []string {
	out := []string{}
	for _, t := range list {
		t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "."))
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Service runs chats. Create it with New, call Start, and Close it when
// done.
type Service struct {
	clock  Clock
	store  parley.Store // live, as a parley.Store
	files  Files        // attachments' content
	live   *liveStore
	bus    Bus
	log    *slog.Logger
	cfg    Config
	router router // the dispatcher, or the cluster on several nodes
	hub    *hub

	cluster *cluster // nil on a node on its own
	stats   Stats
	logins  atomic.Pointer[func(kind, key string, failed bool)] // ShareLogins

	locks [256]sync.Mutex // per-chat serialization, striped by ID
	seed  maphash.Seed

	tmu      sync.Mutex
	timers   map[string]*chatTimers
	draining bool // shutting down: connections that drop are not absences

	agentLinks map[int64]*agentLink // agents' console connections; guarded by tmu

	// ctx lives as long as the service; timer callbacks use it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	calls callTable // each chat's open call

	seenMu sync.Mutex
	seen   map[seenKey]int64 // the last read receipt of each party of an active chat

	hashSem chan struct{} // bounds concurrent password hashing
	queues  *queuePusher  // pushes queue positions and wait estimates

	sessions *sessionGate // active chats, the session limit, health figures
	abuse    abuseMeters  // Config.Limits
}

// New returns a service over store and bus. log may be nil.
func New(store parley.Store, bus Bus, cfg Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	live := newLiveStore(store)
	clock := cfg.Clock
	if clock == nil {
		clock = wallClock{}
	}
	s := &Service{
		clock:   clock,
		store:   live,
		live:    live,
		bus:     bus,
		log:     log,
		cfg:     cfg.withDefaults(),
		seed:    maphash.MakeSeed(),
		timers:  make(map[string]*chatTimers),
		seen:    make(map[seenKey]int64),
		ctx:     ctx,
		cancel:  cancel,
		hashSem: make(chan struct{}, 2),
		files:   cfg.Files,
	}
	if s.files == nil {
		s.files = DirFiles{Dir: cfg.FilesDir}
	}
	s.hub = newHub(bus, log)
	if cfg.Cluster != nil {
		s.cluster = newCluster(s, *cfg.Cluster)
		s.router = s.cluster
		s.hub.control = s.cluster.control
		s.hub.chatNote = s.cluster.noteChat
		s.hub.onLost = func() { live.dropAll(); s.calls.clear() }
		live.changed = s.cluster.publishCache
	} else {
		s.router = s.newDispatcher()
	}
	s.queues = newQueuePusher()
	s.sessions = newSessionGate(s.cfg.LimitForSessions, s.cfg.ServiceLevel)
	s.abuse = newAbuseMeters(s.cfg.Limits, clock.Now)
	return s
}

// newDispatcher returns a routing engine with an empty state.
func (s *Service) newDispatcher() *routing.Dispatcher {
	return routing.NewDispatcher(routing.NewEngine(routing.Options{
		OfferTimeout:        max(s.cfg.OfferTimeout, 0),
		DeclineCooldown:     max(s.cfg.DeclineCooldown, 0),
		MissedOfferNotReady: s.cfg.MissedOfferNotReady,
		PreferredWait:       max(s.cfg.PreferredWait, 0),
		RampUp:              max(s.cfg.RampUp, 0),
		DefaultHandleTime:   max(s.cfg.DefaultHandleTime, 0),
	}), s.apply)
}

// Config returns the effective configuration, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Start rebuilds the routing state and the timers from the store: agents
// and their presence, chats being handled, chats waiting in queues. Offers
// that were pending when the server stopped are made again. In a cluster
// only the routing leader does so, when it takes the lease.
func (s *Service) Start(ctx context.Context) error {
	tenants, err := s.store.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("conversation: load tenants: %w", err)
	}
	for _, t := range tenants {
		if s.cluster != nil && s.cluster.cfg.Edge {
			break // the core nodes send the mail
		}
		groups, err := s.store.Groups(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("conversation: load groups: %w", err)
		}
		if err := s.recoverCloseMails(ctx, t.ID, groups); err != nil {
			return err
		}
	}
	if s.cluster != nil {
		if err := s.cluster.start(ctx); err != nil {
			return err
		}
	} else if err := s.restoreRouting(ctx); err != nil {
		return err
	}
	s.wg.Add(1)
	go s.ticks()
	return nil
}

// restoreRouting feeds the engine what the store holds: groups, agents
// and their presence, handled chats, then queued chats by QueuedAt.
// Offers made before are withdrawn and the chats placed again.
func (s *Service) restoreRouting(ctx context.Context) error {
	tenants, err := s.store.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("conversation: load tenants: %w", err)
	}
	for _, t := range tenants {
		groups, err := s.store.Groups(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("conversation: load groups: %w", err)
		}
		for _, g := range groups {
			if err := s.groupChanged(ctx, g); err != nil {
				return err
			}
		}
	}
	agents, err := s.store.Agents(ctx, 0)
	if err != nil {
		return fmt.Errorf("conversation: load agents: %w", err)
	}
	now := s.now().UTC()
	for _, a := range agents {
		ra, err := s.routingAgent(ctx, a)
		if err != nil {
			return err
		}
		s.router.Do(ctx, routing.AgentChanged{Agent: ra, At: now})
		if a.Presence == parley.PresenceAvailable || a.Presence == parley.PresenceBusy {
			// No console is connected yet: an agent whose console does
			// not come back within the grace is away.
			s.agentSeen(a.ID)
		}
	}
	chats, err := s.store.Chats(ctx, parley.ChatFilter{ActiveOnly: true})
	if err != nil {
		return fmt.Errorf("conversation: load chats: %w", err)
	}
	// Handled chats first so agents' loads are known before queued chats
	// are placed; queued chats keep their place by QueuedAt.
	for _, c := range chats {
		s.sessions.restored(c.ID)
		if c.State == parley.StateHandling {
			s.router.Do(ctx, routing.ChatAssigned{ChatID: c.ID, GroupID: c.GroupID, AgentID: c.AgentID, At: c.AcceptedAt})
			s.armIdle(c.ID, c.IdleTimeout)
		}
	}
	slices.SortStableFunc(chats, func(a, b *parley.Chat) int { return a.QueuedAt.Compare(b.QueuedAt) })
	for _, c := range chats {
		if c.State != parley.StateQueued {
			continue
		}
		if s.heldByBot(ctx, c) {
			continue // waits for its bot's hand-over
		}
		if c.OfferedTo != 0 {
			// The offer died with the previous process (or leader);
			// withdraw it and route again.
			offered := c.OfferedTo
			c.OfferedTo = 0
			if _, err := s.store.UpdateChat(s.fenced(ctx), c, nil); err != nil {
				return fmt.Errorf("conversation: clear offer: %w", err)
			}
			s.notifyAgent(ctx, offered, AgentNotice{Type: NoticeRevoke, ChatID: c.ID})
		}
		s.router.Do(ctx, routing.ChatQueued{ChatID: c.ID, Groups: []int64{c.GroupID}, Priority: c.Priority, At: c.QueuedAt})
	}
	for _, c := range chats {
		// Nobody is connected yet; visitors who do not come back within
		// the grace are treated as gone. (In a cluster, those connected
		// to other nodes are reported by them meanwhile.)
		s.visitorSeen(c.ID)
	}
	return nil
}

// fenced marks ctx's writes as routing decisions of this node's leader
// epoch, so that the store refuses them once another node leads. A node
// on its own always leads.
func (s *Service) fenced(ctx context.Context) context.Context {
	if s.cluster == nil {
		return ctx
	}
	return s.cluster.fence(ctx)
}

// ticks runs the service's periodic work until it closes: routing sees
// time pass (offer timeouts, wrap-ups, cool-downs), and waiting visitors
// are told their changed positions and estimates. The tickers only wake
// it; the time it acts on is the service clock's.
func (s *Service) ticks() {
	defer s.wg.Done()
	tick := time.NewTicker(s.cfg.RoutingTick)
	defer tick.Stop()
	push := time.NewTicker(s.cfg.QueuePush)
	defer push.Stop()
	var overview <-chan time.Time
	if s.cfg.OverviewPush > 0 {
		t := time.NewTicker(s.cfg.OverviewPush)
		defer t.Stop()
		overview = t.C
	}
	sent := map[int64]string{} // the overview last pushed, by tenant
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
			if s.cluster == nil || s.cluster.dispatcher() != nil {
				s.router.Do(s.ctx, routing.Tick{At: s.now().UTC()})
			}
		case <-push.C:
			for _, g := range s.queues.takeDirty() {
				s.pushQueue(s.ctx, g)
			}
		case <-overview:
			s.pushOverviews(s.ctx, sent)
		}
	}
}

// enqueue hands a queued chat to routing. A chat that ended while it was
// being handed over (the visitor left between the store write and this
// call) is taken out again, so routing never keeps a ghost in a queue.
func (s *Service) enqueue(ctx context.Context, in routing.ChatQueued) {
	s.router.Do(ctx, in)
	if c, err := s.store.Chat(ctx, in.ChatID); err == nil && !c.Active() {
		s.router.Do(ctx, routing.ChatEnded{ChatID: in.ChatID, At: s.now().UTC()})
	}
}

// Drain prepares for shutdown: connections that close from now on are the
// server's doing, not the visitors' leaving.
func (s *Service) Drain() {
	s.tmu.Lock()
	s.draining = true
	s.tmu.Unlock()
}

// Close stops the timers and waits for running callbacks. It does not
// close the store or the bus.
func (s *Service) Close() error {
	if s.cluster != nil {
		s.cluster.close()
	}
	s.cancel()
	s.tmu.Lock()
	for _, t := range s.timers {
		t.stopAll()
	}
	s.timers = map[string]*chatTimers{}
	s.stopAgentGracesLocked()
	s.tmu.Unlock()
	s.wg.Wait()
	s.hub.close()
	return nil
}

// lockChat serializes changes to one chat on this node; the store's version
// check guards across nodes. Lock order: the routing dispatcher, then a
// chat lock, then s.tmu; never the dispatcher while a chat lock is held.
func (s *Service) lockChat(id string) func() {
	m := &s.locks[maphash.String(s.seed, id)%uint64(len(s.locks))]
	m.Lock()
	return m.Unlock
}

// Stats are running totals for metrics.
type Stats struct {
	mu             sync.Mutex
	chatsRequested int64
	chatsEnded     map[parley.Cause]int64
	messages       map[parley.PartyKind]int64
	offers         int64
}

// Snapshot returns a copy of the totals.
func (s *Service) Stats() StatsSnapshot {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := StatsSnapshot{
		ChatsRequested: s.stats.chatsRequested,
		Offers:         s.stats.offers,
		ChatsEnded:     map[string]int64{},
		Messages:       map[string]int64{},
	}
	for k, v := range s.stats.chatsEnded {
		out.ChatsEnded[k.String()] = v
	}
	for k, v := range s.stats.messages {
		out.Messages[string(k)] = v
	}
	return out
}

// StatsSnapshot is a copy of the running totals.
type StatsSnapshot struct {
	ChatsRequested int64
	Offers         int64
	ChatsEnded     map[string]int64 // by cause
	Messages       map[string]int64 // by sender kind
}

func (s *Service) count(fn func(st *Stats)) {
	s.stats.mu.Lock()
	if s.stats.chatsEnded == nil {
		s.stats.chatsEnded = map[parley.Cause]int64{}
		s.stats.messages = map[parley.PartyKind]int64{}
	}
	fn(&s.stats)
	s.stats.mu.Unlock()
}

// QueueLengths returns the number of chats waiting, by group.
func (s *Service) QueueLengths() map[int64]int {
	var out map[int64]int
	s.router.Query(func(e routing.View) { out = e.QueueLengths() })
	return out
}

var errChatEnded = parley.Errorf(parley.ECLOSED, "the chat has ended")

func isCode(err error, code string) bool { return parley.ErrorCode(err) == code }

func internal(op string, err error) error {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("conversation: %s: %w", op, err)
}
