package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleychat/parley"
)

// Options tune a Sender. The zero value is ready to use.
type Options struct {
	// Client sends the requests; nil means one with a 10 s timeout that
	// follows no redirects.
	Client *http.Client
	// Retry is the wait after a first failed attempt (10 s); it doubles
	// with each attempt up to MaxRetry (1 h).
	Retry    time.Duration
	MaxRetry time.Duration
	// MaxAttempts gives a delivery up after this many attempts (25).
	MaxAttempts int
	// Poll is how often the backlog is looked at without a Wake (500 ms).
	Poll time.Duration
	// Keep is how long delivered and given-up deliveries stay listed
	// (7 days); older ones are deleted.
	Keep time.Duration
	// Registry receives the delivery metrics; nil skips them.
	Registry prometheus.Registerer
	// Logger receives delivery failures (never payloads); nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Sender captures and delivers webhook events. Run it once per store.
type Sender struct {
	store Store
	opt   Options
	log   *slog.Logger
	now   func() time.Time
	wake  chan struct{}

	attempts *prometheus.CounterVec
	pruned   time.Time // when old deliveries were last deleted
}

// lease hides a claimed delivery from other claims while it is sent
// (longer than a request may take).
const lease = 2 * time.Minute

// New returns a sender over store. It panics when the metrics cannot be
// registered (a second sender on one registry).
func New(store Store, opt Options) *Sender {
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opt.Retry <= 0 {
		opt.Retry = 10 * time.Second
	}
	if opt.MaxRetry <= 0 {
		opt.MaxRetry = time.Hour
	}
	opt.MaxRetry = max(opt.MaxRetry, opt.Retry)
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 25
	}
	if opt.Poll <= 0 {
		opt.Poll = 500 * time.Millisecond
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Keep <= 0 {
		opt.Keep = 7 * 24 * time.Hour
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	s := &Sender{store: store, opt: opt, log: opt.Logger, now: func() time.Time { return now().UTC() },
		wake: make(chan struct{}, 1),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_webhook_attempts_total",
			Help: "Webhook delivery attempts by result: delivered, retry (failed, tried again later) or failed (given up).",
		}, []string{"result"})}
	if opt.Registry != nil {
		opt.Registry.MustRegister(s.attempts)
	}
	return s
}

