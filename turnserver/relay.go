package turnserver

import (
	"net"
	"sync"
	"time"

	"github.com/pion/turn/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// relayGenerator hands out relay sockets in the port range, wrapped to
// count and limit what they carry.
type relayGenerator struct {
	inner turn.RelayAddressGeneratorPortRange
	s     *Server
}

func (g *relayGenerator) Validate() error { return g.inner.Validate() }

func (g *relayGenerator) AllocatePacketConn(network string, port int) (net.PacketConn, net.Addr, error) {
	conn, addr, err := g.inner.AllocatePacketConn(network, port)
	if err != nil {
		return nil, nil, err
	}
	return &relayConn{PacketConn: conn, s: g.s}, addr, nil
}

func (g *relayGenerator) AllocateConn(network string, port int) (net.Conn, net.Addr, error) {
	return g.inner.AllocateConn(network, port)
}

// relayConn is one allocation's relay socket: every datagram to or from a
// peer is counted, and dropped when the server is over its bandwidth.
type relayConn struct {
	net.PacketConn
	s *Server
}

func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if !c.s.limiter.take(len(p)) {
		c.s.metrics.dropped.Inc()
		return len(p), nil // a lost datagram, as UDP may lose any
	}
	n, err := c.PacketConn.WriteTo(p, addr)
	c.s.metrics.bytes.WithLabelValues("to_peer").Add(float64(n))
	return n, err
}

func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || c.s.limiter.take(n) {
			c.s.metrics.bytes.WithLabelValues("from_peer").Add(float64(n))
			return n, addr, err
		}
		c.s.metrics.dropped.Inc()
	}
}

// limiter is a token bucket of bytes shared by all relays: it holds at
// most one second of traffic.
type limiter struct {
	rate int64 // bytes per second; 0 is no limit
	now  func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newLimiter(rate int64, now func() time.Time) *limiter {
	return &limiter{rate: rate, now: now, tokens: float64(rate), last: now()}
}

// take reports whether n bytes may pass now, and spends them if so.
func (l *limiter) take(n int) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	l.tokens = min(float64(l.rate), l.tokens+t.Sub(l.last).Seconds()*float64(l.rate))
	l.last = t
	if l.tokens < float64(n) {
		return false
	}
	l.tokens -= float64(n)
	return true
}

// metrics are the server's Prometheus series.
type metrics struct {
	bytes   *prometheus.CounterVec
	dropped prometheus.Counter
	authErr prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *Server) *metrics {
	m := &metrics{
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_turn_relayed_bytes_total", Help: "Bytes the built-in TURN server relayed, by direction.",
		}, []string{"direction"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_turn_dropped_packets_total", Help: "Relayed packets dropped over the bandwidth limit.",
		}),
		authErr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_turn_refused_credentials_total", Help: "TURN requests refused for expired, unknown or ended-call credentials.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.bytes, m.dropped, m.authErr, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_turn_allocations", Help: "Live allocations on the built-in TURN server.",
		}, func() float64 { return float64(s.allocations()) }))
	}
	return m
}

func (m *metrics) refused() { m.authErr.Inc() }
