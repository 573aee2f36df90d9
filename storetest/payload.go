package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func testEventPayloads(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	f.create(t, f.chat("chat-1", at(0)))
	alice := parley.Party{Kind: parley.PartyAgent, AgentID: f.agent.ID, Name: "Alice"}
	file := &parley.Attachment{ID: "att-1", ChatID: "chat-1", Name: "report.pdf",
		ContentType: "application/pdf", Size: 12345,
		SHA256:    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		CreatedAt: at(5)}
	in := []parley.Event{
		{Type: parley.EventMessage, At: at(1), From: alice, Audience: parley.AudienceAgents,
			ClientID: "c-1", Text: "internal <b>note</b> & ünïcödé 😀\nsecond line"},
		{Type: parley.EventNotice, At: at(2), From: system, Notice: parley.NoticeTransferred,
			Text: "Transferred to Sales by Bob", Args: []string{"Sales", "Bob", ""}},
		{Type: parley.EventURL, At: at(3), From: alice, URL: "https://example.com/a?b=c&d=<e>"},
		{Type: parley.EventURL, At: at(3), From: parley.Party{Kind: parley.PartyVisitor, Name: "Vera"}, Audience: parley.AudienceAgents,
			URL: "https://shop.example/cart", Context: &parley.ChatContext{URL: "https://shop.example/cart", Title: "Cart – Shop",
				Referrer: "https://search.example/?q=shoes", UserAgent: "Mozilla/5.0 Chrome/131", Language: "de-DE", TimeZone: "Europe/Berlin"}},
		{Type: parley.EventState, At: at(4), From: system, State: &parley.StateChange{
			State: parley.StateQueued, Cause: parley.CauseNone,
			Queue: &parley.QueueInfo{Position: 2, EstimatedWait: -1}}},
		{Type: parley.EventState, At: at(5), From: system, State: &parley.StateChange{
			State: parley.StateHandling, Cause: parley.CauseGeneral}},
		{Type: parley.EventState, At: at(6), From: system, State: &parley.StateChange{
			State: parley.StateTerminated, Cause: parley.CauseIdleTimeout}},
		{Type: parley.EventFile, At: at(7), From: vera, File: file},
		{Type: parley.EventSignal, At: at(8), From: vera,
			Signal: json.RawMessage(`{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n","n":[1,2.5,null,true,"<&>"]}`)},
		{Type: parley.EventJoined, At: at(9), From: parley.Party{Kind: parley.PartyAgent, AgentID: f.agent2.ID, Name: "Bob"}},
		{Type: parley.EventLeft, At: at(10), From: vera},
		{Type: parley.EventSeen, At: at(10), From: vera, Seen: 7},
		// An unknown state and cause are kept as they are: stores hold
		// no business rules.
		{Type: parley.EventState, At: at(11), From: system, State: &parley.StateChange{
			State: parley.State(7), Cause: parley.Cause(42)}},
	}
	want := withSeqs("chat-1", 1, in...)
	out, err := s.AppendEvents(ctx, "chat-1", in)
	must(t, err, "append")
	equal(t, "returned events", normEvents(out), normEvents(want))
	equal(t, "stored events", normEvents(events(t, s, "chat-1")), normEvents(want))
	if !reflect.DeepEqual(*file, parley.Attachment{ID: "att-1", ChatID: "chat-1", Name: "report.pdf",
		ContentType: "application/pdf", Size: 12345, SHA256: file.SHA256, CreatedAt: at(5)}) {
		t.Errorf("AppendEvents changed the caller's attachment: %+v", *file)
	}

	// Signal is opaque JSON: it may come back compacted, but it means the
	// same, and what AppendEvents returns is what Events reads.
	spaced := json.RawMessage("{ \"type\" : \"answer\",\n  \"candidates\": [ {\"a\": 1}, {} ] }")
	out, err = s.AppendEvents(ctx, "chat-1", []parley.Event{{Type: parley.EventSignal, At: at(12), From: alice, Signal: spaced}})
	must(t, err, "append spaced signal")
	stored := events(t, s, "chat-1")[len(in)]
	if !bytes.Equal(stored.Signal, out[0].Signal) {
		t.Errorf("stored signal %s, returned %s", stored.Signal, out[0].Signal)
	}
	var a, b any
	must(t, json.Unmarshal(spaced, &a), "decode sent signal")
	must(t, json.Unmarshal(stored.Signal, &b), "decode stored signal")
	if !reflect.DeepEqual(a, b) {
		t.Errorf("stored signal %s means something else than %s", stored.Signal, spaced)
	}
	_, err = s.AppendEvents(ctx, "chat-1", []parley.Event{{Type: parley.EventSignal, From: alice, Signal: json.RawMessage(`{"broken":`)}})
	wantCode(t, err, parley.EINVALID, "signal that is not JSON")

	// Fields of ephemeral events are not part of the log.
	out, err = s.AppendEvents(ctx, "chat-1", []parley.Event{{Type: parley.EventMessage, At: at(13), From: vera,
		Text: "x", Typing: true, Queue: &parley.QueueInfo{Position: 1}}})
	must(t, err, "append message with ephemeral fields")
	stored = events(t, s, "chat-1")[len(in)+1]
	if stored.Typing || stored.Queue != nil {
		t.Errorf("stored event kept ephemeral fields: %s", show(stored))
	}
	equal(t, "returned event is the stored one", normEvents(out), normEvents([]parley.Event{stored}))
}

