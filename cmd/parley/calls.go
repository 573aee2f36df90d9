package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/turnserver"
)

// callLive holds the function that reports whether a call is open; the
// built-in TURN server asks it about every credential. It is set once the
// service exists; until then every credential is refused.
type callLive struct {
	fn atomic.Pointer[func(ctx context.Context, chatID, callID string) bool]
}

func (l *callLive) set(fn func(ctx context.Context, chatID, callID string) bool) { l.fn.Store(&fn) }

func (l *callLive) open(ctx context.Context, chatID, callID string) bool {
	fn := l.fn.Load()
	return fn != nil && (*fn)(ctx, chatID, callID)
}

// startCalls starts the built-in TURN server when configured and returns
// the ICE configuration of calls. live is called only after the service
// is set in it.
func startCalls(cfg *Config, live *callLive, reg prometheus.Registerer, log *slog.Logger) (conversation.ICEConfig, func(), error) {
	ice := conversation.ICEConfig{TURN: cfg.TURNURLs, Secret: cfg.TURNSecret, CredentialTTL: cfg.ICECredentialTTL}
	var fixed, withCreds []string
	for _, u := range cfg.ICEServers {
		if strings.HasPrefix(u, "turn") {
			withCreds = append(withCreds, u)
		} else {
			fixed = append(fixed, u)
		}
	}
	if len(fixed) > 0 {
		ice.Servers = append(ice.Servers, conversation.ICEServer{URLs: fixed})
	}
	if len(withCreds) > 0 {
		ice.Servers = append(ice.Servers, conversation.ICEServer{URLs: withCreds, Username: cfg.ICEUsername, Credential: cfg.ICECredential})
	}
	if !cfg.TURN {
		return ice, func() {}, nil
	}
	if ice.Secret == "" {
		var b [32]byte
		_, _ = rand.Read(b[:])
		ice.Secret = base64.RawStdEncoding.EncodeToString(b[:])
	}
	ts, err := turnserver.Start(turnserver.Config{
		UDPAddr: cfg.TURNUDP, TCPAddr: cfg.TURNTCP, PublicIP: net.ParseIP(cfg.TURNPublicIP),
		MinPort: uint16(cfg.TURNMinPort), MaxPort: uint16(cfg.TURNMaxPort), Realm: cfg.TURNRealm,
		Secret: ice.Secret, MaxAllocationsPerUser: cfg.TURNAllocations, MaxBandwidth: int64(cfg.TURNBandwidth) * 1000 / 8,
		Registry: reg, Logger: log,
		Authorize: func(user string) bool {
			chatID, rest, _ := strings.Cut(user, ":")
			callID, _, _ := strings.Cut(rest, ":")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return live.open(ctx, chatID, callID)
		},
	})
	if err != nil {
		return ice, nil, err
	}
	host := cfg.TURNPublicIP
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	var urls []string
	if a := ts.UDPAddr(); a != nil {
		port := a.(*net.UDPAddr).Port
		ice.Servers = append(ice.Servers, conversation.ICEServer{URLs: []string{fmt.Sprintf("stun:%s:%d", host, port)}})
		urls = append(urls, fmt.Sprintf("turn:%s:%d?transport=udp", host, port))
	}
	if a := ts.TCPAddr(); a != nil {
		urls = append(urls, fmt.Sprintf("turn:%s:%d?transport=tcp", host, a.(*net.TCPAddr).Port))
	}
	ice.TURN = append(urls, ice.TURN...)
	log.Info("built-in TURN server listening", "udp", cfg.TURNUDP, "tcp", cfg.TURNTCP, "public_ip", cfg.TURNPublicIP,
		"relay_ports", fmt.Sprintf("%d-%d", cfg.TURNMinPort, cfg.TURNMaxPort))
	return ice, func() { ts.Close() }, nil
}
