package storetest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func testRetentionPolicies(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	g := newFixture(t, s, "globex")
	p, err := s.RetentionPolicy(ctx, f.tenant)
	must(t, err, "policy of a tenant without one")
	if p.Days != 0 || p.TenantID != f.tenant {
		t.Fatalf("policy of a tenant without one: %s, want 0 days", show(p))
	}
	all, err := s.RetentionPolicies(ctx)
	must(t, err, "policies")
	if all == nil || len(all) != 0 {
		t.Fatalf("policies before any is set: %v, want an empty list", all)
	}
	set := &parley.RetentionPolicy{TenantID: f.tenant, Days: 30, UpdatedAt: at(0)}
	must(t, s.SetRetentionPolicy(ctx, set), "set policy")
	must(t, s.SetRetentionPolicy(ctx, &parley.RetentionPolicy{TenantID: g.tenant, Days: 0}), "set a zero policy")
	again := &parley.RetentionPolicy{TenantID: f.tenant, Days: 90, UpdatedAt: at(5)}
	must(t, s.SetRetentionPolicy(ctx, again), "change policy")
	p, err = s.RetentionPolicy(ctx, f.tenant)
	must(t, err, "policy")
	equal(t, "changed policy", *p, *again)
	all, err = s.RetentionPolicies(ctx)
	must(t, err, "policies")
	if len(all) != 1 || all[0].TenantID != f.tenant || all[0].Days != 90 {
		t.Errorf("policies: %s, want only acme's 90 days (a zero policy deletes nothing)", show(all))
	}
	wantCode(t, s.SetRetentionPolicy(ctx, &parley.RetentionPolicy{TenantID: 9999, Days: 1}), parley.EINVALID, "policy of a missing tenant")
}

// ended returns a chat of f's visitor v that ended at end.
func (f *fixture) ended(id string, v *parley.Visitor, end time.Time) *parley.Chat {
	c := f.chat(id, end.Add(-time.Hour))
	c.VisitorID = v.ID
	c.State, c.Cause, c.EndedAt = parley.StateTerminated, parley.CauseAgentEnded, end
	return c
}

// fill gives chat id a message, an attachment, a rating and a transcript
// mail.
func (f *fixture) fill(t *testing.T, c *parley.Chat, text, mailTo string) {
	t.Helper()
	ctx := t.Context()
	f.create(t, c, message(text, 0), message("second line", 1))
	must(t, f.s.CreateAttachment(ctx, &parley.Attachment{ID: "att-" + c.ID, ChatID: c.ID, Name: "scan.pdf",
		ContentType: "application/pdf", Size: 10, SHA256: "00", CreatedAt: c.CreatedAt}), "attachment")
	must(t, f.s.CreateRating(ctx, &parley.Rating{ChatID: c.ID, Score: 5, Comment: text}), "rating")
	_, err := f.s.EnqueueMail(ctx, &parley.OutboxMail{TenantID: f.tenant, Key: "close:" + c.ID, ChatID: c.ID,
		MessageID: "m-" + c.ID, From: "chat@example.com", To: mailTo, Subject: "Your chat", Text: text, CreatedAt: c.EndedAt})
	must(t, err, "mail")
}