func testTimes(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	zone := time.FixedZone("UTC+2", 2*3600)
	local := time.Date(2026, 7, 1, 14, 0, 0, 654321000, zone)
	c := f.chat("chat-1", local)
	c.QueuedAt = local.Add(time.Microsecond)
	c.AcceptedAt = local.Add(1500 * time.Millisecond)
	c.EndedAt = time.Time{}
	c.Participants[1].LeftAt = time.Time{}
	f.create(t, c, parley.Event{Type: parley.EventMessage, At: local.Add(3 * time.Second), From: vera, Text: "hi"})

	checkTime := func(what string, got, want time.Time) {
		t.Helper()
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s = %v (%v), want %v in UTC", what, got, got.Location(), want)
		}
	}
	got := loadChat(t, s, "chat-1")
	checkTime("CreatedAt", got.CreatedAt, local)
	checkTime("QueuedAt", got.QueuedAt, local.Add(time.Microsecond))
	checkTime("AcceptedAt", got.AcceptedAt, local.Add(1500*time.Millisecond))
	checkTime("JoinedAt", got.Participants[0].JoinedAt, local)
	if !got.EndedAt.IsZero() || !got.Participants[1].LeftAt.IsZero() {
		t.Errorf("zero times came back as EndedAt %v and LeftAt %v", got.EndedAt, got.Participants[1].LeftAt)
	}
	checkTime("event At", events(t, s, "chat-1")[0].At, local.Add(3*time.Second))

	// Nanoseconds: what AppendEvents returns is exactly what Events reads,
	// and no more than the sub-microsecond part is lost.
	ns := time.Date(2026, 7, 1, 12, 0, 0, 123456789, time.UTC)
	out, err := s.AppendEvents(ctx, "chat-1", []parley.Event{{Type: parley.EventMessage, At: ns, From: vera, Text: "ns"}})
	must(t, err, "append")
	stored := events(t, s, "chat-1")[1]
	checkTime("nanosecond event At", stored.At, out[0].At)
	if d := stored.At.Sub(ns); d <= -time.Microsecond || d >= time.Microsecond {
		t.Errorf("event At %v is a microsecond or more from %v", stored.At, ns)
	}

	sess := &parley.Session{TokenHash: []byte("tok"), AgentID: f.agent.ID, TenantID: f.tenant,
		CreatedAt: local, ExpiresAt: local.Add(time.Hour)}
	must(t, s.CreateSession(ctx, sess), "create session")
	gotSess, err := s.Session(ctx, []byte("tok"))
	must(t, err, "session")
	checkTime("session CreatedAt", gotSess.CreatedAt, local)
	checkTime("session ExpiresAt", gotSess.ExpiresAt, local.Add(time.Hour))

	tn := &parley.Tenant{Name: "Zoned", CreatedAt: local}
	must(t, s.CreateTenant(ctx, tn), "create tenant")
	gotTenant, err := s.Tenant(ctx, tn.ID)
	must(t, err, "tenant")
	checkTime("tenant CreatedAt", gotTenant.CreatedAt, local)
}

