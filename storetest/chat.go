package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var (
	system = parley.Party{Kind: parley.PartySystem}
	vera   = parley.Party{Kind: parley.PartyVisitor, Name: "Vera"}
)

// withSeqs returns copies of in as the store should return them: with the
// chat id and seqs from first on.
func withSeqs(chatID string, first int64, in ...parley.Event) []parley.Event {
	out := make([]parley.Event, len(in))
	for i, e := range in {
		e.ChatID, e.Seq = chatID, first+int64(i)
		out[i] = e
	}
	return out
}

func testCreateChat(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	c := f.chat("chat-1", at(0))
	c.Version, c.LastSeq = 7, 9 // the store assigns both
	in := []parley.Event{
		{Type: parley.EventState, At: at(0), From: system, State: &parley.StateChange{
			State: parley.StateQueued, Cause: parley.CauseNone, Queue: &parley.QueueInfo{Position: 1, EstimatedWait: 30}}},
		message("hello", 1),
		{Type: parley.EventJoined, At: at(2), From: parley.Party{Kind: parley.PartyAgent, AgentID: f.agent.ID, Name: "Alice"}},
	}
	out := f.create(t, c, in...)
	equal(t, "created events", normEvents(out), normEvents(withSeqs("chat-1", 1, in...)))
	if c.Version != 1 || c.LastSeq != 3 {
		t.Errorf("CreateChat set version %d and last seq %d, want 1 and 3", c.Version, c.LastSeq)
	}
	equal(t, "stored log", normEvents(events(t, s, "chat-1")), normEvents(out))
	got := loadChat(t, s, "chat-1")
	equal(t, "stored chat", normChat(got), normChat(c))

	bare := f.chat("chat-2", at(5))
	bare.Participants = nil
	bare.AgentID, bare.OfferedTo, bare.AcceptedAt = 0, 0, time.Time{}
	bare.State, bare.Cause = parley.StateQueued, parley.CauseGeneral
	if out := f.create(t, bare); len(out) != 0 {
		t.Errorf("CreateChat without events returned %d events", len(out))
	}
	if bare.Version != 1 || bare.LastSeq != 0 {
		t.Errorf("CreateChat without events set version %d and last seq %d, want 1 and 0", bare.Version, bare.LastSeq)
	}
	equal(t, "chat without participants", normChat(loadChat(t, s, "chat-2")), normChat(bare))
	if es := events(t, s, "chat-2"); len(es) != 0 {
		t.Errorf("chat created without events has %d", len(es))
	}

	// CreatedAt left zero is set by the store.
	stamped := f.chat("chat-3", time.Time{})
	f.create(t, stamped)
	if stamped.CreatedAt.IsZero() {
		t.Error("CreateChat did not set a zero CreatedAt")
	}
	if got := loadChat(t, s, "chat-3"); !got.CreatedAt.Equal(stamped.CreatedAt) {
		t.Errorf("stored CreatedAt %v, CreateChat set %v", got.CreatedAt, stamped.CreatedAt)
	}
	_, err := s.Chat(ctx, "chat-4")
	wantCode(t, err, parley.ENOTFOUND, "missing chat")
}