func testPurge(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	g := newFixture(t, s, "globex")
	day := 24 * time.Hour
	cut := at(0)
	old := &parley.Visitor{ID: "acme-old", TenantID: f.tenant, Name: "Olga", Email: "olga@example.com", CreatedAt: cut.Add(-40 * day)}
	must(t, s.CreateVisitor(ctx, old), "visitor")
	lone := &parley.Visitor{ID: "acme-lone", TenantID: f.tenant, Name: "Lone", CreatedAt: cut.Add(-40 * day)}
	must(t, s.CreateVisitor(ctx, lone), "visitor without chats")
	fresh := &parley.Visitor{ID: "acme-fresh", TenantID: f.tenant, Name: "Fresh", CreatedAt: cut.Add(time.Hour)}
	must(t, s.CreateVisitor(ctx, fresh), "new visitor without chats")

	f.fill(t, f.ended("old-1", old, cut.Add(-31*day)), "aubergine", "olga@example.com")
	f.fill(t, f.ended("old-2", f.visitor, cut.Add(-time.Minute)), "courgette", "vera@example.com")
	f.fill(t, f.ended("new-1", f.visitor, cut.Add(time.Minute)), "pumpkin", "vera@example.com")
	active := f.chat("active-old", cut.Add(-60*day))
	f.create(t, active, message("still talking", 0))
	g.fill(t, g.ended("globex-old", g.visitor, cut.Add(-31*day)), "aubergine", "g@example.com")
	for i, created := range []time.Time{cut.Add(-2 * day), cut.Add(day)} {
		must(t, s.CreateOfflineMessage(ctx, &parley.OfflineMessage{TenantID: f.tenant, GroupID: f.group.ID, Name: "N",
			Email: "n@example.com", Message: "call me", CreatedAt: created}), "offline message")
		_, err := s.EnqueueMail(ctx, &parley.OutboxMail{TenantID: f.tenant, MessageID: "o" + string(rune('a'+i)),
			From: "a@example.com", To: "b@example.com", Subject: "s", Text: "t", CreatedAt: created})
		must(t, err, "mail without a chat")
	}

	var total parley.Deletion
	for {
		d, err := s.Purge(ctx, f.tenant, cut, 1)
		must(t, err, "purge")
		if d.Empty() {
			break
		}
		total.Add(d)
	}
	slices.Sort(total.ChatIDs)
	if !slices.Equal(total.ChatIDs, []string{"old-1", "old-2"}) {
		t.Errorf("purged chats %v, want old-1 and old-2 (ended before the cut)", total.ChatIDs)
	}
	want := parley.Deletion{Visitors: 2, Chats: 2, Events: 4, Attachments: 2, Ratings: 2, OfflineMessages: 1, Mails: 3}
	total.ChatIDs = nil
	equal(t, "purge counts", total, want)

	for _, id := range []string{"old-1", "old-2"} {
		_, err := s.Chat(ctx, id)
		wantCode(t, err, parley.ENOTFOUND, "purged chat "+id)
		_, err = s.Attachment(ctx, "att-"+id)
		wantCode(t, err, parley.ENOTFOUND, "attachment of purged chat "+id)
	}
	for _, id := range []string{"new-1", "active-old", "globex-old"} {
		if _, err := s.Chat(ctx, id); err != nil {
			t.Errorf("chat %s was not to be purged: %v", id, err)
		}
	}
	for _, v := range []string{old.ID, lone.ID} {
		_, err := s.Visitor(ctx, v)
		wantCode(t, err, parley.ENOTFOUND, "old visitor without chats")
	}
	for _, v := range []string{fresh.ID, f.visitor.ID, g.visitor.ID} {
		if _, err := s.Visitor(ctx, v); err != nil {
			t.Errorf("visitor %s was not to be purged: %v", v, err)
		}
	}
	ms, err := s.OfflineMessages(ctx, f.tenant, nil, 0)
	must(t, err, "offline messages")
	if len(ms) != 1 || !ms[0].CreatedAt.Equal(cut.Add(day)) {
		t.Errorf("offline messages left: %s, want the newer one", show(ms))
	}
	page, err := s.SearchChats(ctx, parley.ArchiveQuery{TenantID: f.tenant, Text: "courgette"})
	must(t, err, "search")
	if len(page.Chats) != 0 {
		t.Errorf("a purged chat's text is still found: %s", show(page.Chats))
	}
	page, err = s.SearchChats(ctx, parley.ArchiveQuery{TenantID: g.tenant, Text: "aubergine"})
	must(t, err, "search")
	if len(page.Chats) != 1 {
		t.Errorf("the other tenant's chat is not found any more: %s", show(page.Chats))
	}
}

// webhookStore is the webhook part of the SQLite and PostgreSQL stores
// (webhook.Store), which storetest cannot import.
type webhookStore interface {
	CreateWebhook(ctx context.Context, w *parley.Webhook) error
	CaptureDeliveries(ctx context.Context, done []int64, deliveries []*parley.WebhookDelivery) error
	WebhookDeliveries(ctx context.Context, webhookID, before int64, limit int) ([]*parley.WebhookDelivery, error)
}

