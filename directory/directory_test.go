package directory_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/directory"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/slapdtest"
	"github.com/parleychat/parley/internal/testserver"
)

// The seeded directory: Vera and Marco take chats (webagents), Marco also
// sells (the sales group, mapped by its DN), Vera and Paula are on the
// contact portal; "admin" is a directory user whose login is the local
// admin's; Otto is in no group. The sync reads with a service account,
// which is also a member of sales but is no person, so no agent.
const seed = `dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: cn=parley,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: parley
userPassword: service-secret-1234

dn: uid=vera,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: vera
cn: Vera Lynn
sn: Lynn
displayName: Vera Lynn
mail: vera@example.org
telephoneNumber: +49 89 1234-201
labeledURI: https://photos.example.org/vera.jpg Vera's photo
userPassword: vera-directory-pw

dn: uid=marco,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: marco
cn: Marco Polo
sn: Polo
mail: marco@example.org
userPassword: marco-directory-pw

dn: uid=paula,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: paula
cn: Paula Portal
sn: Portal
displayName: Paula Portal
userPassword: paula-directory-pw

dn: uid=admin,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: admin
cn: Directory Admin
sn: Admin
userPassword: not-the-local-admin

dn: uid=otto,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: otto
cn: Otto Outsider
sn: Outsider
userPassword: otto-directory-pw

dn: cn=webagents,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: webagents
member: uid=vera,ou=people,dc=example,dc=org
member: uid=marco,ou=people,dc=example,dc=org
member: uid=admin,ou=people,dc=example,dc=org

dn: cn=sales,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: sales
member: uid=marco,ou=people,dc=example,dc=org
member: cn=parley,dc=example,dc=org

dn: cn=contactportal,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: contactportal
member: uid=vera,ou=people,dc=example,dc=org
member: uid=paula,ou=people,dc=example,dc=org
`

type fixture struct {
	ldap  *slapdtest.Server
	srv   *testserver.Server
	dir   *directory.Directory
	admin string // the local admin's token
}

func start(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ldap: slapdtest.Start(t, seed)}
	groups, err := directory.ParseMappings("webagents=>Support; cn=sales,ou=groups,dc=example,dc=org")
	if err != nil {
		t.Fatal(err)
	}
	portal, err := directory.ParseMappings("contactportal=>Portal")
	if err != nil {
		t.Fatal(err)
	}
	cfg := directory.Config{
		URL:          f.ldap.URL, // ldap:// with StartTLS
		TLS:          &tls.Config{RootCAs: f.ldap.Roots},
		BindDN:       "cn=parley," + slapdtest.Suffix,
		BindPassword: "service-secret-1234",
		BaseDN:       slapdtest.Suffix,
		PhotoAttr:    "labeledURI",
		Groups:       groups,
		Portal:       &portal[0],
	}
	admin := testserver.Agent("admin", "Local Admin")
	admin.Role = parley.RoleAdmin
	f.srv = testserver.Start(t, testserver.Options{
		Config: conversation.Config{DirectoryBind: func(ctx context.Context, dn, password string) error {
			return f.dir.Bind(ctx, dn, password)
		}},
		Agents: []*parley.Agent{admin},
		API:    httpapi.Options{Directory: lazyDirectory{f}},
	})
	if f.dir, err = directory.New(cfg, f.srv.Svc, nil, nil); err != nil {
		t.Fatal(err)
	}
	f.admin = f.srv.Login("admin")
	return f
}

// lazyDirectory hands the API the directory made after the server.
type lazyDirectory struct{ f *fixture }

func (l lazyDirectory) Sync(ctx context.Context) (*conversation.DirectoryReport, error) {
	return l.f.dir.Sync(ctx)
}
func (l lazyDirectory) Status() conversation.DirectoryStatus { return l.f.dir.Status() }

// sync runs a sync the way an admin does, through the API.
func (f *fixture) sync(t *testing.T) conversation.DirectoryReport {
	t.Helper()
	var rep conversation.DirectoryReport
	f.srv.Must(http.StatusOK, "POST", "/api/v1/admin/directory/sync", f.admin, nil, &rep)
	return rep
}

