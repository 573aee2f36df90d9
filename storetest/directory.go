package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func testPing(t *testing.T, s parley.Store) {
	must(t, s.Ping(t.Context()), "ping")
}

func testDefaultTenant(t *testing.T, s parley.Store) {
	ctx := t.Context()
	tn, err := s.Tenant(ctx, parley.DefaultTenantID)
	must(t, err, "default tenant")
	if tn.ID != parley.DefaultTenantID || tn.Name != "Default" {
		t.Errorf("default tenant = %+v, want id %d named Default", tn, parley.DefaultTenantID)
	}
	if tn.CreatedAt.IsZero() || tn.CreatedAt.Location() != time.UTC {
		t.Errorf("default tenant created at %v, want a UTC time", tn.CreatedAt)
	}
	ts, err := s.Tenants(ctx)
	must(t, err, "tenants")
	if len(ts) != 1 || ts[0].ID != parley.DefaultTenantID {
		t.Errorf("a new store has tenants %+v, want only the default one", ts)
	}
}

func testTenants(t *testing.T, s parley.Store) {
	ctx := t.Context()
	gen := &parley.Tenant{Name: "Acme"}
	must(t, s.CreateTenant(ctx, gen), "create tenant")
	if gen.ID < 1 {
		t.Errorf("generated tenant id %d, want >= 1", gen.ID)
	}
	if gen.CreatedAt.IsZero() {
		t.Error("CreateTenant did not set CreatedAt")
	}
	got, err := s.Tenant(ctx, gen.ID)
	must(t, err, "tenant")
	equal(t, "tenant read back", *got, *gen)

	explicit := &parley.Tenant{ID: 1000, Name: "Globex", CreatedAt: at(0)}
	must(t, s.CreateTenant(ctx, explicit), "create tenant with id")
	if explicit.ID != 1000 || !explicit.CreatedAt.Equal(at(0)) {
		t.Errorf("explicit tenant became %+v, want id 1000 created at %v", explicit, at(0))
	}
	got, err = s.Tenant(ctx, 1000)
	must(t, err, "tenant 1000")
	equal(t, "explicit tenant read back", *got, *explicit)

	wantCode(t, s.CreateTenant(ctx, &parley.Tenant{ID: 1000, Name: "Again"}), parley.ECONFLICT, "create tenant with a taken id")
	wantCode(t, s.CreateTenant(ctx, &parley.Tenant{ID: parley.DefaultTenantID, Name: "Again"}), parley.ECONFLICT, "create tenant with the default id")
	got, err = s.Tenant(ctx, 1000)
	must(t, err, "tenant 1000")
	if got.Name != "Globex" {
		t.Errorf("tenant 1000 is named %q after a refused create, want Globex", got.Name)
	}

	_, err = s.Tenant(ctx, 999)
	wantCode(t, err, parley.ENOTFOUND, "missing tenant")

	ts, err := s.Tenants(ctx)
	must(t, err, "tenants")
	var ids []int64
	for _, tn := range ts {
		ids = append(ids, tn.ID)
	}
	equal(t, "tenant ids", ids, []int64{parley.DefaultTenantID, gen.ID, 1000})
}

func testGeneratedIDs(t *testing.T, s parley.Store) {
	ctx := t.Context()
	// The demo seeds groups 1 and 2 next to the default tenant -1.
	for _, id := range []int64{1, 2} {
		tn := &parley.Tenant{ID: id, Name: "Seeded"}
		must(t, s.CreateTenant(ctx, tn), "create tenant with id")
		g := &parley.Group{ID: id, TenantID: parley.DefaultTenantID, Name: "Seeded " + string(rune('A'+id))}
		must(t, s.CreateGroup(ctx, g), "create group with id")
		a := newAgent(parley.DefaultTenantID, "seeded"+string(rune('a'+id)))
		a.ID = id
		must(t, s.CreateAgent(ctx, a), "create agent with id")
	}
	taken := []int64{1, 2}
	for i := range 3 {
		tn := &parley.Tenant{Name: "Generated"}
		must(t, s.CreateTenant(ctx, tn), "create tenant")
		g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Generated " + string(rune('A'+i))}
		must(t, s.CreateGroup(ctx, g), "create group")
		a := newAgent(parley.DefaultTenantID, "generated"+string(rune('a'+i)))
		must(t, s.CreateAgent(ctx, a), "create agent")
		for what, id := range map[string]int64{"tenant": tn.ID, "group": g.ID, "agent": a.ID} {
			if id < 1 || slices.Contains(taken, id) {
				t.Errorf("generated %s id %d, want >= 1 and not one of the explicit ids %v", what, id, taken)
			}
		}
	}
	// Reading by the explicit ids still finds the seeded records.
	for _, id := range taken {
		g, err := s.Group(ctx, id)
		must(t, err, "seeded group")
		if g.Name != "Seeded "+string(rune('A'+id)) {
			t.Errorf("group %d is %q, want the seeded one", id, g.Name)
		}
	}
}