func testCreateChatErrors(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	c := f.chat("chat-1", at(0))
	f.create(t, c, message("first", 1))
	before := loadChat(t, s, "chat-1")

	dup := f.chat("chat-1", at(10))
	dup.Priority = 99
	_, err := s.CreateChat(ctx, dup, []parley.Event{message("second", 11)})
	wantCode(t, err, parley.ECONFLICT, "taken chat id")
	equal(t, "chat after a refused create", loadChat(t, s, "chat-1"), before)
	if es := events(t, s, "chat-1"); len(es) != 1 || es[0].Text != "first" {
		t.Errorf("log after a refused create = %s, want only the first message", show(es))
	}

	_, err = s.CreateChat(ctx, f.chat("", at(0)), nil)
	wantCode(t, err, parley.EINVALID, "chat without id")

	refused := []struct {
		name   string
		chat   func() *parley.Chat
		events []parley.Event
	}{
		{"typing event", func() *parley.Chat { return f.chat("typing", at(0)) },
			[]parley.Event{message("hi", 0), {Type: parley.EventTyping, Typing: true, From: vera}}},
		{"queue event", func() *parley.Chat { return f.chat("queue", at(0)) },
			[]parley.Event{{Type: parley.EventQueue, Queue: &parley.QueueInfo{Position: 1}}}},
		{"event of another chat", func() *parley.Chat { return f.chat("foreign", at(0)) },
			[]parley.Event{{ChatID: "chat-1", Type: parley.EventMessage, Text: "x"}}},
		{"missing group", func() *parley.Chat { c := f.chat("nogroup", at(0)); c.GroupID += 1000; return c }, nil},
		{"missing visitor", func() *parley.Chat { c := f.chat("novisitor", at(0)); c.VisitorID = "nobody"; return c }, nil},
		{"missing tenant", func() *parley.Chat { c := f.chat("notenant", at(0)); c.TenantID = 4242; return c }, nil},
		{"missing agent", func() *parley.Chat { c := f.chat("noagent", at(0)); c.AgentID += 1000; return c }, nil},
	}
	for _, r := range refused {
		c := r.chat()
		_, err := s.CreateChat(ctx, c, r.events)
		wantCode(t, err, parley.EINVALID, r.name)
		_, err = s.Chat(ctx, c.ID)
		wantCode(t, err, parley.ENOTFOUND, "chat after a refused create with a "+r.name)
		if c.Version != 0 {
			t.Errorf("a refused create (%s) set the chat's version to %d", r.name, c.Version)
		}
	}
}

func testUpdateChat(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	g2 := &parley.Group{TenantID: f.tenant, Name: "Billing"}
	must(t, s.CreateGroup(ctx, g2), "create group")
	c := f.chat("chat-1", at(0))
	f.create(t, c, message("a", 1), message("b", 2))

	upd := *c
	upd.TenantID = f.tenant
	upd.GroupID = g2.ID
	upd.State, upd.Cause = parley.StateTerminated, parley.CauseAgentEnded
	upd.SessionID = "other-session"
	upd.AgentID, upd.OfferedTo = f.agent2.ID, 0
	upd.Priority, upd.IdleTimeout = 0, 0
	upd.QueuedAt, upd.AcceptedAt, upd.EndedAt = at(30), time.Time{}, at(60)
	upd.TransferNote = "Wants a refund; order 4711."
	upd.Participants = []parley.Participant{
		{Party: parley.Party{Kind: parley.PartyAgent, AgentID: f.agent2.ID, Name: "Bob"}, JoinedAt: at(20), LeftAt: at(60)},
	}
	in := []parley.Event{
		{Type: parley.EventLeft, At: at(59), From: parley.Party{Kind: parley.PartyAgent, AgentID: f.agent2.ID, Name: "Bob"}},
		{Type: parley.EventState, At: at(60), From: system, State: &parley.StateChange{
			State: parley.StateTerminated, Cause: parley.CauseAgentEnded}},
	}
	out, err := s.UpdateChat(ctx, &upd, in)
	must(t, err, "update chat")
	equal(t, "appended events", normEvents(out), normEvents(withSeqs("chat-1", 3, in...)))
	if upd.Version != 2 || upd.LastSeq != 4 {
		t.Errorf("UpdateChat set version %d and last seq %d, want 2 and 4", upd.Version, upd.LastSeq)
	}
	equal(t, "updated chat", normChat(loadChat(t, s, "chat-1")), normChat(&upd))
	log := events(t, s, "chat-1")
	equal(t, "log seqs", seqs(log), span(1, 4))
	equal(t, "log tail", normEvents(log[2:]), normEvents(out))

	// No events: only the record and its version change.
	upd.Priority = 5
	out, err = s.UpdateChat(ctx, &upd, nil)
	must(t, err, "update chat without events")
	if len(out) != 0 || upd.Version != 3 || upd.LastSeq != 4 {
		t.Errorf("UpdateChat without events: %d events, version %d, last seq %d; want 0, 3, 4", len(out), upd.Version, upd.LastSeq)
	}
	if got := loadChat(t, s, "chat-1"); got.Priority != 5 || got.Version != 3 || len(got.Participants) != 1 {
		t.Errorf("chat after update = %s, want priority 5, version 3, one participant", show(got))
	}

	// Participants are replaced, so an empty list removes them all.
	upd.Participants = nil
	_, err = s.UpdateChat(ctx, &upd, nil)
	must(t, err, "update chat without participants")
	if got := loadChat(t, s, "chat-1"); len(got.Participants) != 0 {
		t.Errorf("participants after replacing them with none: %+v", got.Participants)
	}

	bad := upd
	bad.GroupID = g2.ID + 1000
	_, err = s.UpdateChat(ctx, &bad, nil)
	wantCode(t, err, parley.EINVALID, "update to a missing group")
	if got := loadChat(t, s, "chat-1"); got.GroupID != g2.ID || got.Version != upd.Version {
		t.Errorf("a refused update changed the chat: %s", show(got))
	}
}

