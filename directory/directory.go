package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// Directory is a configured company directory: it syncs on a schedule and
// on demand, and checks directory agents' passwords.
type Directory struct {
	cfg   Config
	svc   *conversation.Service
	clock conversation.Clock
	log   *slog.Logger

	syncMu sync.Mutex // one sync at a time

	mu   sync.Mutex // guards last
	last conversation.DirectoryStatus
}

// New returns the directory of cfg, applying syncs to svc. A nil clock is
// the wall clock; a nil logger discards.
func New(cfg Config, svc *conversation.Service, clock conversation.Clock, log *slog.Logger) (*Directory, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if clock == nil {
		clock = wallClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Directory{cfg: cfg, svc: svc, clock: clock, log: log}, nil
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }
func (wallClock) AfterFunc(d time.Duration, f func()) conversation.Timer {
	return time.AfterFunc(d, f)
}

// Run syncs at once and then every Config.Interval until ctx ends.
func (d *Directory) Run(ctx context.Context) {
	for {
		if _, err := d.Sync(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("directory sync failed", "err", err)
		}
		wake := make(chan struct{})
		t := d.clock.AfterFunc(d.cfg.Interval, func() { close(wake) })
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		}
	}
}

// Status describes the directory and the outcome of the latest sync.
func (d *Directory) Status() conversation.DirectoryStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.last
	st.Configured, st.URL, st.IntervalSeconds = true, d.cfg.URL, int(d.cfg.Interval/time.Second)
	st.TenantID = d.cfg.TenantID
	if st.TenantID == 0 {
		st.TenantID = parley.DefaultTenantID
	}
	st.Mapping = d.cfg.mapping()
	return st
}

// Sync reads the mapped groups and their members and applies them. A
// sync that cannot read the directory changes nothing.
func (d *Directory) Sync(ctx context.Context) (*conversation.DirectoryReport, error) {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	rep, err := d.sync(ctx)
	st := conversation.DirectoryStatus{At: d.clock.Now().UTC(), Report: rep}
	if err != nil {
		st.Error = parley.ErrorMessage(err)
	}
	d.mu.Lock()
	d.last = st
	d.mu.Unlock()
	return rep, err
}

func (d *Directory) sync(ctx context.Context) (*conversation.DirectoryReport, error) {
	conn, done, err := d.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if d.cfg.BindDN != "" {
		if err := conn.Bind(d.cfg.BindDN, d.cfg.BindPassword); err != nil {
			return nil, unavailable("bind with the service account", err)
		}
	}
	mappings := append(append([]Mapping{}, d.cfg.Groups...), portal(d.cfg.Portal)...)
	groups := make([]members, len(mappings))
	for i, m := range mappings {
		if groups[i], err = d.readGroup(conn, m); err != nil {
			return nil, err
		}
	}
	if d.cfg.NestedGroups {
		all, err := d.readAllGroups(conn)
		if err != nil {
			return nil, err
		}
		for i := range groups {
			groups[i] = nested(groups[i], all)
		}
	}
	users, err := d.readUsers(conn, mappings, groups)
	if err != nil {
		return nil, err
	}
	snap := conversation.DirectorySnapshot{TenantID: d.cfg.TenantID, Users: users}
	for _, m := range mappings {
		snap.Groups = append(snap.Groups, m.Group)
	}
	rep, err := d.svc.ApplyDirectory(ctx, snap)
	if err != nil {
		return nil, err
	}
	d.log.Info("directory synced", "users", len(users), "groups_created", len(rep.GroupsCreated),
		"agents_created", rep.AgentsCreated, "agents_updated", rep.AgentsUpdated,
		"agents_disabled", rep.AgentsDisabled, "sessions_ended", rep.SessionsEnded, "skipped", len(rep.Skipped))
	return rep, nil
}

// members are a directory group's members: by entry (member,
// uniqueMember) and by login (posixGroup's memberUid).
type members struct {
	dns    map[string]bool
	logins map[string]bool
}