func fullGroup(tenantID int64, name string) *parley.Group {
	return &parley.Group{
		TenantID:       tenantID,
		Name:           name,
		WelcomeMessage: "Welcome, you are talking to {agent}.",
		QueueMessage:   "Please wait.",
		ClosedMessage:  "We are closed.",
		Limits: parley.GroupLimits{
			MaxMessageLength:   intp(2000),
			MaxAttachmentKB:    intp(0),
			IdleTimeoutSeconds: intp(600),
			Capacity:           intp(4),
		},
		Routing: parley.GroupRouting{
			Strategy:      parley.StrategyRoundRobin,
			WrapUpSeconds: 30,
			AutoAccept:    true,
			TimeZone:      "Europe/Berlin",
			Hours:         []parley.OpeningHours{{Day: "mon", Open: "09:00", Close: "17:30"}, {Day: "sat", Open: "10:00", Close: "24:00"}},
			Holidays:      []string{"2026-12-25"},
		},
		Transcript: parley.GroupTranscript{Sender: "chat@example.com", Subject: "Chat with $Agent$",
			Template: "<p>$Transcript$</p>", HTML: true, OnClose: true, Locale: "de-DE"},
	}
}

func testGroups(t *testing.T, s parley.Store) {
	ctx := t.Context()
	full := fullGroup(parley.DefaultTenantID, "Support")
	must(t, s.CreateGroup(ctx, full), "create group")
	if full.ID < 1 || full.CreatedAt.IsZero() {
		t.Errorf("CreateGroup set id %d and created at %v, want an id >= 1 and a time", full.ID, full.CreatedAt)
	}
	got, err := s.Group(ctx, full.ID)
	must(t, err, "group")
	equal(t, "group with every field", got, full)

	bare := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Billing", CreatedAt: at(0)}
	must(t, s.CreateGroup(ctx, bare), "create bare group")
	got, err = s.Group(ctx, bare.ID)
	must(t, err, "bare group")
	equal(t, "group without limits", got, bare)

	_, err = s.Group(ctx, bare.ID+1000)
	wantCode(t, err, parley.ENOTFOUND, "missing group")

	wantCode(t, s.CreateGroup(ctx, &parley.Group{TenantID: 4242, Name: "Orphan"}), parley.EINVALID, "group of a missing tenant")
	wantCode(t, s.CreateGroup(ctx, &parley.Group{ID: full.ID, TenantID: parley.DefaultTenantID, Name: "Other"}), parley.ECONFLICT, "group with a taken id")
}

func testGroupNames(t *testing.T, s parley.Store) {
	ctx := t.Context()
	other := &parley.Tenant{Name: "Other"}
	must(t, s.CreateTenant(ctx, other), "create tenant")
	g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Sales Team"}
	must(t, s.CreateGroup(ctx, g), "create group")

	for _, name := range []string{"Sales Team", "sales team", "SALES TEAM", "sAlEs TeAm"} {
		got, err := s.GroupByName(ctx, parley.DefaultTenantID, name)
		must(t, err, "group by name "+name)
		if got.ID != g.ID {
			t.Errorf("GroupByName(%q) = group %d, want %d", name, got.ID, g.ID)
		}
	}
	for _, name := range []string{"Sales", "Sales Team ", ""} {
		_, err := s.GroupByName(ctx, parley.DefaultTenantID, name)
		wantCode(t, err, parley.ENOTFOUND, "group by name "+name)
	}
	_, err := s.GroupByName(ctx, other.ID, "Sales Team")
	wantCode(t, err, parley.ENOTFOUND, "group by name in another tenant")

	wantCode(t, s.CreateGroup(ctx, &parley.Group{TenantID: parley.DefaultTenantID, Name: "SALES team"}),
		parley.ECONFLICT, "group name differing only in case")
	same := &parley.Group{TenantID: other.ID, Name: "Sales Team"}
	must(t, s.CreateGroup(ctx, same), "same group name in another tenant")
	got, err := s.GroupByName(ctx, other.ID, "sales team")
	must(t, err, "group by name in the other tenant")
	if got.ID != same.ID {
		t.Errorf("GroupByName in tenant %d = group %d, want %d", other.ID, got.ID, same.ID)
	}
}