func testChatsFilter(t *testing.T, s parley.Store) {
	ctx := t.Context()
	fa := newFixture(t, s, "a")
	fb := newFixture(t, s, "b")
	v2 := &parley.Visitor{ID: "a-visitor-2", TenantID: fa.tenant}
	must(t, s.CreateVisitor(ctx, v2), "create visitor")

	mk := func(f *fixture, id string, sec int, visitor string, agent int64, state parley.State) {
		c := f.chat(id, at(sec))
		c.VisitorID, c.AgentID, c.State = visitor, agent, state
		f.create(t, c, message("hi", sec))
	}
	// Created out of order; listed by creation time.
	mk(fa, "a3", 2, fa.visitor.ID, 0, parley.StateQueued) // offered to agent2, handled by none
	mk(fa, "a1", 0, fa.visitor.ID, fa.agent.ID, parley.StateHandling)
	mk(fb, "b1", 4, fb.visitor.ID, fb.agent.ID, parley.StateHandling)
	mk(fa, "a4", 3, v2.ID, fa.agent.ID, parley.StateTerminated)
	mk(fa, "a2", 1, v2.ID, fa.agent2.ID, parley.StateTerminated)

	tests := []struct {
		name string
		f    parley.ChatFilter
		want []string
	}{
		{"all", parley.ChatFilter{}, []string{"a1", "a2", "a3", "a4", "b1"}},
		{"tenant a", parley.ChatFilter{TenantID: fa.tenant}, []string{"a1", "a2", "a3", "a4"}},
		{"tenant b", parley.ChatFilter{TenantID: fb.tenant}, []string{"b1"}},
		{"visitor", parley.ChatFilter{VisitorID: fa.visitor.ID}, []string{"a1", "a3"}},
		{"agent", parley.ChatFilter{AgentID: fa.agent.ID}, []string{"a1", "a4"}},
		{"offered is not handled", parley.ChatFilter{AgentID: fa.agent2.ID}, []string{"a2"}},
		{"active", parley.ChatFilter{ActiveOnly: true}, []string{"a1", "a3", "b1"}},
		{"tenant a active", parley.ChatFilter{TenantID: fa.tenant, ActiveOnly: true}, []string{"a1", "a3"}},
		{"tenant, agent, active", parley.ChatFilter{TenantID: fa.tenant, AgentID: fa.agent.ID, ActiveOnly: true}, []string{"a1"}},
		{"visitor and agent", parley.ChatFilter{VisitorID: v2.ID, AgentID: fa.agent.ID}, []string{"a4"}},
		{"limit", parley.ChatFilter{TenantID: fa.tenant, Limit: 2}, []string{"a1", "a2"}},
		{"active limit", parley.ChatFilter{ActiveOnly: true, Limit: 1}, []string{"a1"}},
		{"missing tenant", parley.ChatFilter{TenantID: 4242}, nil},
		{"missing visitor", parley.ChatFilter{VisitorID: "nobody"}, nil},
	}
	for _, tt := range tests {
		cs, err := s.Chats(ctx, tt.f)
		must(t, err, "chats "+tt.name)
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		equal(t, "chats "+tt.name, ids, tt.want)
	}

	// Listed chats are complete records, participants included.
	cs, err := s.Chats(ctx, parley.ChatFilter{TenantID: fb.tenant})
	must(t, err, "chats")
	equal(t, "listed chat", normChat(cs[0]), normChat(loadChat(t, s, "b1")))
	if len(cs[0].Participants) != 2 || cs[0].LastSeq != 1 {
		t.Errorf("listed chat = %s, want 2 participants and last seq 1", show(cs[0]))
	}
}

func testChatsOrder(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	sec := func(s, ns int) time.Time { return time.Date(2026, 11, 21, 9, 30, s, ns, time.UTC) }
	// Whole seconds, fractions of different lengths and a tie broken by ID;
	// the IDs alone sort differently.
	times := map[string]time.Time{
		"t7": sec(15, 123456000),
		"t3": sec(15, 123456000),
		"t1": sec(16, 0),
		"t9": sec(16, 1000),
		"t2": sec(16, 100000000),
		"t8": sec(16, 123456000),
		"t0": sec(25, 0),
	}
	for _, id := range []string{"t2", "t0", "t7", "t1", "t3", "t8", "t9"} {
		f.create(t, f.chat(id, times[id]))
	}
	want := []string{"t3", "t7", "t1", "t9", "t2", "t8", "t0"}
	for name, filter := range map[string]parley.ChatFilter{
		"all":     {},
		"tenant":  {TenantID: f.tenant},
		"active":  {TenantID: f.tenant, ActiveOnly: true},
		"visitor": {VisitorID: f.visitor.ID},
		"agent":   {AgentID: f.agent.ID},
	} {
		cs, err := s.Chats(ctx, filter)
		must(t, err, "chats")
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		equal(t, "order of chats by "+name, ids, want)
	}
}

