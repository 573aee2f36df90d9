package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// archiveFixture holds chats with known customers, agents, groups, times
// and texts, plus a chat of another tenant that matches every filter.
type archiveFixture struct {
	*fixture
	groupB             *parley.Group
	vera, max, lee     *parley.Visitor
	c1, c2, c3, c4     string
	c5, c6             string // created at the same instant
	otherTenantMatches string
}

func newArchiveFixture(t *testing.T, s parley.Store) *archiveFixture {
	t.Helper()
	ctx := t.Context()
	f := &archiveFixture{fixture: newFixture(t, s, "Arch")}
	f.groupB = &parley.Group{TenantID: f.tenant, Name: "Arch Billing"}
	must(t, s.CreateGroup(ctx, f.groupB), "create group")
	visitor := func(id, name, email, phone, customer string) *parley.Visitor {
		v := &parley.Visitor{ID: id, TenantID: f.tenant, Name: name, Email: email, Phone: phone, CustomerID: customer}
		must(t, s.CreateVisitor(ctx, v), "create visitor")
		return v
	}
	f.vera = f.visitor
	f.vera.Email, f.vera.Phone = "vera@example.com", "+49 30 111"
	must(t, s.UpdateVisitor(ctx, f.vera), "update visitor")
	f.max = visitor("arch-max", "Max Power", "max@MAIL.test", "555-0100", "")
	f.lee = visitor("arch-lee", "Lee", "", "", "C-77")

	type spec struct {
		id      string
		group   *parley.Group
		visitor *parley.Visitor
		agents  []*parley.Agent
		sec     int
		text    string
	}
	specs := []spec{
		{"arch-1", f.group, f.vera, []*parley.Agent{f.agent}, 0, "My ORDER 42 is late"},
		{"arch-2", f.groupB, f.max, []*parley.Agent{f.agent2}, 60, "invoice question"},
		{"arch-3", f.group, f.vera, []*parley.Agent{f.agent, f.agent2}, 120, "is there a 50% discount?"},
		{"arch-4", f.groupB, f.lee, nil, 180, "hello_world"},
		{"arch-5", f.group, f.max, []*parley.Agent{f.agent}, 240, "same time"},
		{"arch-6", f.group, f.max, []*parley.Agent{f.agent}, 240, "same time"},
	}
	for _, sp := range specs {
		c := f.chat(sp.id, at(sp.sec))
		c.GroupID, c.VisitorID, c.AgentID, c.OfferedTo = sp.group.ID, sp.visitor.ID, 0, 0
		c.State, c.Cause, c.EndedAt = parley.StateTerminated, parley.CauseAgentEnded, at(sp.sec+30)
		c.Participants = []parley.Participant{{Party: parley.Party{Kind: parley.PartyVisitor, Name: sp.visitor.Name}, JoinedAt: at(sp.sec)}}
		for i, a := range sp.agents {
			c.Participants = append(c.Participants, parley.Participant{
				Party:    parley.Party{Kind: parley.PartyAgent, AgentID: a.ID, Name: a.DisplayName},
				JoinedAt: at(sp.sec + 1 + i), LeftAt: at(sp.sec + 20)})
			c.AgentID = a.ID
		}
		if len(sp.agents) == 0 {
			c.Cause, c.AcceptedAt = parley.CauseVisitorLeft, time.Time{}
		}
		f.create(t, c, message(sp.text, sp.sec+5))
	}
	f.c1, f.c2, f.c3, f.c4, f.c5, f.c6 = "arch-1", "arch-2", "arch-3", "arch-4", "arch-5", "arch-6"

	// Another tenant's chat matches every filter by value; it must never
	// show up.
	o := newFixture(t, s, "Other")
	o.visitor.Email = "vera@example.com"
	must(t, s.UpdateVisitor(ctx, o.visitor), "update visitor")
	oc := o.chat("arch-other", at(100))
	f.otherTenantMatches = oc.ID
	o.create(t, oc, message("ORDER 42 discount 50% hello_world", 101))
	return f
}

func (f *archiveFixture) search(t *testing.T, q parley.ArchiveQuery) []string {
	t.Helper()
	if q.TenantID == 0 {
		q.TenantID = f.tenant
	}
	must(t, q.Validate(), "validate query")
	page, err := f.s.SearchChats(t.Context(), q)
	must(t, err, "search chats")
	if page.Chats == nil {
		t.Error("a search returned a nil list")
	}
	ids := []string{}
	for _, c := range page.Chats {
		ids = append(ids, c.ID)
	}
	if page.Next != "" {
		t.Errorf("search %+v: a single page has a next cursor", q)
	}
	return ids
}