func testUpdateGroup(t *testing.T, s parley.Store) {
	ctx := t.Context()
	other := &parley.Tenant{Name: "Other"}
	must(t, s.CreateTenant(ctx, other), "create tenant")
	g := fullGroup(parley.DefaultTenantID, "Support")
	must(t, s.CreateGroup(ctx, g), "create group")
	taken := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Billing"}
	must(t, s.CreateGroup(ctx, taken), "create group")

	upd := &parley.Group{
		ID:            g.ID,
		TenantID:      other.ID, // must be ignored
		Name:          "Customer Support",
		ClosedMessage: "Back tomorrow.",
		Limits:        parley.GroupLimits{Capacity: intp(2)},
		Routing:       parley.GroupRouting{Strategy: parley.StrategyManual, Hours: []parley.OpeningHours{{Day: "sun", Open: "00:00", Close: "01:00"}}},
		Transcript:    parley.GroupTranscript{Sender: "help@example.com", OnClose: true},
	}
	must(t, s.UpdateGroup(ctx, upd), "update group")
	got, err := s.Group(ctx, g.ID)
	must(t, err, "group")
	want := *upd
	want.TenantID, want.CreatedAt = g.TenantID, g.CreatedAt
	equal(t, "updated group", *got, want)

	// A change of case of the group's own name is not a conflict.
	upd.Name = "CUSTOMER SUPPORT"
	must(t, s.UpdateGroup(ctx, upd), "update group name case")

	before, err := s.Group(ctx, g.ID)
	must(t, err, "group")
	wantCode(t, s.UpdateGroup(ctx, &parley.Group{ID: g.ID, Name: "billing"}), parley.ECONFLICT, "rename to a taken name")
	after, err := s.Group(ctx, g.ID)
	must(t, err, "group")
	equal(t, "group after a refused update", after, before)

	wantCode(t, s.UpdateGroup(ctx, &parley.Group{ID: taken.ID + 1000, Name: "Nope"}), parley.ENOTFOUND, "update of a missing group")
}

func testGroupsList(t *testing.T, s parley.Store) {
	ctx := t.Context()
	other := &parley.Tenant{Name: "Other"}
	must(t, s.CreateTenant(ctx, other), "create tenant")
	var want []*parley.Group
	for i, name := range []string{"B", "A", "C"} {
		g := &parley.Group{TenantID: parley.DefaultTenantID, Name: name, CreatedAt: at(-i)}
		must(t, s.CreateGroup(ctx, g), "create group")
		want = append(want, g)
		must(t, s.CreateGroup(ctx, &parley.Group{TenantID: other.ID, Name: name}), "create group")
	}
	got, err := s.Groups(ctx, parley.DefaultTenantID)
	must(t, err, "groups")
	equal(t, "groups of the default tenant, by id", got, want)

	empty := &parley.Tenant{Name: "Empty"}
	must(t, s.CreateTenant(ctx, empty), "create tenant")
	got, err = s.Groups(ctx, empty.ID)
	must(t, err, "groups")
	if len(got) != 0 {
		t.Errorf("a tenant without groups lists %d", len(got))
	}
}

