package conversation

import (
	"context"
	"encoding/json"
)

// subjectLogins carries the login throttle's counted attempts between the
// nodes of a cluster, so that an attacker who spreads password guesses
// over N nodes gets the attempts of one, not N times as many.
const subjectLogins = "parley.cluster.logins"

// loginNoticeBody is one attempt a node's login throttle counted.
type loginNoticeBody struct {
	Node   string `json:"node"`
	Kind   string `json:"kind"` // which throttle: per account or per address
	Key    string `json:"key"`
	Failed bool   `json:"failed"`
}

// ShareLogins makes a login throttle count the attempts of every node of
// a cluster. apply is called with each attempt another node counted (a
// failure, or a success that clears an account); the function returned
// tells the other nodes of one this node counted. On a node on its own
// apply is never called and telling does nothing. A service has one
// shared throttle: a later call replaces the earlier apply. Notices are
// the bus's: a node that was away misses those sent meanwhile, and counts
// converge again with the next attempts.
func (s *Service) ShareLogins(apply func(kind, key string, failed bool)) (tell func(ctx context.Context, kind, key string, failed bool)) {
	if s.cluster == nil {
		return func(context.Context, string, string, bool) {}
	}
	s.logins.Store(&apply)
	node := s.cluster.cfg.Node
	return func(ctx context.Context, kind, key string, failed bool) {
		data, err := json.Marshal(loginNoticeBody{Node: node, Kind: kind, Key: key, Failed: failed})
		if err == nil {
			err = s.bus.Publish(context.WithoutCancel(ctx), subjectLogins, data)
		}
		if err != nil {
			s.log.Warn("publish a login attempt to the cluster", "err", err)
		}
	}
}

// loginNotice applies another node's counted attempt (on the bus's
// goroutine: the throttle only takes its lock).
func (s *Service) loginNotice(data []byte) {
	apply := s.logins.Load()
	var n loginNoticeBody
	if apply == nil || json.Unmarshal(data, &n) != nil || n.Node == s.cluster.cfg.Node || n.Key == "" {
		return
	}
	(*apply)(n.Kind, n.Key, n.Failed)
}