// deliver gives the chats (or "offline:<id>" keys) one webhook delivery
// each, when the store keeps webhooks; it returns the webhook's ID.
func deliver(t *testing.T, s parley.Store, tenant int64, keys ...string) int64 {
	t.Helper()
	ws, ok := s.(webhookStore)
	if !ok {
		return 0
	}
	w := &parley.Webhook{TenantID: tenant, URL: "https://example.com/h", Secret: "s", Events: []string{}}
	must(t, ws.CreateWebhook(t.Context(), w), "create webhook")
	var ds []*parley.WebhookDelivery
	for _, k := range keys {
		d := &parley.WebhookDelivery{WebhookID: w.ID, TenantID: tenant, OrderKey: k, Event: "message",
			Payload: `{"text":"` + k + `"}`, NextAttempt: at(0), CreatedAt: at(0)}
		if !strings.HasPrefix(k, "offline:") {
			d.ChatID = k
		}
		ds = append(ds, d)
	}
	must(t, ws.CaptureDeliveries(t.Context(), nil, ds), "capture deliveries")
	return w.ID
}

// deliveryKeys lists the order keys of a webhook's deliveries.
func deliveryKeys(t *testing.T, s parley.Store, webhookID int64) []string {
	t.Helper()
	ds, err := s.(webhookStore).WebhookDeliveries(t.Context(), webhookID, 0, 100)
	must(t, err, "webhook deliveries")
	var keys []string
	for _, d := range ds {
		keys = append(keys, d.OrderKey)
	}
	slices.Sort(keys)
	return keys
}