func fullAgent(tenantID int64, login string, groups ...parley.Membership) *parley.Agent {
	return &parley.Agent{
		TenantID:     tenantID,
		Login:        login,
		DisplayName:  "Alice Example",
		ChatName:     "Alice",
		FirstName:    "Alice",
		LastName:     "Example",
		Email:        "alice@example.com",
		Role:         parley.RoleSupervisor,
		Capacity:     5,
		Groups:       groups,
		Presence:     parley.PresenceAway,
		Status:       parley.StatusWrapUp,
		StatusReason: "lunch",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		// Presence sources and the directory link.
		Phone:          "+49 89 1234-201",
		PresenceReason: parley.ReasonMeeting,
		InMeeting:      true,
		CalendarURL:    "https://calendar.example.com/alice.ics",
		DirectoryDN:    "uid=alice,ou=people,dc=example,dc=org",
		Disabled:       true,
	}
}

func testAgents(t *testing.T, s parley.Store) {
	ctx := t.Context()
	var gs []*parley.Group
	for _, name := range []string{"One", "Two", "Three"} {
		g := &parley.Group{TenantID: parley.DefaultTenantID, Name: name}
		must(t, s.CreateGroup(ctx, g), "create group")
		gs = append(gs, g)
	}
	// Memberships given out of order come back sorted by group id.
	a := fullAgent(parley.DefaultTenantID, "alice",
		parley.Membership{GroupID: gs[2].ID, Capacity: 2},
		parley.Membership{GroupID: gs[0].ID})
	must(t, s.CreateAgent(ctx, a), "create agent")
	if a.ID < 1 || a.CreatedAt.IsZero() {
		t.Errorf("CreateAgent set id %d and created at %v, want an id >= 1 and a time", a.ID, a.CreatedAt)
	}
	want := normAgent(a)
	want.Groups = []parley.Membership{{GroupID: gs[0].ID}, {GroupID: gs[2].ID, Capacity: 2}}

	got, err := s.Agent(ctx, a.ID)
	must(t, err, "agent")
	equal(t, "agent by id", normAgent(got), want)
	got, err = s.AgentByLogin(ctx, parley.DefaultTenantID, "alice")
	must(t, err, "agent by login")
	equal(t, "agent by login", normAgent(got), want)

	bare := newAgent(parley.DefaultTenantID, "bob")
	must(t, s.CreateAgent(ctx, bare), "create agent without groups")
	got, err = s.Agent(ctx, bare.ID)
	must(t, err, "agent")
	equal(t, "agent without groups", normAgent(got), normAgent(bare))

	_, err = s.Agent(ctx, bare.ID+1000)
	wantCode(t, err, parley.ENOTFOUND, "missing agent")
	_, err = s.AgentByLogin(ctx, parley.DefaultTenantID, "carol")
	wantCode(t, err, parley.ENOTFOUND, "missing login")
	other := &parley.Tenant{Name: "Other"}
	must(t, s.CreateTenant(ctx, other), "create tenant")
	_, err = s.AgentByLogin(ctx, other.ID, "alice")
	wantCode(t, err, parley.ENOTFOUND, "login of another tenant")
	wantCode(t, s.CreateAgent(ctx, newAgent(4242, "orphan")), parley.EINVALID, "agent of a missing tenant")
}

func testAgentLogins(t *testing.T, s parley.Store) {
	ctx := t.Context()
	other := &parley.Tenant{Name: "Other"}
	must(t, s.CreateTenant(ctx, other), "create tenant")
	a := newAgent(parley.DefaultTenantID, "alice")
	must(t, s.CreateAgent(ctx, a), "create agent")
	wantCode(t, s.CreateAgent(ctx, newAgent(parley.DefaultTenantID, "alice")), parley.ECONFLICT, "taken login")
	dup := newAgent(parley.DefaultTenantID, "alice2")
	dup.ID = a.ID
	wantCode(t, s.CreateAgent(ctx, dup), parley.ECONFLICT, "taken agent id")
	b := newAgent(other.ID, "alice")
	must(t, s.CreateAgent(ctx, b), "same login in another tenant")
	got, err := s.AgentByLogin(ctx, other.ID, "alice")
	must(t, err, "agent by login")
	if got.ID != b.ID {
		t.Errorf("AgentByLogin in tenant %d = agent %d, want %d", other.ID, got.ID, b.ID)
	}
}