func (f *fixture) agents(t *testing.T) map[string]parley.Agent {
	t.Helper()
	var list []parley.Agent
	f.srv.Must(http.StatusOK, "GET", "/api/v1/agents", f.admin, nil, &list)
	out := map[string]parley.Agent{}
	for _, a := range list {
		out[a.Login] = a
	}
	return out
}

func (f *fixture) login(login, password string) (int, string) {
	var res httpapi.LoginResponse
	st, body := f.srv.Do("POST", "/api/v1/auth/login", "", map[string]string{"login": login, "password": password})
	if st == http.StatusOK {
		_ = jsonUnmarshal(body, &res)
	}
	return st, res.Token
}

// Acceptance: groups and agents appear after a sync, an agent signs in
// with the directory password, and a user removed from the agent groups
// is signed out and gets no offer after the next sync. The local admin
// keeps working throughout.
func TestDirectorySync(t *testing.T) {
	f := start(t)
	rep := f.sync(t)
	slices.Sort(rep.GroupsCreated)
	if !slices.Equal(rep.GroupsCreated, []string{"Portal", "Support", "sales"}) || rep.AgentsCreated != 3 || rep.AgentsDisabled != 0 {
		t.Fatalf("first sync = %+v; want groups Portal, Support, sales and 3 agents", rep)
	}
	if len(rep.Skipped) != 1 || !strings.HasPrefix(rep.Skipped[0], "admin:") {
		t.Errorf("skipped = %q, want the directory's admin (the login is the local admin's)", rep.Skipped)
	}
	var groups []parley.Group
	f.srv.Must(http.StatusOK, "GET", "/api/v1/groups", f.admin, nil, &groups)
	ids := map[string]int64{}
	for _, g := range groups {
		ids[g.Name] = g.ID
	}
	agents := f.agents(t)
	vera, marco, paula := agents["vera"], agents["marco"], agents["paula"]
	if _, ok := agents["otto"]; ok {
		t.Error("otto, in no mapped group, became an agent")
	}
	if vera.DisplayName != "Vera Lynn" || vera.Email != "vera@example.org" || vera.Phone != "+49 89 1234-201" ||
		vera.PhotoURL != "https://photos.example.org/vera.jpg" || vera.DirectoryDN != "uid=vera,ou=people,dc=example,dc=org" {
		t.Errorf("vera = %+v; want the directory's name, mail, phone, photo and DN", vera)
	}
	if marco.DisplayName != "Marco Polo" { // no displayName: the cn
		t.Errorf("marco's display name = %q, want the cn", marco.DisplayName)
	}
	memberOf := func(a parley.Agent) []int64 {
		var out []int64
		for _, m := range a.Groups {
			out = append(out, m.GroupID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(ids ...int64) []int64 { slices.Sort(ids); return ids }
	if got := memberOf(vera); !slices.Equal(got, sorted(ids["Support"], ids["Portal"])) {
		t.Errorf("vera's groups = %v, want Support and Portal %v", got, ids)
	}
	if got := memberOf(marco); !slices.Equal(got, sorted(ids["Support"], ids["sales"])) {
		t.Errorf("marco's groups = %v, want Support and sales %v", got, ids)
	}
	if got := memberOf(paula); !slices.Equal(got, []int64{ids["Portal"]}) {
		t.Errorf("paula's groups = %v, want Portal", got)
	}
	if a := agents["admin"]; a.DirectoryDN != "" || a.Role != parley.RoleAdmin {
		t.Errorf("the local admin became %+v", a)
	}

	// A second sync with nothing changed changes nothing.
	if rep := f.sync(t); rep.AgentsCreated+rep.AgentsUpdated+rep.AgentsDisabled != 0 || len(rep.GroupsCreated) != 0 {
		t.Errorf("an unchanged directory's sync = %+v, want no changes", rep)
	}

	// Sign-in with the directory password; Parley stores none.
	if st, _ := f.login("marco", "wrong-password-123"); st != http.StatusUnauthorized {
		t.Errorf("marco with a wrong password = %d, want 401", st)
	}
	if st, _ := f.login("marco", ""); st == http.StatusOK {
		t.Error("marco signed in with an empty password (an unauthenticated bind)")
	}
	if st, _ := f.login("admin", "not-the-local-admin"); st != http.StatusUnauthorized {
		t.Errorf("the directory's admin password on the local admin = %d, want 401", st)
	}
	if st, _ := f.login("admin", f.srv.Password); st != http.StatusOK {
		t.Errorf("the local admin's own password = %d, want 200", st)
	}
	st, marcoTok := f.login("marco", "marco-directory-pw")
	if st != http.StatusOK {
		t.Fatalf("marco with the directory password = %d, want 200", st)
	}
	if stored, err := f.srv.Store.Agent(context.Background(), marco.ID); err != nil || stored.PasswordHash != "" {
		t.Errorf("marco's stored password hash = %q (%v), want none", stored.PasswordHash, err)
	}
	if st, _ := f.srv.Do("PUT", "/api/v1/me/password", marcoTok, map[string]string{"current": "marco-directory-pw", "new": "another-password-1"}); st != http.StatusForbidden {
		t.Errorf("a directory agent changing its password in Parley = %d, want 403", st)
	}
	// Vera is logged in but not ready, so Support stays open.
	_, veraTok := f.login("vera", "vera-directory-pw")
	f.srv.Presence(veraTok, "available", "not_ready")
	f.srv.Presence(marcoTok, "available", "ready")
	first := f.request(t, ids["Support"])
	if got := f.srv.OfferedChat(marcoTok); got != first {
		t.Fatalf("marco was offered %s, want %s", got, first)
	}

	// Marco leaves both groups in the directory.
	admin := f.ldap.Admin(t)
	for _, g := range []string{"webagents", "sales"} {
		m := ldap.NewModifyRequest("cn="+g+",ou=groups,"+slapdtest.Suffix, nil)
		m.Delete("member", []string{"uid=marco,ou=people," + slapdtest.Suffix})
		if err := admin.Modify(m); err != nil {
			t.Fatal(err)
		}
	}
	rep = f.sync(t)
	if rep.AgentsDisabled != 1 || rep.SessionsEnded != 1 {
		t.Fatalf("sync after marco left = %+v, want 1 agent disabled and 1 session ended", rep)
	}
	if st, _ := f.srv.Do("GET", "/api/v1/me", marcoTok, nil); st != http.StatusUnauthorized {
		t.Errorf("marco's session after the sync = %d, want 401 (signed out)", st)
	}
	if st, _ := f.login("marco", "marco-directory-pw"); st != http.StatusUnauthorized {
		t.Errorf("marco signing in again = %d, want 401", st)
	}
	m := f.agents(t)["marco"]
	if !m.Disabled || m.Presence != parley.PresenceOffline || len(m.Groups) != 0 {
		t.Errorf("marco after the sync = %+v; want disabled, offline, in no group", m)
	}
	if to := f.offeredTo(t, first); to == marco.ID {
		t.Error("the chat offered to marco was not withdrawn")
	}
	second := f.request(t, ids["Support"])
	if to := f.offeredTo(t, second); to != 0 {
		t.Errorf("a new chat was offered to agent %d; only marco was ready, and he is gone", to)
	}
	if st, _ := f.login("admin", f.srv.Password); st != http.StatusOK {
		t.Errorf("the local admin after the syncs = %d, want 200", st)
	}

	// Back in the group, marco is an agent again at the next sync.
	add := ldap.NewModifyRequest("cn=webagents,ou=groups,"+slapdtest.Suffix, nil)
	add.Add("member", []string{"uid=marco,ou=people," + slapdtest.Suffix})
	if err := admin.Modify(add); err != nil {
		t.Fatal(err)
	}
	if rep := f.sync(t); rep.AgentsUpdated != 1 {
		t.Errorf("sync after marco came back = %+v, want him updated", rep)
	}
	if st, _ := f.login("marco", "marco-directory-pw"); st != http.StatusOK {
		t.Errorf("marco back in the group signing in = %d, want 200", st)
	}
}

// The sync needs an admin; a missing mapped group fails it and changes
// nothing; the status shows the latest outcome.
func TestDirectorySyncErrors(t *testing.T) {
	f := start(t)
	f.sync(t)
	_, veraTok := f.login("vera", "vera-directory-pw")
	if st, _ := f.srv.Do("POST", "/api/v1/admin/directory/sync", veraTok, nil); st != http.StatusForbidden {
		t.Errorf("an agent's sync = %d, want 403", st)
	}
	if st, _ := f.srv.Do("POST", "/api/v1/admin/directory/sync", "", nil); st != http.StatusUnauthorized {
		t.Errorf("an anonymous sync = %d, want 401", st)
	}
	// The webagents group disappears: the sync fails instead of
	// disabling its members.
	if err := f.ldap.Admin(t).Del(ldap.NewDelRequest("cn=webagents,ou=groups,"+slapdtest.Suffix, nil)); err != nil {
		t.Fatal(err)
	}
	if st, body := f.srv.Do("POST", "/api/v1/admin/directory/sync", f.admin, nil); st != http.StatusBadRequest || !strings.Contains(string(body), "webagents") {
		t.Errorf("sync with a missing group = %d %s, want 400 naming it", st, body)
	}
	if a := f.agents(t)["vera"]; a.Disabled {
		t.Error("a failed sync disabled vera")
	}
	var st conversation.DirectoryStatus
	f.srv.Must(http.StatusOK, "GET", "/api/v1/admin/directory", f.admin, nil, &st)
	if !st.Configured || !strings.Contains(st.Error, "webagents") || st.At.IsZero() {
		t.Errorf("status = %+v; want configured with the failure", st)
	}
	// The mapping, for the console to show: never the service password.
	if m := st.Mapping; m == nil || m.Security != "starttls" || m.BaseDN != slapdtest.Suffix || m.PhotoAttribute != "labeledURI" ||
		len(m.Groups) != 2 || m.Groups[0] != (conversation.DirectoryGroupMapping{Directory: "webagents", Group: "Support"}) ||
		m.Groups[1].Group != "sales" || m.Portal == nil || m.Portal.Group != "Portal" || m.LoginAttribute != "uid" {
		t.Errorf("mapping = %+v", st.Mapping)
	}
	if _, body := f.srv.Do("GET", "/api/v1/admin/directory", f.admin, nil); strings.Contains(string(body), "service-secret") {
		t.Error("the status shows the service account's password")
	}
}

// Without TLS configured to trust the server, StartTLS fails: the
// directory is never read or bound to in the clear by accident.
func TestDirectoryRequiresTrustedTLS(t *testing.T) {
	s := slapdtest.Start(t, seed)
	groups, _ := directory.ParseMappings("webagents")
	d, err := directory.New(directory.Config{URL: s.URL, BaseDN: slapdtest.Suffix, Groups: groups}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Bind(context.Background(), "uid=vera,ou=people,"+slapdtest.Suffix, "vera-directory-pw")
	if parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Errorf("bind over an untrusted certificate = %v, want unavailable", err)
	}
	plain, err := directory.New(directory.Config{URL: s.URL, BaseDN: slapdtest.Suffix, Groups: groups, AllowPlain: true}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Bind(context.Background(), "uid=vera,ou=people,"+slapdtest.Suffix, "vera-directory-pw"); err != nil {
		t.Errorf("plain bind when allowed: %v", err)
	}
	if err := plain.Bind(context.Background(), "uid=vera,ou=people,"+slapdtest.Suffix, "wrong"); parley.ErrorCode(err) != parley.EUNAUTHORIZED {
		t.Errorf("plain bind with a wrong password = %v, want unauthorized", err)
	}
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// request asks for a chat in group and returns it.
func (f *fixture) request(t *testing.T, group int64) string {
	t.Helper()
	var res httpapi.ChatStartedBody
	f.srv.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"group_id": group, "name": "Visitor", "message": "Hello"}, &res)
	return res.Chat.ID
}

// offeredTo returns whom the chat is offered to now (0: nobody); routing
// places a chat before its request is answered.
func (f *fixture) offeredTo(t *testing.T, chatID string) int64 {
	t.Helper()
	c, err := f.srv.Store.Chat(context.Background(), chatID)
	if err != nil {
		t.Fatal(err)
	}
	return c.OfferedTo
}
