package throttle

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Rate is how many actions a key may take per period: N at once, and
// then one more each Per/N. The zero Rate is no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads "N/period" (e.g. "10/1h", "3/10m"); "0" or "" is no
// limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not N/period (e.g. 10/1h)", s)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 0 || count > 1_000_000 {
		return Rate{}, fmt.Errorf("%q: the count must be a number from 0 to 1000000", s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d < time.Second || d > 31*24*time.Hour {
		return Rate{}, fmt.Errorf("%q: the period must be a duration from 1s to 744h", s)
	}
	if count == 0 {
		return Rate{}, nil
	}
	return Rate{N: count, Per: d}, nil
}

// String writes r as ParseRate reads it.
func (r Rate) String() string {
	if r.Off() {
		return "0"
	}
	return strconv.Itoa(r.N) + "/" + r.Per.String()
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.N <= 0 || r.Per <= 0 }

// Meter counts actions per key against a Rate (a token bucket kept as
// the one instant when the key's bucket is full again). It is safe for
// concurrent use; its state is in memory and bounded like a Limiter's.
type Meter struct {
	rate    Rate
	now     func() time.Time
	maxKeys int

	mu   sync.Mutex
	full map[string]time.Time // when each key's bucket is full again

	allowed, refused atomic.Int64
}

// NewMeter returns a Meter for rate; now is its clock (time.Now if nil).
// A Meter of the zero Rate allows everything.
func NewMeter(rate Rate, now func() time.Time) *Meter {
	if now == nil {
		now = time.Now
	}
	return &Meter{rate: rate, now: now, maxKeys: 10000, full: map[string]time.Time{}}
}

// Take counts one action of key. It returns 0 when the action may go
// ahead, or how long until it may, and then counts nothing.
func (m *Meter) Take(key string) time.Duration {
	if m == nil || m.rate.Off() {
		return 0
	}
	step := m.rate.Per / time.Duration(m.rate.N)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	full := m.full[key]
	if full.Before(now) {
		full = now
	}
	// A bucket of N holds N steps: the action fits while the bucket
	// would be full again within Per.
	next := full.Add(step)
	if over := next.Sub(now) - m.rate.Per; over > 0 {
		m.refused.Add(1)
		return over
	}
	if _, ok := m.full[key]; !ok && len(m.full) >= m.maxKeys {
		m.evict(now)
	}
	m.full[key] = next
	m.allowed.Add(1)
	return 0
}

// Return gives back an action Take counted for key, when another limit
// refused what it was for.
func (m *Meter) Return(key string) {
	if m == nil || m.rate.Off() {
		return
	}
	step := m.rate.Per / time.Duration(m.rate.N)
	m.mu.Lock()
	defer m.mu.Unlock()
	if full, ok := m.full[key]; ok {
		m.full[key] = full.Add(-step)
	}
	m.allowed.Add(-1)
}

// evict drops the keys whose buckets are full, or else any one key.
func (m *Meter) evict(now time.Time) {
	for k, full := range m.full {
		if !full.After(now) {
			delete(m.full, k)
		}
	}
	for k := range m.full {
		if len(m.full) < m.maxKeys {
			return
		}
		delete(m.full, k)
	}
}

// Refused returns how many actions the meter refused.
func (m *Meter) Refused() int64 {
	if m == nil {
		return 0
	}
	return m.refused.Load()
}

// Allowed returns how many actions the meter let through and counted.
func (m *Meter) Allowed() int64 {
	if m == nil {
		return 0
	}
	return m.allowed.Load()
}