// readGroup finds a mapped group's entry and reads its members.
func (d *Directory) readGroup(conn *ldap.Conn, m Mapping) (members, error) {
	attrs := []string{"member", "uniqueMember", "memberUid"}
	var req *ldap.SearchRequest
	if strings.Contains(m.LDAP, "=") {
		req = ldap.NewSearchRequest(m.LDAP, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", attrs, nil)
	} else {
		req = ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false,
			"(&(cn="+ldap.EscapeFilter(m.LDAP)+")"+groupClasses+")",
			attrs, nil)
	}
	res, err := conn.Search(req)
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) || (err == nil && len(res.Entries) == 0):
		return members{}, parley.Errorf(parley.EINVALID, "directory group %q not found", m.LDAP)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) || (err == nil && len(res.Entries) > 1):
		return members{}, parley.Errorf(parley.EINVALID, "several directory groups are named %q; map it by its DN", m.LDAP)
	case err != nil:
		return members{}, unavailable("read a group", err)
	}
	return groupMembers(res.Entries[0]), nil
}

// groupMembers reads a group entry's members.
func groupMembers(e *ldap.Entry) members {
	g := members{dns: map[string]bool{}, logins: map[string]bool{}}
	for _, v := range append(e.GetEqualFoldAttributeValues("member"), e.GetEqualFoldAttributeValues("uniqueMember")...) {
		g.dns[normDN(v)] = true
	}
	for _, v := range e.GetEqualFoldAttributeValues("memberUid") {
		g.logins[v] = true
	}
	return g
}

// groupClasses selects group entries of every kind a mapping may name.
const groupClasses = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group)(objectClass=posixGroup))"

// readAllGroups reads every group under the base DN with its members, by
// its normalized DN.
func (d *Directory) readAllGroups(conn *ldap.Conn) (map[string]members, error) {
	req := ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		groupClasses, []string{"member", "uniqueMember", "memberUid"}, nil)
	res, err := conn.SearchWithPaging(req, 500)
	if err != nil {
		return nil, unavailable("read the groups", err)
	}
	all := make(map[string]members, len(res.Entries))
	for _, e := range res.Entries {
		all[normDN(e.DN)] = groupMembers(e)
	}
	return all, nil
}

// nested adds to g the members of the groups among its members, and of
// theirs, at any depth; each group is visited once, so cycles end.
func nested(g members, all map[string]members) members {
	out := members{dns: map[string]bool{}, logins: map[string]bool{}}
	var queue []string
	for dn := range g.dns {
		out.dns[dn] = true
		queue = append(queue, dn)
	}
	for l := range g.logins {
		out.logins[l] = true
	}
	seen := map[string]bool{}
	for len(queue) > 0 {
		dn := queue[0]
		queue = queue[1:]
		sub, ok := all[dn]
		if !ok || seen[dn] {
			continue
		}
		seen[dn] = true
		for m := range sub.dns {
			if !out.dns[m] {
				out.dns[m] = true
				queue = append(queue, m)
			}
		}
		for l := range sub.logins {
			out.logins[l] = true
		}
	}
	return out
}

// readUsers reads every user entry and keeps the members of a mapped
// group.
func (d *Directory) readUsers(conn *ldap.Conn, mappings []Mapping, groups []members) ([]conversation.DirectoryUser, error) {
	c := d.cfg
	attrs := []string{c.LoginAttr, c.NameAttr, "cn", c.MailAttr, c.PhoneAttr}
	if c.PhotoAttr != "" {
		attrs = append(attrs, c.PhotoAttr)
	}
	req := ldap.NewSearchRequest(c.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&"+filter(c.UserFilter)+"("+ldap.EscapeFilter(c.LoginAttr)+"=*))", attrs, nil)
	res, err := conn.SearchWithPaging(req, 500)
	if err != nil {
		return nil, unavailable("read users", err)
	}
	users := []conversation.DirectoryUser{}
	for _, e := range res.Entries {
		login := e.GetEqualFoldAttributeValue(c.LoginAttr)
		dn := normDN(e.DN)
		var in []string
		for i, g := range groups {
			if g.dns[dn] || g.logins[login] {
				in = append(in, mappings[i].Group)
			}
		}
		if len(in) == 0 {
			continue
		}
		name := e.GetEqualFoldAttributeValue(c.NameAttr)
		if name == "" {
			name = e.GetEqualFoldAttributeValue("cn")
		}
		u := conversation.DirectoryUser{DN: e.DN, Login: login, DisplayName: name,
			Email: e.GetEqualFoldAttributeValue(c.MailAttr), Phone: e.GetEqualFoldAttributeValue(c.PhoneAttr), Groups: in}
		if c.PhotoAttr != "" {
			u.PhotoURL, u.Photo = photoValue(e.GetEqualFoldRawAttributeValues(c.PhotoAttr))
		}
		d.log.Debug("directory user", "login", login, "dn", e.DN, "groups", in)
		users = append(users, u)
	}
	return users, nil
}