func testArchiveFilters(t *testing.T, s parley.Store) {
	f := newArchiveFixture(t, s)
	all := []string{f.c6, f.c5, f.c4, f.c3, f.c2, f.c1}
	for _, tc := range []struct {
		name string
		q    parley.ArchiveQuery
		want []string
	}{
		{"everything, newest first, ties by ID descending", parley.ArchiveQuery{}, all},
		{"customer by name, any case", parley.ArchiveQuery{Customer: "VERA"}, []string{f.c3, f.c1}},
		{"customer by email, any case", parley.ArchiveQuery{Customer: "mail.TEST"}, []string{f.c6, f.c5, f.c2}},
		{"customer by part of the phone", parley.ArchiveQuery{Customer: "30 11"}, []string{f.c3, f.c1}},
		{"customer by customer ID", parley.ArchiveQuery{Customer: "c-77"}, []string{f.c4}},
		{"customer unknown", parley.ArchiveQuery{Customer: "nobody"}, []string{}},
		{"agent who handled", parley.ArchiveQuery{AgentID: f.agent2.ID}, []string{f.c3, f.c2}},
		{"agent who took part before a transfer", parley.ArchiveQuery{AgentID: f.agent.ID}, []string{f.c6, f.c5, f.c3, f.c1}},
		{"group", parley.ArchiveQuery{GroupID: f.groupB.ID}, []string{f.c4, f.c2}},
		{"visitor", parley.ArchiveQuery{VisitorID: f.max.ID}, []string{f.c6, f.c5, f.c2}},
		{"date range, from inclusive, to exclusive", parley.ArchiveQuery{From: at(60), To: at(180)}, []string{f.c3, f.c2}},
		{"from only", parley.ArchiveQuery{From: at(180)}, []string{f.c6, f.c5, f.c4}},
		{"to only", parley.ArchiveQuery{To: at(60)}, []string{f.c1}},
		{"text, any case", parley.ArchiveQuery{Text: "order"}, []string{f.c1}},
		{"text with a LIKE wildcard taken literally", parley.ArchiveQuery{Text: "50%"}, []string{f.c3}},
		{"percent sign alone", parley.ArchiveQuery{Text: "%"}, []string{f.c3}},
		{"underscore taken literally", parley.ArchiveQuery{Text: "o_w"}, []string{f.c4}},
		{"filters combine", parley.ArchiveQuery{GroupID: f.group.ID, Customer: "vera", Text: "discount"}, []string{f.c3}},
		{"filters combine to nothing", parley.ArchiveQuery{GroupID: f.groupB.ID, Customer: "vera"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := f.search(t, tc.q)
			equal(t, "chats", got, tc.want)
			if slices.Contains(got, f.otherTenantMatches) {
				t.Error("another tenant's chat was found")
			}
		})
	}
	// Results carry the full chat with participants.
	page, err := s.SearchChats(t.Context(), parley.ArchiveQuery{TenantID: f.tenant, Customer: "vera", Text: "discount", Limit: 5})
	must(t, err, "search")
	if len(page.Chats) != 1 || len(page.Chats[0].Participants) != 3 || page.Chats[0].GroupID != f.group.ID ||
		!page.Chats[0].CreatedAt.Equal(at(120)) || page.Chats[0].State != parley.StateTerminated {
		t.Errorf("search result %s", show(page.Chats))
	}
}

func testArchivePaging(t *testing.T, s parley.Store) {
	f := newArchiveFixture(t, s)
	all := []string{f.c6, f.c5, f.c4, f.c3, f.c2, f.c1}
	for _, limit := range []int{1, 2, 4, 6, 7} {
		var got []string
		q := parley.ArchiveQuery{TenantID: f.tenant, Limit: limit}
		for pages := 1; ; pages++ {
			page, err := s.SearchChats(t.Context(), q)
			must(t, err, "search page")
			if len(page.Chats) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(page.Chats))
			}
			for _, c := range page.Chats {
				got = append(got, c.ID)
			}
			if page.Next == "" {
				break
			}
			if len(page.Chats) != limit {
				t.Fatalf("limit %d: a short page %d has a next cursor", limit, pages)
			}
			if pages > len(all) {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			q.Before = page.Next
		}
		equal(t, "all pages in order", got, all)
	}
	// Paging composes with filters.
	var got []string
	q := parley.ArchiveQuery{TenantID: f.tenant, AgentID: f.agent.ID, Limit: 3}
	for {
		page, err := s.SearchChats(t.Context(), q)
		must(t, err, "search page")
		for _, c := range page.Chats {
			got = append(got, c.ID)
		}
		if page.Next == "" {
			break
		}
		q.Before = page.Next
	}
	equal(t, "filtered pages", got, []string{f.c6, f.c5, f.c3, f.c1})

	_, err := s.SearchChats(t.Context(), parley.ArchiveQuery{TenantID: f.tenant, Limit: 2, Before: "not a cursor!"})
	wantCode(t, err, parley.EINVALID, "a malformed cursor")
}