func testUpdateChatConflict(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	c := f.chat("chat-1", at(0))
	f.create(t, c, message("a", 1))
	stale := *c
	fresh := *c
	fresh.Priority = 9
	_, err := s.UpdateChat(ctx, &fresh, []parley.Event{message("b", 2)})
	must(t, err, "update chat")
	before := loadChat(t, s, "chat-1")
	beforeLog := events(t, s, "chat-1")

	stale.State = parley.StateTerminated
	stale.Participants = nil
	_, err = s.UpdateChat(ctx, &stale, []parley.Event{message("c", 3)})
	wantCode(t, err, parley.ECONFLICT, "update with a stale version")
	equal(t, "chat after a conflict", loadChat(t, s, "chat-1"), before)
	equal(t, "log after a conflict", events(t, s, "chat-1"), beforeLog)
	if stale.Version != 1 || stale.LastSeq != 1 {
		t.Errorf("a refused update set the caller's version %d and last seq %d, want 1 and 1", stale.Version, stale.LastSeq)
	}

	// With the current version the same update goes through, and the
	// refused event did not use up a seq.
	stale.Version = before.Version
	out, err := s.UpdateChat(ctx, &stale, []parley.Event{message("c", 3)})
	must(t, err, "update with the current version")
	equal(t, "seqs after a conflict", seqs(out), []int64{3})
	if stale.Version != before.Version+1 {
		t.Errorf("version %d after update, want %d", stale.Version, before.Version+1)
	}
}

func testUpdateChatNotFound(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	c := f.chat("ghost", at(0))
	c.Version = 1
	_, err := s.UpdateChat(ctx, c, nil)
	wantCode(t, err, parley.ENOTFOUND, "update of a missing chat")
	_, err = s.UpdateChat(ctx, c, []parley.Event{message("x", 1)})
	wantCode(t, err, parley.ENOTFOUND, "update of a missing chat with events")

	real := f.chat("chat-1", at(0))
	f.create(t, real)
	upd := *real
	upd.Priority = 42
	_, err = s.UpdateChat(ctx, &upd, []parley.Event{message("x", 1), {Type: parley.EventTyping, Typing: true}})
	wantCode(t, err, parley.EINVALID, "update with a typing event")
	if got := loadChat(t, s, "chat-1"); got.Version != 1 || got.Priority == 42 || got.LastSeq != 0 {
		t.Errorf("an update refused for its events changed the chat: %s", show(got))
	}
}