// Wake makes Run look at the backlog and the deliveries now.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run captures and delivers until ctx ends. Deliveries claimed when it
// stops are sent again after their lease by the next run.
func (s *Sender) Run(ctx context.Context) {
	// Leases of a sender that died are over.
	if err := s.store.ReleaseDeliveries(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("webhook release", "err", err)
	}
	t := time.NewTicker(s.opt.Poll)
	defer t.Stop()
	for {
		s.prune(ctx)
		busy := s.capture(ctx)
		if s.deliver(ctx) {
			busy = true
		}
		if busy {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// prune deletes finished deliveries older than Keep, once an hour.
func (s *Sender) prune(ctx context.Context) {
	now := s.now()
	if now.Sub(s.pruned) < time.Hour {
		return
	}
	s.pruned = now
	if err := s.store.PruneDeliveries(ctx, now.Add(-s.opt.Keep)); err != nil && ctx.Err() == nil {
		s.log.Error("webhook prune", "err", err)
	}
}

// capture turns backlog rows into deliveries; it reports whether there
// were any.
func (s *Sender) capture(ctx context.Context) bool {
	rows, err := s.store.WebhookBacklog(ctx, 200)
	if err != nil || len(rows) == 0 {
		if err != nil && ctx.Err() == nil {
			s.log.Error("webhook backlog", "err", err)
		}
		return false
	}
	hooks := map[int64][]*parley.Webhook{}
	var done []int64
	var out []*parley.WebhookDelivery
	for _, r := range rows {
		if _, ok := hooks[r.TenantID]; !ok {
			if hooks[r.TenantID], err = s.store.Webhooks(ctx, r.TenantID); err != nil {
				s.log.Error("webhook list", "err", err)
				return false
			}
		}
		name, payload, err := s.payload(ctx, r)
		if err != nil {
			s.log.Error("webhook payload", "chat", r.ChatID, "seq", r.Seq, "err", err)
			return false
		}
		done = append(done, r.ID)
		if name == "" {
			continue // nothing a receiver subscribes to
		}
		key := r.ChatID
		if r.Kind == "offline" {
			key = "offline:" + strconv.FormatInt(r.Ref, 10)
		}
		for _, w := range hooks[r.TenantID] {
			if len(w.Events) == 0 || slices.Contains(w.Events, name) {
				out = append(out, &parley.WebhookDelivery{WebhookID: w.ID, TenantID: r.TenantID, ChatID: r.ChatID,
					OrderKey: key, Event: name, Payload: string(payload)})
			}
		}
	}
	if err := s.store.CaptureDeliveries(ctx, done, out); err != nil {
		if ctx.Err() == nil {
			s.log.Error("webhook capture", "err", err)
		}
		return false
	}
	return true
}

// Payload is the JSON body of a delivery.
type Payload struct {
	// ID names the event, the same for every webhook it goes to:
	// "<chat id>:<seq>" for an event of the chat's log, "<chat
	// id>:offer:<n>" for an offer and "offline:<id>" for an offline
	// message.
	ID       string    `json:"id"`
	Event    string    `json:"event"`
	TenantID int64     `json:"tenant_id"`
	ChatID   string    `json:"chat_id,omitempty"`
	Seq      int64     `json:"seq,omitempty"`
	At       time.Time `json:"at"`
	// Data is the chat event as agents see it (message, state, notice),
	// the offer ({"agent_id"}) or the offline message.
	Data any `json:"data"`
	// AgentID is the agent of an accepted chat or an offer.
	AgentID int64 `json:"agent_id,omitempty"`
}

// payload builds the event name and body of a captured change; the name
// is "" for a change no receiver hears about.
func (s *Sender) payload(ctx context.Context, r parley.WebhookCapture) (string, []byte, error) {
	p := Payload{TenantID: r.TenantID, ChatID: r.ChatID, Seq: r.Seq, At: r.At}
	switch r.Kind {
	case "offered":
		p.Event, p.AgentID = EventOffered, r.Ref
		p.ID = fmt.Sprintf("%s:offer:%d", r.ChatID, r.ID)
		p.Data = map[string]int64{"agent_id": r.Ref}
	case "offline":
		m, err := s.store.OfflineMessage(ctx, r.Ref)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return "", nil, nil // erased since
		} else if err != nil {
			return "", nil, err
		}
		p.Event, p.ID, p.At, p.Data = EventOfflineMessage, "offline:"+strconv.FormatInt(m.ID, 10), m.CreatedAt, m
	case "event":
		// The event and the one before it (an agent's join before the
		// state that says the chat is handled).
		evs, err := s.store.Events(ctx, r.ChatID, max(r.Seq-2, 0), 2)
		if err != nil {
			return "", nil, err
		}
		i := slices.IndexFunc(evs, func(e parley.Event) bool { return e.Seq == r.Seq })
		if i < 0 {
			return "", nil, nil // erased since
		}
		e := evs[i]
		p.ID, p.At, p.Data = r.ChatID+":"+strconv.FormatInt(r.Seq, 10), e.At, e
		switch {
		case e.Type == parley.EventJoined && e.Seq == 1 && e.From.Kind == parley.PartyVisitor:
			p.Event = EventRequested
		case e.Type == parley.EventMessage:
			p.Event = EventMessage
		case e.Type == parley.EventState && e.State != nil && e.State.State == parley.StateQueued:
			p.Event = EventQueued
		case e.Type == parley.EventState && e.State != nil && e.State.State == parley.StateHandling:
			p.Event = EventAccepted
			if i > 0 && evs[i-1].Type == parley.EventJoined && evs[i-1].From.Kind == parley.PartyAgent {
				p.AgentID = evs[i-1].From.AgentID
			}
		case e.Type == parley.EventState && e.State != nil && e.State.State == parley.StateTerminated:
			p.Event = EventEnded
		case e.Type == parley.EventNotice && e.Notice == parley.NoticeTransferred:
			p.Event = EventTransferred
		case e.Type == parley.EventNotice && e.Notice == parley.NoticeRated:
			p.Event = EventRating
		}
	}
	if p.Event == "" {
		return "", nil, nil
	}
	body, err := json.Marshal(p)
	return p.Event, body, err
}

// deliver sends the due deliveries, each the head of its chain; it
// reports whether there were any.
func (s *Sender) deliver(ctx context.Context) bool {
	ds, err := s.store.ClaimDeliveries(ctx, s.now(), lease, 32)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("webhook claim", "err", err)
		}
		return false
	}
	if len(ds) == 0 {
		return false
	}
	hooks := map[int64]*parley.Webhook{}
	for _, d := range ds {
		if _, ok := hooks[d.WebhookID]; !ok {
			w, err := s.store.Webhook(ctx, d.WebhookID)
			if err != nil {
				s.log.Error("webhook load", "webhook", d.WebhookID, "err", err)
				return false
			}
			hooks[d.WebhookID] = w
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, d := range ds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.send(ctx, hooks[d.WebhookID], d)
		})
	}
	wg.Wait()
	return true
}

// send makes one attempt at a delivery and records its outcome.
func (s *Sender) send(ctx context.Context, w *parley.Webhook, d *parley.WebhookDelivery) {
	status, err := s.post(ctx, w, d)
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and the next run sends it
	}
	now := s.now()
	if err == nil {
		s.attempts.WithLabelValues("delivered").Inc()
		if err := s.store.MarkDelivered(ctx, d.ID, status, now); err != nil {
			s.log.Error("webhook mark delivered", "delivery", d.ID, "err", err)
		}
		return
	}
	final := d.Attempts >= s.opt.MaxAttempts
	if final {
		s.attempts.WithLabelValues("failed").Inc()
	} else {
		s.attempts.WithLabelValues("retry").Inc()
	}
	wait := s.opt.Retry << min(d.Attempts-1, 30)
	if wait <= 0 || wait > s.opt.MaxRetry {
		wait = s.opt.MaxRetry
	}
	s.log.Warn("webhook delivery failed", "webhook", w.ID, "delivery", d.ID, "attempt", d.Attempts, "status", status,
		"err", err, "final", final)
	if err := s.store.MarkDeliveryFailed(ctx, d.ID, now.Add(wait), status, err.Error(), final); err != nil {
		s.log.Error("webhook mark failed", "delivery", d.ID, "err", err)
	}
}

func (s *Sender) post(ctx context.Context, w *parley.Webhook, d *parley.WebhookDelivery) (int, error) {
	body := []byte(d.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhook/"+parley.Version)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	req.Header.Set(HeaderEvent, d.Event)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	resp, err := s.opt.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