func testUpdateAgent(t *testing.T, s parley.Store) {
	ctx := t.Context()
	other := &parley.Tenant{Name: "Other"}
	must(t, s.CreateTenant(ctx, other), "create tenant")
	var gs []int64
	for _, name := range []string{"One", "Two", "Three"} {
		g := &parley.Group{TenantID: parley.DefaultTenantID, Name: name}
		must(t, s.CreateGroup(ctx, g), "create group")
		gs = append(gs, g.ID)
	}
	a := fullAgent(parley.DefaultTenantID, "alice",
		parley.Membership{GroupID: gs[0], Capacity: 1}, parley.Membership{GroupID: gs[1]})
	must(t, s.CreateAgent(ctx, a), "create agent")
	must(t, s.CreateAgent(ctx, newAgent(parley.DefaultTenantID, "bob")), "create agent")

	upd := &parley.Agent{
		ID:           a.ID,
		TenantID:     other.ID, // must be ignored
		Login:        "alice.new",
		DisplayName:  "Alice New",
		Role:         parley.RoleAdmin,
		Capacity:     7,
		Groups:       []parley.Membership{{GroupID: gs[2]}, {GroupID: gs[1], Capacity: 3}},
		Presence:     parley.PresenceAvailable,
		Status:       parley.StatusReady,
		PasswordHash: "new-hash",
		// Every source and directory field is replaced, cleared ones too.
		Phone:          "202",
		PresenceReason: parley.ReasonCall,
		OnCall:         true,
	}
	must(t, s.UpdateAgent(ctx, upd), "update agent")
	want := normAgent(upd)
	want.TenantID, want.CreatedAt = a.TenantID, a.CreatedAt
	want.Groups = []parley.Membership{{GroupID: gs[1], Capacity: 3}, {GroupID: gs[2]}}
	got, err := s.Agent(ctx, a.ID)
	must(t, err, "agent")
	equal(t, "updated agent", normAgent(got), want)
	_, err = s.AgentByLogin(ctx, parley.DefaultTenantID, "alice")
	wantCode(t, err, parley.ENOTFOUND, "old login after rename")

	// A refused update changes nothing, memberships included.
	bad := *upd
	bad.Login = "bob"
	bad.Groups = nil
	wantCode(t, s.UpdateAgent(ctx, &bad), parley.ECONFLICT, "rename to a taken login")
	bad = *upd
	bad.Groups = []parley.Membership{{GroupID: gs[2] + 1000}}
	wantCode(t, s.UpdateAgent(ctx, &bad), parley.EINVALID, "membership of a missing group")
	got, err = s.Agent(ctx, a.ID)
	must(t, err, "agent")
	equal(t, "agent after refused updates", normAgent(got), want)

	missing := *upd
	missing.ID = a.ID + 1000
	missing.Login = "ghost"
	wantCode(t, s.UpdateAgent(ctx, &missing), parley.ENOTFOUND, "update of a missing agent")
}

func testAgentMissingGroup(t *testing.T, s parley.Store) {
	ctx := t.Context()
	g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "One"}
	must(t, s.CreateGroup(ctx, g), "create group")
	a := newAgent(parley.DefaultTenantID, "alice", g.ID, g.ID+1000)
	wantCode(t, s.CreateAgent(ctx, a), parley.EINVALID, "agent in a missing group")
	// The agent row and its valid membership were rolled back together.
	_, err := s.AgentByLogin(ctx, parley.DefaultTenantID, "alice")
	wantCode(t, err, parley.ENOTFOUND, "agent after a refused create")
	as, err := s.Agents(ctx, 0)
	must(t, err, "agents")
	if len(as) != 0 {
		t.Errorf("a refused create left %d agents", len(as))
	}
}

