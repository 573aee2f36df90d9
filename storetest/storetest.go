// Package storetest is the conformance suite every parley.Store must pass.
//
// A store's own tests call Run with a function that opens a fresh store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) parley.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Beyond the doc comments of parley.Store, the suite pins down what the
// interface leaves open, so that every store behaves the same:
//
//   - Create* set CreatedAt only when it is zero, and generated IDs are >= 1
//     and never collide with IDs the caller chose.
//   - Times come back in UTC and equal (time.Equal) what the store returned
//     or was given at microsecond precision; PostgreSQL keeps no more.
//   - A reference to a missing tenant, group, visitor, agent or chat gives
//     EINVALID; a delete or update of a missing record gives ENOTFOUND, as do
//     Events of a missing chat.
//   - Lists are ordered by ID (chats: by creation time, then ID); reads
//     return memberships sorted by group ID and participants in stored
//     order. Lists of nothing are empty, not nil, so they encode as [].
//   - Stored events keep no Typing or Queue fields; Signal comes back as
//     equivalent (compacted) JSON.
package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// Run runs the suite as subtests of t. open is called once per subtest and
// must return a new, empty, migrated store (holding only the default
// tenant) that it closes when the subtest ends, e.g. with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) parley.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s parley.Store)
	}{
		{"Ping", testPing},
		{"DefaultTenant", testDefaultTenant},
		{"Tenants", testTenants},
		{"GeneratedIDsAvoidExplicitOnes", testGeneratedIDs},
		{"Groups", testGroups},
		{"GroupNames", testGroupNames},
		{"UpdateGroup", testUpdateGroup},
		{"GroupsList", testGroupsList},
		{"Agents", testAgents},
		{"AgentLogins", testAgentLogins},
		{"UpdateAgent", testUpdateAgent},
		{"AgentWithMissingGroup", testAgentMissingGroup},
		{"AgentsList", testAgentsList},
		{"Sessions", testSessions},
		{"Visitors", testVisitors},
		{"CreateChat", testCreateChat},
		{"CreateChatErrors", testCreateChatErrors},
		{"UpdateChat", testUpdateChat},
		{"UpdateChatVersionConflict", testUpdateChatConflict},
		{"UpdateChatNotFound", testUpdateChatNotFound},
		{"UpdateChatAfterAppend", testUpdateChatAfterAppend},
		{"AppendEvents", testAppendEvents},
		{"AppendEventsIdempotent", testAppendIdempotent},
		{"AppendEventsRefusesEphemeral", testAppendEphemeral},
		{"AppendEventsNotFound", testAppendNotFound},
		{"EventsPaging", testEventsPaging},
		{"EventPayloads", testEventPayloads},
		{"Times", testTimes},
		{"ChatsFilter", testChatsFilter},
		{"ChatsOrder", testChatsOrder},
		{"Attachments", testAttachments},
		{"Ratings", testRatings},
		{"OfflineMessages", testOfflineMessages},
		{"EmptyListsAreNotNil", testEmptyLists},
		{"ConcurrentAppend", testConcurrentAppend},
		{"ConcurrentRetry", testConcurrentRetry},
		{"ConcurrentAppendManyChats", testConcurrentAppendManyChats},
		{"ConcurrentRetryManyChats", testConcurrentRetryManyChats},
		{"ArchiveFilters", testArchiveFilters},
		{"ArchivePaging", testArchivePaging},
		{"Canned", testCanned},
		{"Triggers", testTriggers},
		{"Outbox", testOutbox},
		{"InternalMessages", testInternalMessages},
		{"RetentionPolicies", testRetentionPolicies},
		{"Purge", testPurge},
		{"EraseVisitor", testEraseVisitor},
		{"TenantWidget", testTenantWidget},
		{"AgentAdmin", testAgentAdmin},
		{"Audit", testAudit},
		{"ReadPositions", testReadPositions},
		{"DeleteGroup", testDeleteGroup},
		{"DeleteTenant", testDeleteTenant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// base is a fixed instant with microsecond precision, the finest that
// every store keeps.
var base = time.Date(2026, 11, 21, 9, 30, 15, 123456000, time.UTC)

// at returns base plus sec seconds.
func at(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantCode fails t unless err carries the parley error code.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

// show formats v with the targets of pointers, which %+v hides.
func show(v any) string {
	switch x := v.(type) {
	case parley.Event:
		return showEvent(x)
	case []parley.Event:
		s := "["
		for _, e := range x {
			s += "\n  " + showEvent(e)
		}
		return s + "]"
	case *parley.Chat:
		if x != nil {
			return fmt.Sprintf("&%+v", *x)
		}
	case *parley.Agent:
		if x != nil {
			return fmt.Sprintf("&%+v", *x)
		}
	case *parley.Group:
		if x != nil {
			return fmt.Sprintf("&%+v limits{%s}", *x, showLimits(x.Limits))
		}
	case *parley.Visitor:
		if x != nil {
			return fmt.Sprintf("&%+v", *x)
		}
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
		s := "["
		for i := range rv.Len() {
			s += "\n  " + show(rv.Index(i).Interface())
		}
		return s + "]"
	}
	return fmt.Sprintf("%+v", v)
}

func showEvent(e parley.Event) string {
	s := fmt.Sprintf("{chat=%s seq=%d type=%s at=%s from=%+v audience=%q client=%q text=%q notice=%q args=%q url=%q signal=%s typing=%v",
		e.ChatID, e.Seq, e.Type, e.At.Format(time.RFC3339Nano), e.From, e.Audience, e.ClientID, e.Text,
		e.Notice, e.Args, e.URL, e.Signal, e.Typing)
	if e.State != nil {
		s += fmt.Sprintf(" state=%+v", *e.State)
		if e.State.Queue != nil {
			s += fmt.Sprintf(" state.queue=%+v", *e.State.Queue)
		}
	}
	if e.File != nil {
		s += fmt.Sprintf(" file=%+v", *e.File)
	}
	if e.Queue != nil {
		s += fmt.Sprintf(" queue=%+v", *e.Queue)
	}
	return s + "}"
}

func showLimits(l parley.GroupLimits) string {
	p := func(n *int) string {
		if n == nil {
			return "nil"
		}
		return fmt.Sprint(*n)
	}
	return fmt.Sprintf("len=%s kb=%s idle=%s cap=%s", p(l.MaxMessageLength), p(l.MaxAttachmentKB),
		p(l.IdleTimeoutSeconds), p(l.Capacity))
}

func intp(n int) *int { return &n }

// fixture is a tenant with a group, two agents and a visitor, enough to
// hang chats on.
type fixture struct {
	s       parley.Store
	tenant  int64
	group   *parley.Group
	agent   *parley.Agent
	agent2  *parley.Agent
	visitor *parley.Visitor
}

func newFixture(t *testing.T, s parley.Store, name string) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{s: s}
	tn := &parley.Tenant{Name: name}
	must(t, s.CreateTenant(ctx, tn), "create tenant")
	f.tenant = tn.ID
	f.group = &parley.Group{TenantID: tn.ID, Name: name + " Sales"}
	must(t, s.CreateGroup(ctx, f.group), "create group")
	f.agent = newAgent(tn.ID, name+"-alice", f.group.ID)
	must(t, s.CreateAgent(ctx, f.agent), "create agent")
	f.agent2 = newAgent(tn.ID, name+"-bob", f.group.ID)
	must(t, s.CreateAgent(ctx, f.agent2), "create agent")
	f.visitor = &parley.Visitor{ID: name + "-visitor", TenantID: tn.ID, Name: "Vera",
		TokenHash: []byte(name + "-visitor-token")}
	must(t, s.CreateVisitor(ctx, f.visitor), "create visitor")
	return f
}

func newAgent(tenantID int64, login string, groups ...int64) *parley.Agent {
	a := &parley.Agent{
		TenantID:    tenantID,
		Login:       login,
		DisplayName: login + " display",
		Role:        parley.RoleAgent,
		Capacity:    parley.DefaultCapacity,
		Presence:    parley.PresenceOffline,
		Status:      parley.StatusNotReady,
	}
	for _, g := range groups {
		a.Groups = append(a.Groups, parley.Membership{GroupID: g})
	}
	return a
}

// chat returns an unsaved chat of the fixture with every field set.
func (f *fixture) chat(id string, created time.Time) *parley.Chat {
	return &parley.Chat{
		ID:          id,
		TenantID:    f.tenant,
		GroupID:     f.group.ID,
		VisitorID:   f.visitor.ID,
		State:       parley.StateHandling,
		Cause:       parley.CauseNone,
		SessionID:   "session-" + id,
		AgentID:     f.agent.ID,
		OfferedTo:   f.agent2.ID,
		Priority:    3,
		IdleTimeout: 90 * time.Second,
		Participants: []parley.Participant{
			{Party: parley.Party{Kind: parley.PartyVisitor, Name: "Vera"}, JoinedAt: created},
			{Party: parley.Party{Kind: parley.PartyAgent, AgentID: f.agent.ID, Name: "Alice"},
				JoinedAt: created.Add(2 * time.Second), LeftAt: created.Add(9 * time.Second)},
		},
		CreatedAt:  created,
		QueuedAt:   created.Add(time.Second),
		AcceptedAt: created.Add(2 * time.Second),
	}
}

// create stores c with events and fails t on error.
func (f *fixture) create(t *testing.T, c *parley.Chat, events ...parley.Event) []parley.Event {
	t.Helper()
	out, err := f.s.CreateChat(t.Context(), c, events)
	must(t, err, "create chat "+c.ID)
	return out
}

func message(text string, sec int) parley.Event {
	return parley.Event{Type: parley.EventMessage, At: at(sec), Text: text,
		From: parley.Party{Kind: parley.PartyVisitor, Name: "Vera"}}
}

// normChat makes nil and empty participant lists compare equal.
func normChat(c *parley.Chat) parley.Chat {
	n := *c
	if len(n.Participants) == 0 {
		n.Participants = nil
	}
	return n
}

// normAgent makes nil and empty membership lists compare equal.
func normAgent(a *parley.Agent) parley.Agent {
	n := *a
	if len(n.Groups) == 0 {
		n.Groups = nil
	}
	return n
}

// normEvents makes nil and empty Args and Signal compare equal.
func normEvents(es []parley.Event) []parley.Event {
	out := make([]parley.Event, len(es))
	for i, e := range es {
		if len(e.Args) == 0 {
			e.Args = nil
		}
		if len(e.Signal) == 0 {
			e.Signal = nil
		}
		out[i] = e
	}
	return out
}

// seqs returns the sequence numbers of es.
func seqs(es []parley.Event) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

// span returns the seqs from..to.
func span(from, to int64) []int64 {
	out := []int64{}
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// events reads the whole log of a chat.
func events(t *testing.T, s parley.Store, chatID string) []parley.Event {
	t.Helper()
	es, err := s.Events(t.Context(), chatID, 0, 0)
	must(t, err, "events of "+chatID)
	return es
}

func loadChat(t *testing.T, s parley.Store, id string) *parley.Chat {
	t.Helper()
	c, err := s.Chat(t.Context(), id)
	must(t, err, "chat "+id)
	return c
}

// testEmptyLists: list methods return empty, non-nil slices when nothing
// matches, so that APIs encode them as [] rather than null.
func testEmptyLists(t *testing.T, s parley.Store) {
	ctx := t.Context()
	tenant := &parley.Tenant{Name: "Empty"}
	if err := s.CreateTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	groups, err := s.Groups(ctx, tenant.ID)
	if err != nil || groups == nil || len(groups) != 0 {
		t.Errorf("Groups of an empty tenant = %#v, %v; want an empty non-nil slice", groups, err)
	}
	agents, err := s.Agents(ctx, tenant.ID)
	if err != nil || agents == nil || len(agents) != 0 {
		t.Errorf("Agents of an empty tenant = %#v, %v; want an empty non-nil slice", agents, err)
	}
	chats, err := s.Chats(ctx, parley.ChatFilter{TenantID: tenant.ID})
	if err != nil || chats == nil || len(chats) != 0 {
		t.Errorf("Chats of an empty tenant = %#v, %v; want an empty non-nil slice", chats, err)
	}
}