// Bind checks a directory agent's password by binding as dn. Wrong
// credentials give EUNAUTHORIZED; an unreachable directory EUNAVAILABLE.
func (d *Directory) Bind(ctx context.Context, dn, password string) error {
	if password == "" {
		return parley.Errorf(parley.EUNAUTHORIZED, "wrong login or password")
	}
	conn, done, err := d.dial(ctx)
	if err != nil {
		return err
	}
	defer done()
	err = conn.Bind(dn, password)
	switch {
	case err == nil:
		return nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
		return parley.Errorf(parley.EUNAUTHORIZED, "wrong login or password")
	}
	return unavailable("bind as the agent", err)
}

// dial connects and, for ldap://, starts TLS unless plain is allowed. The
// connection closes when ctx ends, or when done is called.
func (d *Directory) dial(ctx context.Context) (conn *ldap.Conn, done func(), err error) {
	dialer := &net.Dialer{Timeout: d.cfg.Timeout}
	conn, err = ldap.DialURL(d.cfg.URL, ldap.DialWithDialer(dialer), ldap.DialWithTLSConfig(d.cfg.TLS))
	if err != nil {
		return nil, nil, unavailable("connect", err)
	}
	conn.SetTimeout(d.cfg.Timeout)
	if u, _ := url.Parse(d.cfg.URL); u.Scheme == "ldap" && !d.cfg.AllowPlain {
		if err := conn.StartTLS(d.cfg.TLS); err != nil {
			conn.Close()
			return nil, nil, unavailable("start TLS", err)
		}
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return conn, func() { stop(); conn.Close() }, nil
}

// unavailable wraps a directory failure without the request's DNs, which
// can name people.
func unavailable(what string, err error) error {
	var le *ldap.Error
	if errors.As(err, &le) {
		err = fmt.Errorf("LDAP result %d (%s)", le.ResultCode, ldap.LDAPResultCodeMap[le.ResultCode])
	}
	return parley.Errorf(parley.EUNAVAILABLE, "directory: %s: %v", what, err)
}

// normDN puts a DN in one spelling for comparison: parsed, printed, lower
// case (LDAP names compare case-insensitively).
func normDN(s string) string {
	if dn, err := ldap.ParseDN(s); err == nil {
		s = dn.String()
	}
	return strings.ToLower(s)
}

// filter wraps a filter in parentheses when it has none.
func filter(f string) string {
	f = strings.TrimSpace(f)
	if !strings.HasPrefix(f, "(") {
		f = "(" + f + ")"
	}
	return f
}

// photoValue reads a photo attribute: the first https address among its
// values (labeledURI), or else the first value that is a PNG, JPEG or WebP
// image of at most parley.MaxPhotoBytes (jpegPhoto; Active Directory's
// thumbnailPhoto).
func photoValue(vs [][]byte) (url string, image []byte) {
	strs := make([]string, len(vs))
	for i, v := range vs {
		strs[i] = string(v)
	}
	if u := httpsValue(strs); u != "" {
		return u, nil
	}
	for _, v := range vs {
		if len(v) <= parley.MaxPhotoBytes && conversation.PhotoType(v) != "" {
			return "", v
		}
	}
	return "", nil
}

// httpsValue returns the first value that is an https address (labeledURI
// values may be followed by a label).
func httpsValue(vs []string) string {
	for _, v := range vs {
		v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
		if u, err := url.Parse(v); err == nil && u.Scheme == "https" && u.Host != "" {
			return v
		}
	}
	return ""
}
