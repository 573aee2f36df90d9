package conversation

import (
	"strconv"
	"time"

	"github.com/parleychat/parley"
)

// HealthKPI is the node's load as the health endpoint reports it (Genesys
// Chat Server's KPIs): counts since the process started, current levels,
// and rates per second.
type HealthKPI struct {
	At            time.Time `json:"at"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	// Sessions counts the chats active on this node; SessionLimit is
	// limit-for-sessions (0: none) and SessionsRefused the requests it
	// turned away.
	Sessions        int   `json:"sessions"`
	SessionLimit    int   `json:"session_limit"`
	SessionsRefused int64 `json:"sessions_refused"`
	// FlexUsers counts the visitors of active chats who are connected (a
	// WebSocket, a long-poll or its grace).
	FlexUsers int `json:"flex_users"`
	// Opened and Closed count chats requested and ended since start.
	Opened int64 `json:"opened"`
	Closed int64 `json:"closed"`
	// MessagesIn are visitors' messages, MessagesOut those of agents,
	// bots and integrations.
	MessagesIn  int64 `json:"messages_in"`
	MessagesOut int64 `json:"messages_out"`
	Offers      int64 `json:"offers"`
	// Queued is the number of chats waiting, QueueLengths the same by
	// group ID.
	Queued       int              `json:"queued"`
	QueueLengths map[string]int   `json:"queue_lengths"`
	ServiceLevel HealthKPIService `json:"service_level"`
	Rates        HealthKPIRates   `json:"rates"`
}

// HealthKPIService is the service level of the chats ended since start:
// the share of answered and abandoned chats answered within the
// threshold, -1 when there are none.
type HealthKPIService struct {
	ThresholdSeconds int     `json:"threshold_seconds"`
	Answered         int64   `json:"answered"`
	AnsweredInTime   int64   `json:"answered_in_time"`
	Abandoned        int64   `json:"abandoned"`
	Value            float64 `json:"value"`
}

// HealthKPIRates are per second, averaged over WindowSeconds: since the
// oldest earlier reading of the last minute, or since start.
type HealthKPIRates struct {
	WindowSeconds float64 `json:"window_seconds"`
	Opens         float64 `json:"opens"`
	Closes        float64 `json:"closes"`
	MessagesIn    float64 `json:"messages_in"`
	MessagesOut   float64 `json:"messages_out"`
}

type kpiSample struct {
	at                            time.Time
	opened, closed, msgIn, msgOut int64
}

// kpiWindow is how far back rates look.
const kpiWindow = time.Minute

// HealthKPI returns the node's KPIs at now.
func (s *Service) HealthKPI(now time.Time) HealthKPI {
	st := s.Stats()
	k := HealthKPI{At: now.UTC(), Opened: st.ChatsRequested, Offers: st.Offers, QueueLengths: map[string]int{}}
	for _, n := range st.ChatsEnded {
		k.Closed += n
	}
	for kind, n := range st.Messages {
		if kind == string(parley.PartyVisitor) {
			k.MessagesIn += n
		} else if kind != string(parley.PartySystem) {
			k.MessagesOut += n
		}
	}
	for g, n := range s.QueueLengths() {
		k.QueueLengths[strconv.FormatInt(g, 10)] = n
		k.Queued += n
	}
	s.tmu.Lock()
	for _, t := range s.timers {
		if t.conns > 0 || t.poll != nil {
			k.FlexUsers++
		}
	}
	s.tmu.Unlock()

	g := s.sessions
	g.mu.Lock()
	defer g.mu.Unlock()
	k.UptimeSeconds = round1(now.Sub(g.started).Seconds())
	k.Sessions, k.SessionLimit, k.SessionsRefused = len(g.active), g.limit, g.refused
	k.ServiceLevel = HealthKPIService{ThresholdSeconds: int(g.threshold / time.Second),
		Answered: g.answered, AnsweredInTime: g.inTime, Abandoned: g.abandoned, Value: -1}
	if n := g.answered + g.abandoned; n > 0 {
		k.ServiceLevel.Value = float64(int(float64(g.inTime)/float64(n)*1000+0.5)) / 1000
	}

	cur := kpiSample{at: now, opened: k.Opened, closed: k.Closed, msgIn: k.MessagesIn, msgOut: k.MessagesOut}
	// Readings older than the window are dropped, the oldest kept one is
	// the base; without one the base is the start, when all were zero.
	kept := g.samples[:0]
	for _, p := range g.samples {
		if now.Sub(p.at) <= kpiWindow && p.at.Before(now) {
			kept = append(kept, p)
		}
	}
	base := kpiSample{at: g.started}
	if len(kept) > 0 {
		base = kept[0]
	}
	if d := now.Sub(base.at).Seconds(); d > 0 {
		rate := func(a, b int64) float64 { return float64(int(float64(a-b)/d*1000+0.5)) / 1000 }
		k.Rates = HealthKPIRates{WindowSeconds: round1(d), Opens: rate(cur.opened, base.opened),
			Closes: rate(cur.closed, base.closed), MessagesIn: rate(cur.msgIn, base.msgIn), MessagesOut: rate(cur.msgOut, base.msgOut)}
	}
	if len(kept) >= 64 {
		kept = kept[1:]
	}
	g.samples = append(kept, cur)
	return k
}