func testAgentsList(t *testing.T, s parley.Store) {
	ctx := t.Context()
	other := &parley.Tenant{Name: "Other"}
	must(t, s.CreateTenant(ctx, other), "create tenant")
	g1 := &parley.Group{TenantID: parley.DefaultTenantID, Name: "One"}
	must(t, s.CreateGroup(ctx, g1), "create group")
	g2 := &parley.Group{TenantID: other.ID, Name: "Two"}
	must(t, s.CreateGroup(ctx, g2), "create group")

	var all, defaults, others []parley.Agent
	for i, login := range []string{"x", "y", "z", "w"} {
		tenant, group := parley.DefaultTenantID, g1.ID
		if i%2 == 1 {
			tenant, group = other.ID, g2.ID
		}
		a := newAgent(tenant, login, group)
		a.Groups[0].Capacity = i
		must(t, s.CreateAgent(ctx, a), "create agent")
		all = append(all, normAgent(a))
		if tenant == parley.DefaultTenantID {
			defaults = append(defaults, normAgent(a))
		} else {
			others = append(others, normAgent(a))
		}
	}
	list := func(tenantID int64) []parley.Agent {
		as, err := s.Agents(ctx, tenantID)
		must(t, err, "agents")
		var out []parley.Agent
		for _, a := range as {
			out = append(out, normAgent(a))
		}
		return out
	}
	equal(t, "agents of the default tenant", list(parley.DefaultTenantID), defaults)
	equal(t, "agents of the other tenant", list(other.ID), others)
	equal(t, "agents of all tenants", list(0), all)
}

func testSessions(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := newAgent(parley.DefaultTenantID, "alice")
	must(t, s.CreateAgent(ctx, a), "create agent")
	sess := &parley.Session{
		TokenHash: []byte{0x00, 0x01, 0xfe, 0xff, 0x10},
		AgentID:   a.ID,
		TenantID:  a.TenantID,
		ExpiresAt: at(3600),
	}
	must(t, s.CreateSession(ctx, sess), "create session")
	if sess.CreatedAt.IsZero() {
		t.Error("CreateSession did not set CreatedAt")
	}
	got, err := s.Session(ctx, []byte{0x00, 0x01, 0xfe, 0xff, 0x10})
	must(t, err, "session")
	equal(t, "session", *got, *sess)

	expired := &parley.Session{TokenHash: []byte("expired"), AgentID: a.ID, TenantID: a.TenantID,
		CreatedAt: at(-7200), ExpiresAt: at(-3600)}
	must(t, s.CreateSession(ctx, expired), "create expired session")
	got, err = s.Session(ctx, []byte("expired"))
	must(t, err, "expired session")
	equal(t, "expired session", *got, *expired)

	dup := *sess
	wantCode(t, s.CreateSession(ctx, &dup), parley.ECONFLICT, "duplicate token")
	_, err = s.Session(ctx, []byte{0x00, 0x01, 0xfe, 0xff})
	wantCode(t, err, parley.ENOTFOUND, "prefix of a token")
	wantCode(t, s.CreateSession(ctx, &parley.Session{TokenHash: []byte("orphan"), AgentID: a.ID + 1000,
		TenantID: a.TenantID, ExpiresAt: at(0)}), parley.EINVALID, "session of a missing agent")

	must(t, s.DeleteSession(ctx, sess.TokenHash), "delete session")
	_, err = s.Session(ctx, sess.TokenHash)
	wantCode(t, err, parley.ENOTFOUND, "deleted session")
	wantCode(t, s.DeleteSession(ctx, sess.TokenHash), parley.ENOTFOUND, "delete a deleted session")
	_, err = s.Session(ctx, []byte("expired"))
	must(t, err, "the other session survives a delete")

	// All of an agent's sessions but one go, other agents' stay.
	b := newAgent(parley.DefaultTenantID, "bob")
	must(t, s.CreateAgent(ctx, b), "create agent")
	for _, h := range []string{"a1", "a2", "a3"} {
		must(t, s.CreateSession(ctx, &parley.Session{TokenHash: []byte(h), AgentID: a.ID, TenantID: a.TenantID, ExpiresAt: at(3600)}), "create session")
	}
	must(t, s.CreateSession(ctx, &parley.Session{TokenHash: []byte("b1"), AgentID: b.ID, TenantID: b.TenantID, ExpiresAt: at(3600)}), "create session")
	n, err := s.DeleteAgentSessions(ctx, a.ID, []byte("a2"))
	must(t, err, "delete agent sessions")
	if n != 3 { // a1, a3 and the expired one
		t.Errorf("DeleteAgentSessions deleted %d; want 3", n)
	}
	for h, want := range map[string]string{"a1": parley.ENOTFOUND, "a3": parley.ENOTFOUND, "expired": parley.ENOTFOUND, "a2": "", "b1": ""} {
		_, err := s.Session(ctx, []byte(h))
		if parley.ErrorCode(err) != want {
			t.Errorf("session %s after DeleteAgentSessions: %v; want code %q", h, err, want)
		}
	}
	n, err = s.DeleteAgentSessions(ctx, a.ID, nil)
	must(t, err, "delete all agent sessions")
	if n != 1 {
		t.Errorf("DeleteAgentSessions(nil) deleted %d; want 1", n)
	}
}

