package conversation

import (
	"context"
	"net/netip"
	"strconv"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/throttle"
)

// AbuseLimits bound how often one visitor address, one visitor or one
// API key may make the server create things or send mail. A zero Rate is
// no limit. Over a limit the call fails with ETOOMANY carrying the delay
// (parley.RetryError) before anything is created. Counts are per node
// and in memory; addresses are counted as throttle.AddrKey groups them
// (IPv6 by /64).
type AbuseLimits struct {
	// ChatRequestsPerAddr bounds chat requests per visitor address.
	ChatRequestsPerAddr throttle.Rate
	// TranscriptsPerVisitor and TranscriptsPerAddr bound the transcript
	// mails visitors ask for, per visitor and per address.
	TranscriptsPerVisitor throttle.Rate
	TranscriptsPerAddr    throttle.Rate
	// OfflinePerAddr bounds offline messages per visitor address.
	OfflinePerAddr throttle.Rate
	// APICallsPerKey bounds integration API calls per API key.
	APICallsPerKey throttle.Rate
}

// Abuse limit names, as LimitCounts reports them.
const (
	LimitChatRequestsPerAddr   = "chat_requests_per_addr"
	LimitTranscriptsPerVisitor = "transcripts_per_visitor"
	LimitTranscriptsPerAddr    = "transcripts_per_addr"
	LimitOfflinePerAddr        = "offline_messages_per_addr"
	LimitAPICallsPerKey        = "api_calls_per_key"
)

// abuseMeters are the meters of Config.Limits.
type abuseMeters map[string]*throttle.Meter

func newAbuseMeters(l AbuseLimits, now func() time.Time) abuseMeters {
	return abuseMeters{
		LimitChatRequestsPerAddr:   throttle.NewMeter(l.ChatRequestsPerAddr, now),
		LimitTranscriptsPerVisitor: throttle.NewMeter(l.TranscriptsPerVisitor, now),
		LimitTranscriptsPerAddr:    throttle.NewMeter(l.TranscriptsPerAddr, now),
		LimitOfflinePerAddr:        throttle.NewMeter(l.OfflinePerAddr, now),
		LimitAPICallsPerKey:        throttle.NewMeter(l.APICallsPerKey, now),
	}
}

// LimitCount is how many actions one abuse limit let through and refused
// since the service started.
type LimitCount struct {
	Allowed, Refused int64
}

// LimitCounts reports every abuse limit's counts, by limit name, for
// metrics.
func (s *Service) LimitCounts() map[string]LimitCount {
	out := make(map[string]LimitCount, len(s.abuse))
	for name, m := range s.abuse {
		out[name] = LimitCount{Allowed: m.Allowed(), Refused: m.Refused()}
	}
	return out
}

// limitKey is one count an action takes: a limit and the key it counts.
type limitKey struct {
	limit, key string
}

// addrKey returns the limit key of the request's client address; ok is
// false when the request carries none (a test, an in-process call).
func addrKey(ctx context.Context) (string, bool) {
	a := ClientAddr(ctx)
	if !a.IsValid() {
		return "", false
	}
	return throttle.AddrKey(a), true
}

// overLimit counts one action against every key, or against none: when
// one refuses, the counts already taken are given back, and the error
// says what and for how long.
func (s *Service) overLimit(what string, keys ...limitKey) error {
	for i, k := range keys {
		wait := s.abuse[k.limit].Take(k.key)
		if wait <= 0 {
			continue
		}
		for _, done := range keys[:i] {
			s.abuse[done.limit].Return(done.key)
		}
		secs := int64((wait + time.Second - 1) / time.Second)
		return &parley.RetryError{
			Err:   parley.Errorf(parley.ETOOMANY, "too many %s; try again in %d seconds", what, max(secs, 1)),
			After: wait,
		}
	}
	return nil
}

// chatRequestAllowed counts a chat request of the client.
func (s *Service) chatRequestAllowed(ctx context.Context) error {
	if k, ok := addrKey(ctx); ok {
		return s.overLimit("chat requests from this address", limitKey{LimitChatRequestsPerAddr, k})
	}
	return nil
}

// transcriptAllowed counts a transcript mail a visitor asks for.
func (s *Service) transcriptAllowed(ctx context.Context, visitorID string) error {
	keys := []limitKey{{LimitTranscriptsPerVisitor, visitorID}}
	if k, ok := addrKey(ctx); ok {
		keys = append(keys, limitKey{LimitTranscriptsPerAddr, k})
	}
	return s.overLimit("transcript mails", keys...)
}

// offlineAllowed counts an offline message of the client.
func (s *Service) offlineAllowed(ctx context.Context) error {
	if k, ok := addrKey(ctx); ok {
		return s.overLimit("offline messages from this address", limitKey{LimitOfflinePerAddr, k})
	}
	return nil
}

// apiCallAllowed counts an integration API call of key id.
func (s *Service) apiCallAllowed(keyID int64) error {
	return s.overLimit("API calls with this key", limitKey{LimitAPICallsPerKey, strconv.FormatInt(keyID, 10)})
}

type clientAddrKey struct{}

// WithClientAddr returns ctx carrying the address of the client a request
// came from. The HTTP dialects set it (behind a trusted proxy, from
// X-Forwarded-For: throttle.Proxies.ClientAddr); the abuse limits and the
// audit log read it.
func WithClientAddr(ctx context.Context, a netip.Addr) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, a)
}

// ClientAddr returns the client address ctx carries; not valid when it
// carries none.
func ClientAddr(ctx context.Context) netip.Addr {
	a, _ := ctx.Value(clientAddrKey{}).(netip.Addr)
	return a
}