func testAttachments(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	f.create(t, f.chat("chat-1", at(0)))
	a := &parley.Attachment{ID: "att-1", ChatID: "chat-1", Name: "photo.png", ContentType: "image/png",
		Size: 1<<32 + 3, SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
	must(t, s.CreateAttachment(ctx, a), "create attachment")
	if a.CreatedAt.IsZero() {
		t.Error("CreateAttachment did not set CreatedAt")
	}
	got, err := s.Attachment(ctx, "att-1")
	must(t, err, "attachment")
	equal(t, "attachment", *got, *a)

	_, err = s.Attachment(ctx, "att-2")
	wantCode(t, err, parley.ENOTFOUND, "missing attachment")
	wantCode(t, s.CreateAttachment(ctx, &parley.Attachment{ID: "att-1", ChatID: "chat-1", Name: "x"}), parley.ECONFLICT, "taken attachment id")
	wantCode(t, s.CreateAttachment(ctx, &parley.Attachment{ID: "att-3", ChatID: "ghost", Name: "x"}), parley.EINVALID, "attachment of a missing chat")
	wantCode(t, s.CreateAttachment(ctx, &parley.Attachment{ChatID: "chat-1", Name: "x"}), parley.EINVALID, "attachment without id")
}

// testConcurrentAppend appends batches of 1 to 3 events from 8 goroutines
// to one chat: the log must be 1..N without gaps or duplicates, each batch
// must get consecutive seqs, and each goroutine's seqs must increase.
func testConcurrentAppend(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	f.create(t, f.chat("chat-1", at(0)))
	const workers, calls = 8, 12
	batches := make([][][]parley.Event, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				batch := make([]parley.Event, i%3+1)
				for j := range batch {
					batch[j] = message(fmt.Sprintf("w%d-c%d-e%d", w, i, j), i)
				}
				batch[0].ClientID = fmt.Sprintf("w%d-c%d", w, i)
				out, err := s.AppendEvents(ctx, "chat-1", batch)
				if err != nil {
					t.Errorf("worker %d, call %d: %v", w, i, err)
					return
				}
				batches[w] = append(batches[w], out)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	text := make(map[int64]string)
	for w, bs := range batches {
		var prev int64
		for i, out := range bs {
			for j, e := range out {
				if want := fmt.Sprintf("w%d-c%d-e%d", w, i, j); e.Text != want {
					t.Errorf("worker %d, call %d, event %d: got %q back", w, i, j, e.Text)
				}
				if j > 0 && e.Seq != out[0].Seq+int64(j) {
					t.Errorf("worker %d, call %d: batch got seqs %v, want consecutive ones", w, i, seqs(out))
				}
				if e.Seq <= prev {
					t.Errorf("worker %d: seq %d after %d", w, e.Seq, prev)
				}
				prev = e.Seq
				if other, ok := text[e.Seq]; ok {
					t.Errorf("seq %d given to both %q and %q", e.Seq, other, e.Text)
				}
				text[e.Seq] = e.Text
			}
		}
	}
	total := int64(workers * calls * 2) // batch sizes 1, 2, 3 repeat: 2 on average
	log := events(t, s, "chat-1")
	equal(t, "log seqs", seqs(log), span(1, total))
	for _, e := range log {
		if e.Text != text[e.Seq] {
			t.Errorf("log has %q at seq %d, AppendEvents returned %q", e.Text, e.Seq, text[e.Seq])
		}
	}
	if got := loadChat(t, s, "chat-1"); got.LastSeq != total {
		t.Errorf("last seq %d, want %d", got.LastSeq, total)
	}
}

// testConcurrentRetry sends the same keyed event from 8 goroutines at once:
// one copy is stored and every sender gets it back.
func testConcurrentRetry(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	f.create(t, f.chat("chat-1", at(0)), message("first", 0))
	const workers = 8
	got := make([]parley.Event, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			e := message(fmt.Sprintf("copy %d", w), 1)
			e.ClientID = "same"
			out, err := s.AppendEvents(ctx, "chat-1", []parley.Event{e})
			if err != nil {
				t.Errorf("worker %d: %v", w, err)
				return
			}
			got[w] = out[0]
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	log := events(t, s, "chat-1")
	if len(log) != 2 {
		t.Fatalf("log has %d events, want the first message and one copy: %s", len(log), show(log))
	}
	for w, e := range got {
		equal(t, fmt.Sprintf("worker %d's event", w), normEvents([]parley.Event{e}), normEvents(log[1:]))
	}
}
