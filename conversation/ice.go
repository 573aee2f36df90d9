package conversation

import (
	"context"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/turncred"
)

// ICEConfig says which ICE servers a call's browsers are given: fixed
// ones (a public STUN server, a provider's TURN with its own credentials)
// and TURN servers that take credentials of the TURN REST API scheme,
// issued per call with a shared secret (Parley's built-in TURN, coturn's
// use-auth-secret).
type ICEConfig struct {
	// Servers are handed out as they are.
	Servers []ICEServer
	// TURN lists the URLs ("turn:host:3478?transport=udp", "turns:…")
	// that get per-call credentials made with Secret.
	TURN   []string
	Secret string
	// CredentialTTL is how long issued credentials last (2 h). They stop
	// working at the call's end anyway: the built-in server honours them
	// only while the call is open.
	CredentialTTL time.Duration
}

// DefaultCredentialTTL is ICEConfig.CredentialTTL's default.
const DefaultCredentialTTL = 2 * time.Hour

// ICEServer is an RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICE is what a party of a call needs to connect: the ICE servers, and
// when their credentials expire.
type ICE struct {
	Servers []ICEServer `json:"ice_servers"`
	Expires time.Time   `json:"expires,omitempty"`
}

// CallICE returns the ICE servers for a party of the chat's open call,
// with TURN credentials issued for that call and party. Only the call's
// parties (and, while it rings, the side that may answer it) get them.
func (s *Service) CallICE(ctx context.Context, actor Actor, chatID, callID string) (*ICE, error) {
	c, v, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	open, err := s.freshCall(ctx, c.ID, callID)
	if err != nil {
		return nil, err
	}
	if open == nil || open.id != callID {
		return nil, parley.Errorf(parley.ENOTFOUND, "call %s is not open in this chat", callID)
	}
	from := actor.party(v)
	if !open.party(from) && !(open.accepted.IsZero() && open.callee.Kind == "" && from.Kind != open.caller.Kind) {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only the call's parties get its ICE servers")
	}
	cfg := s.cfg.ICE
	out := &ICE{Servers: append([]ICEServer{}, cfg.Servers...)}
	if len(cfg.TURN) > 0 && cfg.Secret != "" {
		ttl := cfg.CredentialTTL
		if ttl <= 0 {
			ttl = DefaultCredentialTTL
		}
		out.Expires = s.now().Add(ttl).UTC().Truncate(time.Second)
		name, pw := turncred.Issue(cfg.Secret, callUser(c.ID, open.id, from), out.Expires)
		out.Servers = append(out.Servers, ICEServer{URLs: cfg.TURN, Username: name, Credential: pw})
	}
	return out, nil
}
