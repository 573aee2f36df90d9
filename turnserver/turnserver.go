// Package turnserver is Parley's built-in STUN/TURN server, on pion/turn:
// it relays the media of calls whose browsers cannot reach each other
// directly. It accepts only credentials Parley issued (package
// internal/turncred: a valid HMAC under the shared secret, not expired,
// and naming a call that is still open), limits the allocations of each
// call party and the bandwidth of all relays together, and counts both on
// a Prometheus registry.
package turnserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/turn/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleychat/parley/internal/turncred"
)

// Config configures the server. Secret, PublicIP and at least one of
// UDPAddr and TCPAddr are required.
type Config struct {
	// UDPAddr and TCPAddr are where clients reach the server
	// ("0.0.0.0:3478"); either may be empty. TCP serves networks that
	// let no UDP out (run it on port 443 behind nothing else there).
	UDPAddr, TCPAddr string
	// PublicIP is the address relays are announced at: the server's
	// public address, or the NAT's in front of it.
	PublicIP net.IP
	// RelayBind is the local address relay sockets bind to ("0.0.0.0").
	RelayBind string
	// MinPort and MaxPort bound the relay ports (49152–65535).
	MinPort, MaxPort uint16
	// Realm is the TURN realm ("parley").
	Realm string
	// Secret is shared with the issuer of credentials.
	Secret string
	// Authorize says whether a credential's user (chat:call:party) may
	// still allocate: Parley answers whether the call is open. Nil
	// accepts any validly signed, unexpired credential.
	Authorize func(user string) bool
	// MaxAllocationsPerUser bounds one call party's live allocations (4).
	MaxAllocationsPerUser int
	// MaxBandwidth bounds the bytes per second all relays carry together;
	// packets over it are dropped. 0 is no limit.
	MaxBandwidth int64
	// Registry receives the metrics; nil skips them.
	Registry prometheus.Registerer
	// Logger logs refusals (never credentials); nil discards.
	Logger *slog.Logger
	// Now is the clock for expiry checks; nil is time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultRealm                 = "parley"
	DefaultMinPort               = 49152
	DefaultMaxPort               = 65535
	DefaultMaxAllocationsPerUser = 4
)

// Server is a running TURN server.
type Server struct {
	cfg     Config
	turn    *turn.Server
	udp     net.PacketConn
	tcp     net.Listener
	limiter *limiter
	metrics *metrics

	mu    sync.Mutex
	users map[string]int // live allocations per credential user
}

// Start listens and serves until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Secret == "" {
		return nil, errors.New("turnserver: a shared secret is required")
	}
	if cfg.PublicIP == nil {
		return nil, errors.New("turnserver: the public address is required")
	}
	if cfg.UDPAddr == "" && cfg.TCPAddr == "" {
		return nil, errors.New("turnserver: neither a UDP nor a TCP address to listen on")
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if cfg.RelayBind == "" {
		cfg.RelayBind = "0.0.0.0"
	}
	if cfg.MinPort == 0 {
		cfg.MinPort = DefaultMinPort
	}
	if cfg.MaxPort == 0 {
		cfg.MaxPort = DefaultMaxPort
	}
	if cfg.MinPort > cfg.MaxPort {
		return nil, fmt.Errorf("turnserver: relay port range %d–%d is empty", cfg.MinPort, cfg.MaxPort)
	}
	if cfg.MaxAllocationsPerUser <= 0 {
		cfg.MaxAllocationsPerUser = DefaultMaxAllocationsPerUser
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, users: map[string]int{}, limiter: newLimiter(cfg.MaxBandwidth, cfg.Now)}
	s.metrics = newMetrics(cfg.Registry, s)

	gen := &relayGenerator{
		inner: turn.RelayAddressGeneratorPortRange{RelayAddress: cfg.PublicIP, Address: cfg.RelayBind,
			MinPort: cfg.MinPort, MaxPort: cfg.MaxPort},
		s: s,
	}
	sc := turn.ServerConfig{
		Realm:        cfg.Realm,
		AuthHandler:  s.auth,
		QuotaHandler: s.quota,
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, _, username, _ string, _ net.Addr, _ int) { s.allocated(username, 1) },
			OnAllocationDeleted: func(_, _ net.Addr, _, username, _ string) { s.allocated(username, -1) },
		},
	}
	if cfg.UDPAddr != "" {
		conn, err := net.ListenPacket("udp", cfg.UDPAddr)
		if err != nil {
			return nil, fmt.Errorf("turnserver: listen udp: %w", err)
		}
		s.udp = conn
		sc.PacketConnConfigs = []turn.PacketConnConfig{{PacketConn: conn, RelayAddressGenerator: gen, PermissionHandler: s.permit}}
	}
	if cfg.TCPAddr != "" {
		l, err := net.Listen("tcp", cfg.TCPAddr)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("turnserver: listen tcp: %w", err)
		}
		s.tcp = l
		sc.ListenerConfigs = []turn.ListenerConfig{{Listener: l, RelayAddressGenerator: gen, PermissionHandler: s.permit}}
	}
	ts, err := turn.NewServer(sc)
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("turnserver: %w", err)
	}
	s.turn = ts
	return s, nil
}

