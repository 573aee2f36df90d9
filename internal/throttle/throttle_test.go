package throttle

import (
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// TestBackoffDoublesAndDecays: the lock doubles with each failure past the
// limit, is capped, and failures are forgiven with quiet time, so a lock
// never lasts forever.
func TestBackoffDoublesAndDecays(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	l := New(Limits{Failures: 3, Lockout: time.Minute, MaxLockout: 8 * time.Minute}, clk.now)
	for i := range 2 {
		if lock := l.Fail("a"); lock != 0 {
			t.Fatalf("failure %d locked for %v", i+1, lock)
		}
	}
	var locks []time.Duration
	for range 6 {
		lock := l.Fail("a")
		if got := l.Wait("a"); got != lock {
			t.Fatalf("Wait = %v; want %v", got, lock)
		}
		locks = append(locks, lock)
		clk.t = clk.t.Add(lock) // the attacker waits out each lock
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 8 * time.Minute, 8 * time.Minute}
	for i := range want {
		if locks[i] != want[i] {
			t.Fatalf("locks = %v; want %v", locks, want)
		}
	}
	if l.Wait("a") != 0 {
		t.Fatal("still locked after the lock ran out")
	}
	// Long quiet forgives every failure: the next one does not lock.
	clk.t = clk.t.Add(time.Hour)
	if lock := l.Fail("a"); lock != 0 {
		t.Fatalf("after an hour of quiet a failure locks for %v", lock)
	}
	l.Succeed("a")
	if l.Len() != 0 {
		t.Fatal("success left state behind")
	}
}

// TestBoundedMemory: a flood of keys never holds more than MaxKeys.
func TestBoundedMemory(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	l := New(Limits{Failures: 1, Lockout: time.Minute, MaxLockout: time.Hour, MaxKeys: 100}, clk.now)
	for i := range 10000 {
		// Failures: 1 locks every key; make most of them expire.
		l.Fail("k" + strconv.Itoa(i))
		clk.t = clk.t.Add(time.Second)
		if n := l.Len(); n > 100 {
			t.Fatalf("%d keys held; the bound is 100", n)
		}
	}
}

// TestClientAddr: X-Forwarded-For counts only from trusted proxies, and
// then the nearest untrusted hop is the client.
func TestClientAddr(t *testing.T) {
	trusted, err := ParseProxies([]string{"10.0.0.0/8", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		peer, xff, want string
	}{
		{"198.51.100.9:1234", "203.0.113.5", "198.51.100.9"}, // untrusted peer: XFF ignored
		{"10.1.2.3:1234", "203.0.113.5", "203.0.113.5"},
		{"10.1.2.3:1234", "1.1.1.1, 203.0.113.5, 192.0.2.1", "203.0.113.5"}, // forged left part skipped
		{"10.1.2.3:1234", "", "10.1.2.3"},
		{"10.1.2.3:1234", "junk, 203.0.113.5", "203.0.113.5"},
		{"[::ffff:10.1.2.3]:1234", "2001:db8::1", "2001:db8::1"},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := trusted.ClientAddr(r); got != netip.MustParseAddr(tc.want) {
			t.Errorf("peer %s XFF %q = %v; want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	if AddrKey(netip.MustParseAddr("2001:db8:1:2:3::4")) != AddrKey(netip.MustParseAddr("2001:db8:1:2:ffff::1")) {
		t.Error("one IPv6 /64 counts as several clients")
	}
	if _, err := ParseProxies([]string{"not-an-ip"}); err == nil {
		t.Error("a bad proxy address was accepted")
	}
}

// TestPendingCountsAsFailure: attempts in flight are counted, so parallel
// attempts stop at the limit; a finished attempt frees its place.
func TestPendingCountsAsFailure(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	l := New(Limits{Failures: 3, Lockout: time.Minute, MaxLockout: time.Hour}, clk.now)
	var ends []func(bool) time.Duration
	for i := range 3 {
		wait, end := l.Begin("a")
		if wait != 0 || end == nil {
			t.Fatalf("attempt %d refused (%v) below the limit", i+1, wait)
		}
		ends = append(ends, end)
	}
	if wait, end := l.Begin("a"); wait == 0 || end != nil {
		t.Fatal("a fourth parallel attempt was allowed")
	}
	ends[0](false) // the right password: not a failure
	wait, end := l.Begin("a")
	if wait != 0 {
		t.Fatal("a freed place was not given again")
	}
	end(true)
	ends[1](true)
	if lock := ends[2](true); lock != time.Minute || l.Wait("a") != time.Minute {
		t.Fatalf("third failure locked for %v; want 1m", lock)
	}
}
