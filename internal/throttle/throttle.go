// Package throttle slows down password guessing: a Limiter counts failed
// attempts per key (an account, a client address) and locks a key that
// fails too often for a while that doubles with each further failure.
// Failures are forgiven one at a time as time passes, so a lock never
// outlasts the attacks that cause it by much. State is in memory and
// bounded.
package throttle

import (
	"sync"
	"time"
)

// Limits configure a Limiter.
type Limits struct {
	// Failures is how many failures in a row a key may have before it is
	// locked.
	Failures int
	// Lockout is the first lock; each further failure doubles it.
	Lockout time.Duration
	// MaxLockout caps a lock. One failure is forgiven per MaxLockout
	// without failures.
	MaxLockout time.Duration
	// MaxKeys bounds the keys remembered; the least useful are dropped
	// first (10000 if 0).
	MaxKeys int
}

// Limiter counts failures per key. It is safe for concurrent use.
type Limiter struct {
	lim Limits
	now func() time.Time

	mu   sync.Mutex
	keys map[string]*entry
}

type entry struct {
	pending  int       // attempts in flight
	failures int       // not yet forgiven
	at       time.Time // of the last failure or forgiveness
	until    time.Time // locked until
}

// New returns a Limiter; now is its clock (time.Now if nil).
func New(lim Limits, now func() time.Time) *Limiter {
	if lim.Failures < 1 {
		lim.Failures = 1
	}
	if lim.MaxLockout < lim.Lockout {
		lim.MaxLockout = lim.Lockout
	}
	if lim.MaxLockout <= 0 {
		lim.MaxLockout = time.Minute
	}
	if lim.MaxKeys <= 0 {
		lim.MaxKeys = 10000
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{lim: lim, now: now, keys: map[string]*entry{}}
}

// Wait returns how long key is still locked; 0 means it may try now.
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	if !ok {
		return 0
	}
	return max(e.until.Sub(l.now()), 0)
}

// Begin starts an attempt of key. While the key is locked it returns how
// long to wait, and the attempt must not be made. Otherwise it returns 0
// and end, which must be called with the attempt's outcome; end returns
// the lock a failure put the key under. An attempt in flight counts as a
// possible failure, so parallel guesses cannot overrun the limit: one that
// could be the last allowed failure waits (a second) while it is decided.
func (l *Limiter) Begin(key string) (wait time.Duration, end func(failed bool) time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.entry(key, now)
	if now.Before(e.until) {
		return e.until.Sub(now), nil
	}
	if e.pending > 0 && e.failures+e.pending >= l.lim.Failures {
		return time.Second, nil
	}
	e.pending++
	var once sync.Once
	return 0, func(failed bool) (lock time.Duration) {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			e.pending--
			if failed {
				lock = l.fail(e, l.now())
			}
		})
		return lock
	}
}

// Fail records a failure of key and returns the lock it is now under (0:
// none yet).
func (l *Limiter) Fail(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	return l.fail(l.entry(key, now), now)
}

// entry returns key's entry, made if needed.
func (l *Limiter) entry(key string, now time.Time) *entry {
	e, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.lim.MaxKeys {
			l.evict(now)
		}
		e = &entry{at: now}
		l.keys[key] = e
	}
	l.forgive(e, now)
	return e
}

func (l *Limiter) fail(e *entry, now time.Time) time.Duration {
	l.forgive(e, now)
	e.failures++
	e.at = now
	over := e.failures - l.lim.Failures
	if over < 0 {
		return 0
	}
	lock := l.lim.MaxLockout
	if over < 30 {
		lock = min(l.lim.Lockout<<over, l.lim.MaxLockout)
	}
	e.until = now.Add(lock)
	return lock
}

// Succeed forgets key's failures: the account's owner got in.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}

// forgive drops one failure per MaxLockout since the entry last changed.
func (l *Limiter) forgive(e *entry, now time.Time) {
	n := int(now.Sub(e.at) / l.lim.MaxLockout)
	if n <= 0 {
		return
	}
	if e.failures == 0 {
		e.at = now
		return
	}
	e.failures = max(e.failures-n, 0)
	e.at = e.at.Add(time.Duration(n) * l.lim.MaxLockout)
}

// evict makes room: first the keys whose failures are all forgiven, then
// unlocked keys, then any. Map order makes the choice among equals
// arbitrary, which an attacker cannot steer.
func (l *Limiter) evict(now time.Time) {
	for k, e := range l.keys {
		l.forgive(e, now)
		if e.failures == 0 && e.pending == 0 && !now.Before(e.until) {
			delete(l.keys, k)
		}
	}
	if len(l.keys) < l.lim.MaxKeys {
		return
	}
	for k, e := range l.keys {
		if !now.Before(e.until) && e.pending == 0 {
			delete(l.keys, k)
			return
		}
	}
	for k := range l.keys {
		delete(l.keys, k)
		return
	}
}

// Len returns the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
