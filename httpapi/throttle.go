package httpapi

import (
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
}

// passwordGuard returns the throttle of a password attempt on an account
// from the client of r.
func (s *Server) passwordGuard(r *http.Request, attempt string, tenant int64, login string) guard {
	ip := s.opt.TrustedProxies.ClientAddr(r)
	return guard{
		s: s, attempt: attempt, tenant: tenant, login: login,
		account:  strconv.FormatInt(tenant, 10) + "/" + strings.ToLower(login),
		addr:     throttle.AddrKey(ip),
		clientIP: ip.String(),
	}
}

// check refuses the attempt while the account or the address is locked,
// before the password is looked at: even the right one waits.
func (g guard) check() error {
	wait := max(g.s.accounts.Wait(g.account), g.s.addrs.Wait(g.addr))
	if wait <= 0 {
		return nil
	}
	secs := int64((wait + time.Second - 1) / time.Second)
	return &httperr.RetryError{
		Err:   parley.Errorf(parley.ETOOMANY, "too many failed attempts; try again in %d seconds", secs),
		After: wait,
	}
}

// done records the outcome of the attempt: a wrong password counts
// against the account and the address and is logged (never the password;
// the login and address only as personal data, which the logger may
// redact); success clears the account.
func (g guard) done(err error) {
	switch parley.ErrorCode(err) {
	case "":
		g.s.accounts.Succeed(g.account)
	case parley.EUNAUTHORIZED:
		lock := max(g.s.accounts.Fail(g.account), g.s.addrs.Fail(g.addr))
		g.s.log.Warn("password attempt failed", "attempt", g.attempt, "tenant_id", g.tenant,
			"login", g.login, "ip", g.clientIP, "locked_for", lock.String())
	}
}
