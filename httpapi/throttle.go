package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/httperr"
	"github.com/parleychat/parley/internal/throttle"
)

// guard is one password attempt under the login throttle.
type guard struct {
	s        *Server
	attempt  string // what is attempted, for the log
	tenant   int64
	login    string
	account  string // throttle key of the account
	addr     string // throttle key of the client address
	clientIP string
	endAcct  func(failed bool) time.Duration
	endAddr  func(failed bool) time.Duration
}

// passwordGuard returns the throttle of a password attempt on an account
// from the client of r.
func (s *Server) passwordGuard(r *http.Request, attempt string, tenant int64, login string) *guard {
	ip := s.opt.TrustedProxies.ClientAddr(r)
	return &guard{
		s: s, attempt: attempt, tenant: tenant, login: login,
		account:  strconv.FormatInt(tenant, 10) + "/" + strings.ToLower(login),
		addr:     throttle.AddrKey(ip),
		clientIP: ip.String(),
	}
}

// check refuses the attempt while the account or the address is locked,
// before the password is looked at: even the right one waits. When it
// returns nil, done must be called.
func (g *guard) check() error {
	waitAcct, endAcct := g.s.accounts.Begin(g.account)
	waitAddr, endAddr := g.s.addrs.Begin(g.addr)
	if wait := max(waitAcct, waitAddr); wait > 0 {
		for _, end := range []func(bool) time.Duration{endAcct, endAddr} {
			if end != nil {
				end(false)
			}
		}
		secs := int64((wait + time.Second - 1) / time.Second)
		return &httperr.RetryError{
			Err:   parley.Errorf(parley.ETOOMANY, "too many failed attempts; try again in %d seconds", secs),
			After: wait,
		}
	}
	g.endAcct, g.endAddr = endAcct, endAddr
	return nil
}

// done records the outcome of the attempt: a wrong password counts
// against the account and the address and is logged (never the password;
// the login and address only as personal data, which the logger may
// redact); success clears the account.
func (g *guard) done(ctx context.Context, err error) {
	failed := parley.ErrorCode(err) == parley.EUNAUTHORIZED
	lock := max(g.endAcct(failed), g.endAddr(failed))
	switch {
	case err == nil:
		g.s.accounts.Succeed(g.account)
		g.s.tellLogins(ctx, loginAccount, g.account, false)
	case failed:
		g.s.tellLogins(ctx, loginAccount, g.account, true)
		g.s.tellLogins(ctx, loginAddr, g.addr, true)
		g.s.log.Warn("password attempt failed", "attempt", g.attempt, "tenant_id", g.tenant,
			"login", g.login, "ip", g.clientIP, "locked_for", lock.String())
	}
}

// The throttles whose counts the nodes of a cluster share.
const (
	loginAccount = "account"
	loginAddr    = "addr"
)

// countLogin applies an attempt another node of the cluster counted: a
// failure counts here as if made here, and a success clears the account.
func (s *Server) countLogin(kind, key string, failed bool) {
	l := s.accounts
	if kind == loginAddr {
		l = s.addrs
	} else if kind != loginAccount {
		return
	}
	if failed {
		l.Fail(key)
	} else if kind == loginAccount {
		l.Succeed(key)
	}
}