func testEraseVisitor(t *testing.T, s parley.Store) {
	ctx := t.Context()
	f := newFixture(t, s, "acme")
	g := newFixture(t, s, "globex")
	erin := &parley.Visitor{ID: "acme-erin", TenantID: f.tenant, Name: "Erin", Email: "Erin@Example.com", Phone: "+49 30 1234"}
	must(t, s.CreateVisitor(ctx, erin), "visitor")
	again := &parley.Visitor{ID: "acme-erin-2", TenantID: f.tenant, Name: "Erin", Email: "erin@example.com"}
	must(t, s.CreateVisitor(ctx, again), "same person, second visit")
	twin := &parley.Visitor{ID: "globex-erin", TenantID: g.tenant, Name: "Erin", Email: "erin@example.com"}
	must(t, s.CreateVisitor(ctx, twin), "same address at another tenant")
	end := at(0)
	f.fill(t, f.ended("erin-1", erin, end), "zanzibar", "erin@example.com")
	f.fill(t, f.ended("erin-2", again, end), "zanzibar again", "ERIN@example.com")
	f.fill(t, f.ended("vera-1", f.visitor, end), "vera's words", "vera@example.com")
	g.fill(t, g.ended("globex-erin-1", twin, end), "zanzibar", "erin@example.com")
	must(t, s.CreateOfflineMessage(ctx, &parley.OfflineMessage{TenantID: f.tenant, GroupID: f.group.ID, Name: "Erin",
		Email: "ERIN@example.com", Message: "zanzibar"}), "offline message")
	must(t, s.CreateOfflineMessage(ctx, &parley.OfflineMessage{TenantID: f.tenant, GroupID: f.group.ID, Name: "Vera",
		Email: "vera@example.com", Message: "hi"}), "other offline message")

	offline, err := s.OfflineMessages(ctx, f.tenant, nil, 0)
	must(t, err, "offline messages")
	keys := []string{"erin-1", "erin-2", "vera-1"}
	for _, m := range offline {
		keys = append(keys, "offline:"+strconv.FormatInt(m.ID, 10))
	}
	hook := deliver(t, s, f.tenant, keys...)

	// A chat that has not ended stops the erasure, which then deletes
	// nothing.
	live := f.chat("erin-live", end)
	live.VisitorID = again.ID
	f.create(t, live, message("zanzibar live", 0))
	_, err = s.EraseVisitor(ctx, parley.ErasureRequest{TenantID: f.tenant, Email: "erin@example.com"})
	wantCode(t, err, parley.ECONFLICT, "erasure with an active chat")
	if _, err := s.Chat(ctx, "erin-1"); err != nil {
		t.Fatalf("a refused erasure deleted a chat: %v", err)
	}
	live.State, live.Cause, live.EndedAt = parley.StateTerminated, parley.CauseVisitorLeft, end
	_, err = s.UpdateChat(ctx, live, nil)
	must(t, err, "end chat")

	d, err := s.EraseVisitor(ctx, parley.ErasureRequest{TenantID: f.tenant, Email: "erin@EXAMPLE.com"})
	must(t, err, "erase by email")
	slices.Sort(d.ChatIDs)
	if !slices.Equal(d.ChatIDs, []string{"erin-1", "erin-2", "erin-live"}) {
		t.Errorf("erased chats %v", d.ChatIDs)
	}
	d.ChatIDs = nil
	want := parley.Deletion{Visitors: 2, Chats: 3, Events: 5, Attachments: 2, Ratings: 2, OfflineMessages: 1, Mails: 2}
	if hook != 0 {
		want.WebhookDeliveries = 3 // two chats' and the offline message's
		var vera []string
		for _, m := range offline {
			if m.Name == "Vera" {
				vera = append(vera, "offline:"+strconv.FormatInt(m.ID, 10))
			}
		}
		keep := append([]string{"vera-1"}, vera...)
		slices.Sort(keep)
		if got := deliveryKeys(t, s, hook); !slices.Equal(got, keep) {
			t.Errorf("webhook deliveries left %v; want %v", got, keep)
		}
	}
	equal(t, "erasure counts", *d, want)
	for _, v := range []string{erin.ID, again.ID} {
		_, err := s.Visitor(ctx, v)
		wantCode(t, err, parley.ENOTFOUND, "erased visitor")
	}
	for _, c := range []string{"erin-1", "erin-2", "erin-live"} {
		_, err := s.Chat(ctx, c)
		wantCode(t, err, parley.ENOTFOUND, "erased chat")
		_, err = s.Rating(ctx, c)
		wantCode(t, err, parley.ENOTFOUND, "rating of an erased chat")
	}
	page, err := s.SearchChats(ctx, parley.ArchiveQuery{TenantID: f.tenant, Text: "zanzibar"})
	must(t, err, "search")
	if len(page.Chats) != 0 {
		t.Errorf("erased text is still found: %s", show(page.Chats))
	}
	page, err = s.SearchChats(ctx, parley.ArchiveQuery{TenantID: f.tenant, Customer: "erin"})
	must(t, err, "search")
	if len(page.Chats) != 0 {
		t.Errorf("erased customer is still found: %s", show(page.Chats))
	}
	if _, err := s.Chat(ctx, "vera-1"); err != nil {
		t.Errorf("another visitor's chat: %v", err)
	}
	if _, err := s.Rating(ctx, "vera-1"); err != nil {
		t.Errorf("another visitor's rating: %v", err)
	}
	ms, err := s.OfflineMessages(ctx, f.tenant, nil, 0)
	must(t, err, "offline messages")
	if len(ms) != 1 || ms[0].Name != "Vera" {
		t.Errorf("offline messages left: %s, want Vera's", show(ms))
	}
	page, err = s.SearchChats(ctx, parley.ArchiveQuery{TenantID: g.tenant, Text: "zanzibar"})
	must(t, err, "search")
	if len(page.Chats) != 1 {
		t.Errorf("the other tenant's visitor with the same address was touched: %s", show(page.Chats))
	}

	// By phone and by ID; a request that matches nobody deletes nothing.
	phoned := &parley.Visitor{ID: "acme-phone", TenantID: f.tenant, Name: "P", Phone: "+1 555 0100"}
	must(t, s.CreateVisitor(ctx, phoned), "visitor")
	f.fill(t, f.ended("phone-1", phoned, end), "hello", "p@example.com")
	d, err = s.EraseVisitor(ctx, parley.ErasureRequest{TenantID: f.tenant, Phone: "+1 555 0100"})
	must(t, err, "erase by phone")
	if d.Visitors != 1 || d.Chats != 1 {
		t.Errorf("erase by phone: %s", show(d))
	}
	d, err = s.EraseVisitor(ctx, parley.ErasureRequest{TenantID: f.tenant, VisitorID: twin.ID})
	must(t, err, "erase another tenant's visitor by ID")
	if !d.Empty() {
		t.Errorf("an erasure reached into another tenant: %s", show(d))
	}
	d, err = s.EraseVisitor(ctx, parley.ErasureRequest{TenantID: f.tenant, VisitorID: f.visitor.ID})
	must(t, err, "erase by ID")
	if d.Visitors != 1 || d.Chats != 1 || d.Mails != 1 {
		t.Errorf("erase by ID: %s", show(d))
	}
	must(t, s.Scrub(ctx), "scrub")
}