func testUpdateChatAfterAppend(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	c := f.chat("chat-1", at(0))
	f.create(t, c, message("a", 1))
	out, err := s.AppendEvents(ctx, "chat-1", []parley.Event{message("b", 2), message("c", 3)})
	must(t, err, "append")
	equal(t, "appended seqs", seqs(out), []int64{2, 3})
	got := loadChat(t, s, "chat-1")
	if got.Version != 1 || got.LastSeq != 3 {
		t.Errorf("after append: version %d, last seq %d; want 1 (unchanged) and 3", got.Version, got.LastSeq)
	}
	// c still holds version 1 and last seq 1: appends do not bump the
	// version, so the update succeeds and continues the log.
	c.State = parley.StateTerminated
	out, err = s.UpdateChat(ctx, c, []parley.Event{message("d", 4)})
	must(t, err, "update after append")
	equal(t, "seqs after append", seqs(out), []int64{4})
	if c.Version != 2 || c.LastSeq != 4 {
		t.Errorf("UpdateChat set version %d and last seq %d, want 2 and 4", c.Version, c.LastSeq)
	}
	equal(t, "log", seqs(events(t, s, "chat-1")), span(1, 4))
}

func testAppendEvents(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	f.create(t, f.chat("chat-1", at(0)), message("a", 1), message("b", 2))
	f.create(t, f.chat("chat-2", at(0)))

	stale := message("stale seq", 3)
	stale.Seq = 99 // the store assigns seqs
	in := []parley.Event{stale, message("d", 4), message("e", 5)}
	out, err := s.AppendEvents(ctx, "chat-1", in)
	must(t, err, "append")
	equal(t, "appended", normEvents(out), normEvents(withSeqs("chat-1", 3, in...)))
	equal(t, "log", normEvents(events(t, s, "chat-1")[2:]), normEvents(out))
	if got := loadChat(t, s, "chat-1"); got.LastSeq != 5 || got.Version != 1 {
		t.Errorf("after append: last seq %d, version %d; want 5 and 1", got.LastSeq, got.Version)
	}

	// An event without a time gets one.
	out, err = s.AppendEvents(ctx, "chat-1", []parley.Event{{Type: parley.EventMessage, From: vera, Text: "now"}})
	must(t, err, "append without time")
	if out[0].At.IsZero() || out[0].At.Location() != time.UTC || out[0].Seq != 6 {
		t.Errorf("appended event without time = %s, want seq 6 and a UTC time", show(out[0]))
	}
	if log := events(t, s, "chat-1"); !log[5].At.Equal(out[0].At) {
		t.Errorf("stored time %v, returned %v", log[5].At, out[0].At)
	}

	// Logs are per chat.
	out, err = s.AppendEvents(ctx, "chat-2", []parley.Event{message("x", 1)})
	must(t, err, "append to second chat")
	equal(t, "second chat seqs", seqs(out), []int64{1})

	out, err = s.AppendEvents(ctx, "chat-1", nil)
	must(t, err, "append nothing")
	if len(out) != 0 {
		t.Errorf("appending nothing returned %d events", len(out))
	}
	if got := loadChat(t, s, "chat-1"); got.LastSeq != 6 {
		t.Errorf("last seq %d after appending nothing, want 6", got.LastSeq)
	}
}

func testAppendIdempotent(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	created := message("created", 0)
	created.ClientID = "m0"
	f.create(t, f.chat("chat-1", at(0)), created)
	f.create(t, f.chat("chat-2", at(0)))

	first := message("hello", 1)
	first.ClientID = "m1"
	out1, err := s.AppendEvents(ctx, "chat-1", []parley.Event{first})
	must(t, err, "append")
	equal(t, "first send", seqs(out1), []int64{2})

	retry := message("hello, edited", 5)
	retry.ClientID = "m1"
	out2, err := s.AppendEvents(ctx, "chat-1", []parley.Event{retry})
	must(t, err, "retry")
	equal(t, "a retry returns the stored event", normEvents(out2), normEvents(out1))
	if got := loadChat(t, s, "chat-1"); got.LastSeq != 2 {
		t.Errorf("last seq %d after a retry, want 2", got.LastSeq)
	}

	// A batch mixing a stored key, a new key, no key and a key repeated
	// within the batch.
	m2 := message("second", 6)
	m2.ClientID = "m2"
	m2again := message("second again", 7)
	m2again.ClientID = "m2"
	m0 := message("created again", 8)
	m0.ClientID = "m0"
	out3, err := s.AppendEvents(ctx, "chat-1", []parley.Event{retry, m2, message("third", 7), m2again, m0})
	must(t, err, "mixed batch")
	equal(t, "mixed batch seqs", seqs(out3), []int64{2, 3, 4, 3, 1})
	if out3[1].Text != "second" || out3[3].Text != "second" || out3[4].Text != "created" {
		t.Errorf("mixed batch = %s, want the first copies' texts", show(out3))
	}
	log := events(t, s, "chat-1")
	equal(t, "log seqs", seqs(log), span(1, 4))
	equal(t, "log", normEvents(log[2:]), normEvents(out3[1:3]))

	// Keys are per chat.
	other := message("other chat", 1)
	other.ClientID = "m1"
	out4, err := s.AppendEvents(ctx, "chat-2", []parley.Event{other})
	must(t, err, "same key in another chat")
	if out4[0].Seq != 1 || out4[0].ChatID != "chat-2" || out4[0].Text != "other chat" {
		t.Errorf("same key in another chat gave %s", show(out4[0]))
	}
}

