package turnserver_test

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/turn/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parleychat/parley/internal/turncred"
	"github.com/parleychat/parley/turnserver"
)

const secret = "parley-test-secret"

// calls are the open calls the test's Authorize knows, by credential user.
type calls struct {
	mu   sync.Mutex
	open map[string]bool
}

func (c *calls) set(user string, open bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open[user] = open
}

func (c *calls) authorize(user string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open[user]
}

func start(t *testing.T, c *calls, reg prometheus.Registerer) *turnserver.Server {
	t.Helper()
	s, err := turnserver.Start(turnserver.Config{
		UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
		PublicIP: net.IPv4(127, 0, 0, 1), RelayBind: "127.0.0.1",
		MinPort: 40000, MaxPort: 40999,
		Secret: secret, Authorize: c.authorize, MaxAllocationsPerUser: 2, Registry: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client is a pion TURN client on its own UDP socket.
func client(t *testing.T, s *turnserver.Server, username, password string) *turn.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: s.UDPAddr().String(), TURNServerAddr: s.UDPAddr().String(),
		Username: username, Password: password, Realm: turnserver.DefaultRealm, Conn: conn,
		RTO: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	return c
}

func TestOnlyIssuedCredentials(t *testing.T) {
	open := &calls{open: map[string]bool{"chatA:call1:v": true, "chatB:call2:v": true, "chatC:call3:v": false}}
	reg := prometheus.NewRegistry()
	s := start(t, open, reg)
	now := time.Now()

	name, pw := turncred.Issue(secret, "chatA:call1:v", now.Add(time.Hour))
	relay, err := client(t, s, name, pw).Allocate()
	if err != nil {
		t.Fatalf("issued credentials of an open call: %v", err)
	}
	defer relay.Close()

	// A STUN binding needs no credentials: the server is a STUN server too.
	if addr, err := client(t, s, "", "").SendBindingRequest(); err != nil || !strings.HasPrefix(addr.String(), "127.0.0.1:") {
		t.Errorf("STUN binding: %v %v", addr, err)
	}

	expiredName, expiredPW := turncred.Issue(secret, "chatA:call1:v", now.Add(-time.Second))
	endedName, endedPW := turncred.Issue(secret, "chatC:call3:v", now.Add(time.Hour))
	for _, c := range []struct{ name, username, password string }{
		// chat A's password with chat B (also in a call) put in the name
		{"credentials of another chat", strings.Replace(name, "chatA:call1", "chatB:call2", 1), pw},
		{"expired credentials", expiredName, expiredPW},
		{"credentials of a call that ended", endedName, endedPW},
		{"made-up credentials", "9999999999:chatB:call2:v", "bm90IHRoZSBwYXNzd29yZA=="},
		{"credentials signed with another secret", strings.Replace(name, "chatA:call1", "chatB:call2", 1),
			turncred.Password("guessed", strings.Replace(name, "chatA:call1", "chatB:call2", 1))},
		{"a name not of the scheme", "admin", "admin"},
	} {
		conn, err := client(t, s, c.username, c.password).Allocate()
		if err == nil {
			conn.Close()
			t.Errorf("%s: allocated; want refused", c.name)
		} else if !strings.Contains(err.Error(), "error 400") {
			// pion answers a refused credential with 400, so that
			// clients do not retry it.
			t.Errorf("%s: %v; want the credentials refused (400)", c.name, err)
		}
	}

	// The relay carries data, both ways, and counts it.
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := relay.WriteTo([]byte("hello peer"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hello peer" || from.String() != relay.LocalAddr().String() {
		t.Fatalf("peer read %q from %v (%v); want the data from the relay %v", buf[:n], from, err, relay.LocalAddr())
	}
	if _, err := peer.WriteTo([]byte("hello client"), from); err != nil {
		t.Fatal(err)
	}
	relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := relay.ReadFrom(buf); err != nil || !bytes.Equal(buf[:n], []byte("hello client")) {
		t.Fatalf("client read %q, %v", buf[:n], err)
	}
	out, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range out {
		got[mf.GetName()] = true
	}
	for _, want := range []string{"parley_turn_allocations", "parley_turn_relayed_bytes_total", "parley_turn_refused_credentials_total"} {
		if !got[want] {
			t.Errorf("metric %s missing", want)
		}
	}
	if v := testutil.ToFloat64(mustCollector(t, reg, "parley_turn_allocations")); v != 1 {
		t.Errorf("parley_turn_allocations = %v; want 1", v)
	}
	// Expired, ended-call and malformed names are refused before the
	// password is looked at; the rest fail the message integrity check.
	if v := testutil.ToFloat64(mustCounter(t, reg, "parley_turn_refused_credentials_total")); v != 3 {
		t.Errorf("parley_turn_refused_credentials_total = %v; want 3", v)
	}
}

func TestAllocationLimitPerUser(t *testing.T) {
	open := &calls{open: map[string]bool{"chatA:call1:v": true, "chatA:call1:a7": true}}
	s := start(t, open, nil)
	name, pw := turncred.Issue(secret, "chatA:call1:v", time.Now().Add(time.Hour))
	for i := range 2 {
		relay, err := client(t, s, name, pw).Allocate()
		if err != nil {
			t.Fatalf("allocation %d of 2: %v", i+1, err)
		}
		defer relay.Close()
	}
	// Fresh credentials of the same party count against the same limit.
	again, againPW := turncred.Issue(secret, "chatA:call1:v", time.Now().Add(2*time.Hour))
	if relay, err := client(t, s, again, againPW).Allocate(); err == nil {
		relay.Close()
		t.Fatal("a third allocation of the same party was granted; the limit is 2")
	} else if !strings.Contains(err.Error(), "486") && !strings.Contains(err.Error(), "Quota") {
		t.Fatalf("the third allocation: %v; want 486 Allocation Quota Reached", err)
	}
	// The other party of the call is not held back.
	agent, agentPW := turncred.Issue(secret, "chatA:call1:a7", time.Now().Add(time.Hour))
	relay, err := client(t, s, agent, agentPW).Allocate()
	if err != nil {
		t.Fatalf("the agent's allocation: %v", err)
	}
	relay.Close()
}

// TURN over TCP, for networks that let no UDP out.
func TestTCP(t *testing.T) {
	open := &calls{open: map[string]bool{"chatA:call1:v": true}}
	s := start(t, open, nil)
	tcp, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	name, pw := turncred.Issue(secret, "chatA:call1:v", time.Now().Add(time.Hour))
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: s.TCPAddr().String(), TURNServerAddr: s.TCPAddr().String(),
		Username: name, Password: pw, Realm: turnserver.DefaultRealm, Conn: turn.NewSTUNConn(tcp),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocation over TCP: %v", err)
	}
	relay.Close()
}

func mustCollector(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	return collectorFunc(func(ch chan<- prometheus.Metric) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				for _, m := range mf.GetMetric() {
					ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, "", nil, nil), prometheus.GaugeValue, m.GetGauge().GetValue())
				}
			}
		}
	})
}

func mustCounter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	return collectorFunc(func(ch chan<- prometheus.Metric) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				for _, m := range mf.GetMetric() {
					ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, "", nil, nil), prometheus.CounterValue, m.GetCounter().GetValue())
				}
			}
		}
	})
}

type collectorFunc func(chan<- prometheus.Metric)

func (f collectorFunc) Describe(chan<- *prometheus.Desc)    {}
func (f collectorFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }
