package calendar

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/parleychat/parley/conversation"
)

// Options configure a Source. Zero values take the defaults.
type Options struct {
	// Interval is how often agents' entries are checked against the
	// clock (1 min): the delay with which a meeting's start and end take
	// effect.
	Interval time.Duration
	// Refresh is how often a feed is fetched again (5 min).
	Refresh time.Duration
	// Location is the zone of floating times and dates (time.Local).
	Location *time.Location
	// Client fetches the feeds (10 s timeout).
	Client *http.Client
	// Clock is the time the entries are checked at (the wall clock).
	Clock conversation.Clock
	// Logger receives fetch failures (never the feed's address, which is
	// often its credential); nil discards.
	Logger *slog.Logger
}

// MaxFeedSize bounds a feed (5 MiB).
const MaxFeedSize = 5 << 20

// Source is the calendar presence source.
type Source struct {
	svc *conversation.Service
	opt Options

	mu    sync.Mutex // guards feeds; one Check at a time
	feeds map[int64]*feed
}

// feed is an agent's last fetched feed.
type feed struct {
	url     string
	fetched time.Time
	events  []Event
}

// New returns the calendar source over svc.
func New(svc *conversation.Service, opt Options) *Source {
	if opt.Interval <= 0 {
		opt.Interval = time.Minute
	}
	if opt.Refresh <= 0 {
		opt.Refresh = 5 * time.Minute
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.Clock == nil {
		opt.Clock = wallClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Source{svc: svc, opt: opt, feeds: map[int64]*feed{}}
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }
func (wallClock) AfterFunc(d time.Duration, f func()) conversation.Timer {
	return time.AfterFunc(d, f)
}

// Run checks at once and then every Options.Interval until ctx ends.
func (s *Source) Run(ctx context.Context) {
	for {
		if err := s.Check(ctx); err != nil && ctx.Err() == nil {
			s.opt.Logger.Error("calendar check failed", "err", err)
		}
		wake := make(chan struct{})
		t := s.opt.Clock.AfterFunc(s.opt.Interval, func() { close(wake) })
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		}
	}
}

// Check fetches the feeds that are due and tells the service which
// agents are in a meeting now. A feed that cannot be fetched keeps its
// last entries; one never fetched counts as free.
func (s *Source) Check(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	agents, err := s.svc.CalendarAgents(ctx)
	if err != nil {
		return err
	}
	now := s.opt.Clock.Now()
	keep := make(map[int64]bool, len(agents))
	for _, a := range agents {
		keep[a.ID] = true
		f := s.feeds[a.ID]
		if f == nil || f.url != a.URL {
			f = &feed{url: a.URL}
			s.feeds[a.ID] = f
		}
		if f.fetched.IsZero() || now.Sub(f.fetched) >= s.opt.Refresh {
			events, err := s.fetch(ctx, a.URL)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.opt.Logger.Warn("calendar feed not read", "agent", a.ID, "err", err)
			} else {
				f.events = events
			}
			f.fetched = now // a failing feed is retried at the next refresh
		}
		busy := Busy(f.events, now)
		if busy != a.InMeeting {
			if _, err := s.svc.SetInMeeting(ctx, a.ID, busy); err != nil {
				return err
			}
		}
	}
	for id := range s.feeds {
		if !keep[id] {
			delete(s.feeds, id)
		}
	}
	return nil
}

// fetch reads and parses one feed.
func (s *Source) fetch(ctx context.Context, url string) ([]Event, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("bad feed address")
	}
	req.Header.Set("Accept", "text/calendar")
	resp, err := s.opt.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the feed failed") // the error holds the address
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the feed answered %s", resp.Status)
	}
	body := io.LimitReader(resp.Body, MaxFeedSize+1)
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("reading the feed failed")
	}
	if len(data) > MaxFeedSize {
		return nil, fmt.Errorf("the feed is larger than %d bytes", MaxFeedSize)
	}
	return Parse(bytes.NewReader(data), s.opt.Location)
}