func testCanned(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "Can")
	c := &parley.CannedResponse{TenantID: f.tenant, GroupID: f.group.ID, Folder: "Greetings/Formal", Shortcut: "greet",
		Title: "Hello", Text: "Hello {visitor.name}"}
	must(t, s.CreateCanned(ctx, c), "create canned")
	if c.ID < 1 || c.CreatedAt.IsZero() || !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Fatalf("created %s", show(c))
	}
	got, err := s.Canned(ctx, c.ID)
	must(t, err, "canned")
	equal(t, "stored canned", *got, *c)

	shared := &parley.CannedResponse{TenantID: f.tenant, Shortcut: "greet", Title: "Hi", Text: "Hi"}
	must(t, s.CreateCanned(ctx, shared), "same shortcut in another group (shared)")
	dup := &parley.CannedResponse{TenantID: f.tenant, GroupID: f.group.ID, Shortcut: "greet", Title: "x", Text: "x"}
	wantCode(t, s.CreateCanned(ctx, dup), parley.ECONFLICT, "a taken shortcut")
	noShortcut := &parley.CannedResponse{TenantID: f.tenant, GroupID: f.group.ID, Title: "A", Text: "a"}
	must(t, s.CreateCanned(ctx, noShortcut), "first without a shortcut")
	noShortcut2 := &parley.CannedResponse{TenantID: f.tenant, GroupID: f.group.ID, Title: "B", Text: "b"}
	must(t, s.CreateCanned(ctx, noShortcut2), "second without a shortcut")
	wantCode(t, s.CreateCanned(ctx, &parley.CannedResponse{TenantID: 999999, Title: "x", Text: "x"}), parley.EINVALID, "missing tenant")

	c.Text, c.Folder, c.TenantID = "Good day {visitor.name}", "Greetings", 999999
	must(t, s.UpdateCanned(ctx, c), "update canned")
	got, err = s.Canned(ctx, c.ID)
	must(t, err, "canned")
	if got.Text != "Good day {visitor.name}" || got.Folder != "Greetings" || got.TenantID != f.tenant || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("updated %s", show(got))
	}
	noShortcut.Shortcut = "greet"
	wantCode(t, s.UpdateCanned(ctx, noShortcut), parley.ECONFLICT, "update to a taken shortcut")
	wantCode(t, s.UpdateCanned(ctx, &parley.CannedResponse{ID: 999999, Title: "x", Text: "x"}), parley.ENOTFOUND, "update missing")

	list, err := s.CannedResponses(ctx, f.tenant)
	must(t, err, "list")
	var titles []string
	for _, r := range list {
		titles = append(titles, r.Title)
	}
	// By group (shared first), folder, title.
	equal(t, "order", titles, []string{"Hi", "A", "B", "Hello"})

	must(t, s.DeleteCanned(ctx, c.ID), "delete")
	wantCode(t, s.DeleteCanned(ctx, c.ID), parley.ENOTFOUND, "delete twice")
	_, err = s.Canned(ctx, c.ID)
	wantCode(t, err, parley.ENOTFOUND, "deleted")
	empty, err := s.CannedResponses(ctx, parley.DefaultTenantID)
	must(t, err, "list empty")
	if empty == nil || len(empty) != 0 {
		t.Errorf("empty list %v", empty)
	}
}

