package conversation_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/throttle"
)

// auditLog records audit entries in memory.
type auditLog struct {
	mu      sync.Mutex
	entries []conversation.AuditEntry
}

func (l *auditLog) Record(_ context.Context, e conversation.AuditEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
	return nil
}

func (f *fixture) admin() conversation.Actor {
	f.t.Helper()
	boss := newAgent("boss", "Boss", 1)
	boss.Role = parley.RoleAdmin
	if err := f.svc.Seed(context.Background(), nil, []*parley.Agent{boss}, testPassword); err != nil {
		f.t.Fatal(err)
	}
	return f.agent("boss")
}

// TestErasureIsAuditedAndGuarded: only admins erase, only in their own
// tenant; an erasure of a visitor with a chat in progress deletes nothing;
// a done erasure is recorded with who, when, from where and the counts,
// and the audit entry names none of the person's data.
func TestErasureIsAuditedAndGuarded(t *testing.T) {
	audit := &auditLog{}
	f := newFixture(t, conversation.Config{Audit: audit})
	admin := f.admin()
	ctx := conversation.WithClientAddr(context.Background(), netip.MustParseAddr("192.0.2.10"))
	f.available(f.bob)
	res, err := f.svc.RequestChat(ctx, conversation.ChatRequest{GroupID: 1, Message: "Hi",
		Visitor: parley.Visitor{Name: "Erika Example", Email: "erika@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	erika := parley.ErasureRequest{Email: "ERIKA@example.com"}

	_, err = f.svc.EraseVisitor(ctx, f.alice, erika)
	wantCode(t, err, parley.EFORBIDDEN)
	_, err = f.svc.EraseVisitor(ctx, admin, parley.ErasureRequest{Email: "a@example.com", Phone: "1"})
	wantCode(t, err, parley.EINVALID)
	_, err = f.svc.EraseVisitor(ctx, admin, erika)
	wantCode(t, err, parley.ECONFLICT) // the chat is offered to Bob
	if len(audit.entries) != 0 {
		t.Fatalf("refused erasures were audited: %+v", audit.entries)
	}
	visitor, err := f.svc.Authenticate(ctx, res.VisitorToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Leave(ctx, visitor, res.Chat.ID); err != nil {
		t.Fatal(err)
	}
	rec, err := f.svc.EraseVisitor(ctx, admin, erika)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Key != "email" || rec.Deleted.Visitors != 1 || rec.Deleted.Chats != 1 || rec.Deleted.Events < 2 {
		t.Errorf("receipt %+v", rec)
	}
	if _, err := f.store.Chat(ctx, res.Chat.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("the erased chat: %v", err)
	}
	if len(audit.entries) != 1 {
		t.Fatalf("audit entries %+v; want the erasure", audit.entries)
	}
	e := audit.entries[0]
	if e.Action != conversation.AuditErasure || e.AgentID != admin.Agent.ID || e.Login != "boss" || e.From != "192.0.2.10" ||
		e.TenantID != parley.DefaultTenantID || e.Detail != "email" || e.Deleted == nil || e.Deleted.Chats != 1 || e.At.IsZero() {
		t.Errorf("audit entry %+v", e)
	}
	if s := fmt.Sprintf("%+v %+v", e, *e.Deleted); strings.Contains(strings.ToLower(s), "erika") {
		t.Errorf("the audit entry names the erased person: %s", s)
	}

	// Another tenant's admin cannot reach into the default tenant.
	other, err := f.svc.CreateTenant(ctx, admin, "Globex")
	if err != nil {
		t.Fatal(err)
	}
	stranger := admin
	stranger.TenantID = other.ID
	_, err = f.svc.EraseVisitor(ctx, stranger, parley.ErasureRequest{TenantID: parley.DefaultTenantID, Email: "x@example.com"})
	wantCode(t, err, parley.ENOTFOUND)
	err = f.svc.SetRetentionPolicy(ctx, stranger, &parley.RetentionPolicy{TenantID: parley.DefaultTenantID, Days: 1})
	wantCode(t, err, parley.ENOTFOUND)

	if err := f.svc.SetRetentionPolicy(ctx, admin, &parley.RetentionPolicy{Days: -1}); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("negative retention: %v", err)
	}
	p := &parley.RetentionPolicy{Days: 30}
	if err := f.svc.SetRetentionPolicy(ctx, admin, p); err != nil {
		t.Fatal(err)
	}
	if last := audit.entries[len(audit.entries)-1]; last.Action != conversation.AuditRetentionSet || last.Detail != "30 days" {
		t.Errorf("retention set audit entry %+v", last)
	}
}

// TestOfflineAndAPILimits: offline messages are counted per client
// address and API calls per key; a refused call stores nothing and says
// when to try again; a call without a client address (in process) is not
// counted per address.
func TestOfflineAndAPILimits(t *testing.T) {
	f := newFixture(t, conversation.Config{Limits: conversation.AbuseLimits{
		OfflinePerAddr: throttle.Rate{N: 1, Per: time.Hour},
		APICallsPerKey: throttle.Rate{N: 2, Per: time.Minute},
	}})
	from := func(a string) context.Context {
		return conversation.WithClientAddr(context.Background(), netip.MustParseAddr(a))
	}
	leave := func(ctx context.Context) error {
		_, err := f.svc.LeaveOfflineMessage(ctx, conversation.OfflineRequest{GroupID: 2, Name: "O", Email: "o@example.com", Message: "call me"})
		return err
	}
	if err := leave(from("2001:db8::1")); err != nil {
		t.Fatal(err)
	}
	err := leave(from("2001:db8::2")) // the same /64
	wantCode(t, err, parley.ETOOMANY)
	if d := parley.RetryAfter(err); d <= 0 || d > time.Hour {
		t.Errorf("retry after %v", d)
	}
	if err := leave(from("2001:db8:1::1")); err != nil {
		t.Errorf("another /64: %v", err)
	}
	if err := leave(context.Background()); err != nil {
		t.Errorf("without a client address: %v", err)
	}
	ms, err := f.store.OfflineMessages(context.Background(), parley.DefaultTenantID, nil, 0)
	if err != nil || len(ms) != 3 {
		t.Errorf("stored offline messages %d (%v); want 3, the refused one not", len(ms), err)
	}

	admin := f.admin()
	_, key, err := f.svc.CreateAPIKey(context.Background(), admin, "CRM")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.svc.AuthenticateKey(context.Background(), key); err != nil {
			t.Fatal(err)
		}
	}
	_, err = f.svc.AuthenticateKey(context.Background(), key)
	wantCode(t, err, parley.ETOOMANY)
	c := f.svc.LimitCounts()
	if c[conversation.LimitAPICallsPerKey] != (conversation.LimitCount{Allowed: 2, Refused: 1}) ||
		c[conversation.LimitOfflinePerAddr] != (conversation.LimitCount{Allowed: 2, Refused: 1}) {
		t.Errorf("limit counts %+v", c)
	}
}
