package conversation

import (
	"sync"
	"time"

	"github.com/parleychat/parley"
)

// sessionGate counts this node's active chats and enforces
// Config.LimitForSessions (Genesys limit-for-sessions): at the limit a
// chat request fails with EUNAVAILABLE before anything is created. It
// also keeps the figures of ended chats that the health KPIs report.
//
// A request reserves a place before it creates the visitor and the chat
// and gives it back when it fails, so concurrent requests never exceed
// the limit. The count is per node, like routing.
type sessionGate struct {
	limit int // 0: no limit

	mu       sync.Mutex
	active   map[string]struct{}
	reserved int   // requests between reserve and commit or release
	refused  int64 // requests refused at the limit

	answered, inTime, abandoned int64 // chats ended since start
	threshold                   time.Duration

	samples []kpiSample // earlier KPI readings, for rates
	started time.Time
}

func newSessionGate(limit int, threshold time.Duration) *sessionGate {
	return &sessionGate{limit: max(limit, 0), active: map[string]struct{}{}, threshold: threshold, started: time.Now()}
}

// errAtLimit is what a chat request gets when the node is full.
var errAtLimit = parley.Errorf(parley.EUNAVAILABLE, "The service is unavailable: too many chats are in progress. Please try again later.")

// reserve takes a place for a new chat. The returned slot must be
// committed with the chat's ID or released.
func (g *sessionGate) reserve() (*sessionSlot, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limit > 0 && len(g.active)+g.reserved >= g.limit {
		g.refused++
		return nil, errAtLimit
	}
	g.reserved++
	return &sessionSlot{g: g}, nil
}

// sessionSlot is a reserved place; release after commit does nothing.
type sessionSlot struct {
	g    *sessionGate
	done bool
}

func (s *sessionSlot) commit(chatID string) {
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	if !s.done {
		s.done = true
		s.g.reserved--
		s.g.active[chatID] = struct{}{}
	}
}

func (s *sessionSlot) release() {
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	if !s.done {
		s.done = true
		s.g.reserved--
	}
}

// restored counts a chat that was active when the node started.
func (g *sessionGate) restored(chatID string) {
	g.mu.Lock()
	g.active[chatID] = struct{}{}
	g.mu.Unlock()
}

// ended frees the place of a chat that ended and adds it to the service
// level figures.
func (g *sessionGate) ended(c *parley.Chat) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.active, c.ID)
	switch {
	case !c.AcceptedAt.IsZero():
		g.answered++
		if c.AcceptedAt.Sub(c.CreatedAt) <= g.threshold {
			g.inTime++
		}
	case abandoned(c):
		g.abandoned++
	}
}