func testOutbox(t *testing.T, s parley.Store) {
	ctx := t.Context()
	mk := func(key, to string, created time.Time) *parley.OutboxMail {
		return &parley.OutboxMail{TenantID: parley.DefaultTenantID, Key: key, ChatID: "c", MessageID: "id-" + to,
			From: "chat@example.com", To: to, Subject: "S", Text: "T", CreatedAt: created}
	}
	a := mk("", "a@example.com", at(0))
	created, err := s.EnqueueMail(ctx, a)
	must(t, err, "enqueue")
	if !created || a.ID < 1 || a.Status != parley.MailPending || !a.NextAttempt.Equal(at(0)) {
		t.Fatalf("enqueued %s", show(a))
	}
	b := mk("k", "b@example.com", at(1))
	_, err = s.EnqueueMail(ctx, b)
	must(t, err, "enqueue b")
	again := mk("k", "other@example.com", at(2))
	created, err = s.EnqueueMail(ctx, again)
	must(t, err, "enqueue with a taken key")
	if created || again.ID != b.ID || again.To != "b@example.com" {
		t.Errorf("a second mail with a key gave created=%v %s", created, show(again))
	}

	if got, err := s.ClaimMail(ctx, at(0).Add(-time.Second), time.Minute, 10); err != nil || len(got) != 0 {
		t.Fatalf("claim before due: %v %v", got, err)
	}
	got, err := s.ClaimMail(ctx, at(5), time.Minute, 1)
	must(t, err, "claim")
	if len(got) != 1 || got[0].ID != a.ID || got[0].Attempts != 1 || !got[0].NextAttempt.Equal(at(65)) || got[0].Text != "T" {
		t.Fatalf("claimed %s", show(got))
	}
	got, err = s.ClaimMail(ctx, at(5), time.Minute, 10)
	must(t, err, "claim the rest")
	if len(got) != 1 || got[0].ID != b.ID {
		t.Fatalf("second claim %s; want only b (a is leased)", show(got))
	}
	must(t, s.MarkMailSent(ctx, b.ID, at(6)), "mark sent")
	must(t, s.MarkMailFailed(ctx, a.ID, at(100), "421 try later", false), "mark failed")
	if got, _ := s.ClaimMail(ctx, at(99), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed before the retry is due: %s", show(got))
	}
	got, err = s.ClaimMail(ctx, at(100), time.Minute, 10)
	must(t, err, "claim retry")
	if len(got) != 1 || got[0].ID != a.ID || got[0].Attempts != 2 || got[0].LastError != "421 try later" {
		t.Fatalf("retry claim %s", show(got))
	}
	must(t, s.MarkMailFailed(ctx, a.ID, at(200), "550 no", true), "mark failed for good")
	if got, _ := s.ClaimMail(ctx, at(10000), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed sent or failed mail: %s", show(got))
	}
	ma, err := s.Mail(ctx, a.ID)
	must(t, err, "mail a")
	mb, err := s.Mail(ctx, b.ID)
	must(t, err, "mail b")
	if ma.Status != parley.MailFailed || mb.Status != parley.MailSent || !mb.SentAt.Equal(at(6)) || ma.Key != "" || mb.Key != "k" {
		t.Errorf("final states %s %s", show(ma), show(mb))
	}
	_, err = s.Mail(ctx, 999999)
	wantCode(t, err, parley.ENOTFOUND, "missing mail")
	wantCode(t, s.MarkMailSent(ctx, 999999, at(0)), parley.ENOTFOUND, "mark missing")
}

func testInternalMessages(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "Int")
	carol := newAgent(f.tenant, "Int-carol", f.group.ID)
	must(t, s.CreateAgent(ctx, carol), "create agent")
	party := func(a *parley.Agent) parley.Party {
		return parley.Party{Kind: parley.PartyAgent, AgentID: a.ID, Name: a.DisplayName}
	}
	send := func(from, to *parley.Agent, text string, sec int) *parley.InternalMessage {
		t.Helper()
		m := &parley.InternalMessage{TenantID: f.tenant, From: party(from), To: party(to), Text: text, At: at(sec)}
		must(t, s.CreateInternalMessage(ctx, m), "create internal message")
		return m
	}
	m1 := send(f.agent, f.agent2, "one", 0)
	m2 := send(f.agent2, f.agent, "two", 1)
	send(f.agent, carol, "not for bob", 2)
	m3 := send(f.agent, f.agent2, "three", 3)
	if m1.ID < 1 || !(m1.ID < m2.ID && m2.ID < m3.ID) {
		t.Fatalf("ids %d %d %d", m1.ID, m2.ID, m3.ID)
	}
	got, err := s.InternalMessages(ctx, f.tenant, f.agent2.ID, f.agent.ID, 0, 10)
	must(t, err, "list")
	equal(t, "conversation, newest first", got, []*parley.InternalMessage{m3, m2, m1})
	page, err := s.InternalMessages(ctx, f.tenant, f.agent.ID, f.agent2.ID, m3.ID, 1)
	must(t, err, "page")
	equal(t, "second page", page, []*parley.InternalMessage{m2})
	other, err := s.InternalMessages(ctx, parley.DefaultTenantID, f.agent.ID, f.agent2.ID, 0, 10)
	must(t, err, "other tenant")
	if other == nil || len(other) != 0 {
		t.Errorf("another tenant sees %v", other)
	}
	wantCode(t, s.CreateInternalMessage(ctx, &parley.InternalMessage{TenantID: f.tenant, From: party(f.agent),
		To: parley.Party{Kind: parley.PartyAgent, AgentID: 999999}, Text: "x"}), parley.EINVALID, "to a missing agent")
}