// UDPAddr and TCPAddr return where the server listens (nil when not).
func (s *Server) UDPAddr() net.Addr {
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

// TCPAddr returns the TCP listener's address, or nil.
func (s *Server) TCPAddr() net.Addr {
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

// Close stops the server and its relays.
func (s *Server) Close() error {
	return s.turn.Close()
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
}

// auth answers the key of a credential Parley issued: signed with the
// secret (the client proves it knows the password derived here), not
// expired, and for a call that is still open.
func (s *Server) auth(username, realm string, src net.Addr) ([]byte, bool) {
	user, _, err := turncred.Parse(username, s.cfg.Now())
	if err == nil && s.cfg.Authorize != nil && !s.cfg.Authorize(user) {
		err = errors.New("the call is not open")
	}
	if err != nil {
		s.metrics.refused()
		s.cfg.Logger.Debug("turn credentials refused", "from", src.String(), "err", err)
		return nil, false
	}
	return turn.GenerateAuthKey(username, realm, turncred.Password(s.cfg.Secret, username)), true
}

// quota allows a new allocation while the credential's user has fewer
// than the limit.
func (s *Server) quota(username, _ string, src net.Addr) bool {
	s.mu.Lock()
	n := s.users[userOf(username)]
	s.mu.Unlock()
	if n >= s.cfg.MaxAllocationsPerUser {
		s.cfg.Logger.Info("turn allocation quota reached", "from", src.String())
		return false
	}
	return true
}

func (s *Server) allocated(username string, delta int) {
	u := userOf(username)
	s.mu.Lock()
	if s.users[u] += delta; s.users[u] <= 0 {
		delete(s.users, u)
	}
	s.mu.Unlock()
}

// allocations returns the live allocations.
func (s *Server) allocations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.users {
		n += c
	}
	return n
}

// userOf strips the expiry from a credential's user name: a party that
// fetches fresh credentials is still the same user.
func userOf(username string) string {
	_, u, _ := strings.Cut(username, ":")
	return u
}

// permit refuses relaying to addresses no call peer has: loopback,
// link-local (cloud metadata services live there), multicast and
// unspecified ones, unless the address is the server's own public one
// (both browsers relayed through this server).
func (s *Server) permit(_ net.Addr, peer net.IP) bool {
	if peer.Equal(s.cfg.PublicIP) {
		return true
	}
	return !(peer.IsLoopback() || peer.IsLinkLocalUnicast() || peer.IsLinkLocalMulticast() ||
		peer.IsMulticast() || peer.IsUnspecified() || peer.IsInterfaceLocalMulticast())
}