func testVisitors(t *testing.T, s parley.Store) {
	ctx := t.Context()
	v := &parley.Visitor{
		ID:          "visitor-1",
		TenantID:    parley.DefaultTenantID,
		Name:        "Vera Visitor",
		Email:       "vera@example.com",
		Phone:       "+49 30 1234",
		CustomerID:  "C-42",
		PrivateData: `{"plan":"gold"}`,
		TZOffset:    -300,
		TokenHash:   []byte("token-1"),
	}
	must(t, s.CreateVisitor(ctx, v), "create visitor")
	if v.CreatedAt.IsZero() {
		t.Error("CreateVisitor did not set CreatedAt")
	}
	got, err := s.Visitor(ctx, "visitor-1")
	must(t, err, "visitor")
	equal(t, "visitor", got, v)
	got, err = s.VisitorByToken(ctx, []byte("token-1"))
	must(t, err, "visitor by token")
	equal(t, "visitor by token", got, v)

	_, err = s.Visitor(ctx, "visitor-2")
	wantCode(t, err, parley.ENOTFOUND, "missing visitor")
	_, err = s.VisitorByToken(ctx, []byte("token-2"))
	wantCode(t, err, parley.ENOTFOUND, "missing token")
	_, err = s.VisitorByToken(ctx, nil)
	wantCode(t, err, parley.ENOTFOUND, "empty token")

	wantCode(t, s.CreateVisitor(ctx, &parley.Visitor{TenantID: parley.DefaultTenantID}), parley.EINVALID, "visitor without id")
	wantCode(t, s.CreateVisitor(ctx, &parley.Visitor{ID: "visitor-1", TenantID: parley.DefaultTenantID}), parley.ECONFLICT, "taken visitor id")
	wantCode(t, s.CreateVisitor(ctx, &parley.Visitor{ID: "visitor-3", TenantID: parley.DefaultTenantID,
		TokenHash: []byte("token-1")}), parley.ECONFLICT, "taken token")
	wantCode(t, s.CreateVisitor(ctx, &parley.Visitor{ID: "visitor-4", TenantID: 4242}), parley.EINVALID, "visitor of a missing tenant")
	// Visitors without a token do not collide with each other.
	for _, id := range []string{"tokenless-1", "tokenless-2"} {
		must(t, s.CreateVisitor(ctx, &parley.Visitor{ID: id, TenantID: parley.DefaultTenantID}), "create visitor without token")
	}

	upd := &parley.Visitor{ID: "visitor-1", Name: "Vera V.", Email: "vv@example.com", TZOffset: 60,
		TokenHash: []byte("ignored")}
	must(t, s.UpdateVisitor(ctx, upd), "update visitor")
	want := *upd
	want.TenantID, want.TokenHash, want.CreatedAt = v.TenantID, v.TokenHash, v.CreatedAt
	got, err = s.Visitor(ctx, "visitor-1")
	must(t, err, "visitor")
	equal(t, "updated visitor", *got, want)
	got, err = s.VisitorByToken(ctx, []byte("token-1"))
	must(t, err, "the token still finds the updated visitor")
	if got.Name != "Vera V." {
		t.Errorf("visitor by token named %q, want the updated name", got.Name)
	}
	_, err = s.VisitorByToken(ctx, []byte("ignored"))
	wantCode(t, err, parley.ENOTFOUND, "UpdateVisitor must not change the token")

	wantCode(t, s.UpdateVisitor(ctx, &parley.Visitor{ID: "visitor-9"}), parley.ENOTFOUND, "update of a missing visitor")
}