func testAppendEphemeral(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	f.create(t, f.chat("chat-1", at(0)))
	for _, e := range []parley.Event{
		{Type: parley.EventTyping, From: vera, Typing: true},
		{Type: parley.EventQueue, From: system, Queue: &parley.QueueInfo{Position: 2, EstimatedWait: 60}},
	} {
		_, err := s.AppendEvents(ctx, "chat-1", []parley.Event{message("ok", 1), e})
		wantCode(t, err, parley.EINVALID, "append of a "+string(e.Type)+" event")
	}
	_, err := s.AppendEvents(ctx, "chat-1", []parley.Event{{Text: "no type"}})
	wantCode(t, err, parley.EINVALID, "append of an event without type")
	if es := events(t, s, "chat-1"); len(es) != 0 {
		t.Errorf("refused batches stored %s", show(es))
	}
	if got := loadChat(t, s, "chat-1"); got.LastSeq != 0 {
		t.Errorf("refused batches moved last seq to %d", got.LastSeq)
	}
}

func testAppendNotFound(t *testing.T, s parley.Store) {
	ctx := t.Context()
	keyed := message("x", 1)
	keyed.ClientID = "k"
	for name, es := range map[string][]parley.Event{
		"plain": {message("x", 1)},
		"keyed": {keyed},
		"none":  nil,
	} {
		_, err := s.AppendEvents(ctx, "ghost", es)
		wantCode(t, err, parley.ENOTFOUND, "append to a missing chat ("+name+")")
	}
}

func testEventsPaging(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	var in []parley.Event
	for i := range 10 {
		in = append(in, message(string(rune('a'+i)), i))
	}
	f.create(t, f.chat("chat-1", at(0)), in...)
	f.create(t, f.chat("empty", at(0)))
	tests := []struct {
		after int64
		limit int
		want  []int64
	}{
		{0, 0, span(1, 10)},
		{0, 3, span(1, 3)},
		{3, 3, span(4, 6)},
		{9, 5, span(10, 10)},
		{10, 0, span(1, 0)},
		{20, 0, span(1, 0)},
		{0, -1, span(1, 10)},
		{-5, 2, span(1, 2)},
	}
	for _, tt := range tests {
		es, err := s.Events(ctx, "chat-1", tt.after, tt.limit)
		must(t, err, "events")
		equal(t, fmt.Sprintf("seqs of Events(after %d, limit %d)", tt.after, tt.limit), seqs(es), tt.want)
		for _, e := range es {
			if want := string(rune('a' + e.Seq - 1)); e.Text != want {
				t.Errorf("event %d has text %q, want %q", e.Seq, e.Text, want)
			}
		}
	}
	es, err := s.Events(ctx, "empty", 0, 0)
	must(t, err, "events of a chat without events")
	if len(es) != 0 {
		t.Errorf("a chat without events lists %d", len(es))
	}
	_, err = s.Events(ctx, "ghost", 0, 0)
	wantCode(t, err, parley.ENOTFOUND, "events of a missing chat")
}
