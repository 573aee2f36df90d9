package conversation

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// Retention and erasure (F6.4): a tenant's retention period deletes ended
// chats and the personal data around them once they are older than it;
// an erasure deletes one person's data on request. Both remove the chats'
// files and leave a receipt; both are recorded in the audit log (or
// through Config.Audit when set).

// Auditor records who did what to a tenant's data, when and from where.
// Config.Audit nil records into the audit log.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry) error
}

// AuditEntry is one action for the audit log. It names no personal data
// of the person an erasure was for: only which kind of key named them.
type AuditEntry struct {
	At       time.Time
	TenantID int64
	// AgentID and Login name the admin; 0 and "" for the retention job.
	AgentID int64
	Login   string
	// From is the client address the request came from ("" for the job).
	From string
	// Action is "retention.set", "retention.run" or "erasure".
	Action string
	// Detail says more: the retention days set, or the erasure's key kind
	// ("visitor_id", "email", "phone").
	Detail string
	// Deleted is the receipt of a run or an erasure.
	Deleted *parley.Deletion
}

// Audit actions.
const (
	AuditRetentionSet = "retention.set"
	AuditRetentionRun = "retention.run"
	AuditErasure      = "erasure"
)

// Receipt is what an erasure deleted.
type Receipt struct {
	TenantID int64 `json:"tenant_id"`
	// Key is the kind of key the person was named by.
	Key     string          `json:"key"`
	At      time.Time       `json:"erased_at"`
	Deleted parley.Deletion `json:"deleted"`
}

// purgeBatch bounds the records of each kind one purge transaction
// deletes, so the writer is never held for long.
const purgeBatch = 500

// RetentionPolicy returns the retention policy of the admin's tenant (or
// of tenantID for admins of the default tenant).
func (s *Service) RetentionPolicy(ctx context.Context, actor Actor, tenantID int64) (*parley.RetentionPolicy, error) {
	tenant, err := s.targetTenant(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	p, err := s.store.RetentionPolicy(ctx, tenant)
	if err != nil {
		return nil, internal("load retention policy", err)
	}
	return p, nil
}

// SetRetentionPolicy sets the retention period of the admin's tenant (or
// of p.TenantID for admins of the default tenant). The next run of the
// retention job applies it.
func (s *Service) SetRetentionPolicy(ctx context.Context, actor Actor, p *parley.RetentionPolicy) error {
	tenant, err := s.targetTenant(ctx, actor, p.TenantID)
	if err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	p.TenantID, p.UpdatedAt = tenant, s.now()
	if err := s.store.SetRetentionPolicy(ctx, p); err != nil {
		return internal("store retention policy", err)
	}
	s.auditData(ctx, actor, AuditEntry{TenantID: tenant, Action: AuditRetentionSet, Detail: daysDetail(p.Days)})
	return nil
}

func daysDetail(days int) string {
	if days == 0 {
		return "keep everything"
	}
	return strconv.Itoa(days) + " days"
}

// ApplyRetention deletes what every tenant's retention period has
// expired, removes the deleted chats' files, and scrubs the store. It
// returns what it deleted per tenant.
func (s *Service) ApplyRetention(ctx context.Context) (map[int64]*parley.Deletion, error) {
	policies, err := s.store.RetentionPolicies(ctx)
	if err != nil {
		return nil, internal("load retention policies", err)
	}
	out := map[int64]*parley.Deletion{}
	var errs []error
	for _, p := range policies {
		total, err := s.purgeTenant(ctx, p)
		if err != nil {
			errs = append(errs, err)
		}
		if !total.Empty() {
			out[p.TenantID] = total
			s.auditData(ctx, Actor{}, AuditEntry{TenantID: p.TenantID, Action: AuditRetentionRun, Detail: daysDetail(p.Days), Deleted: total})
		}
	}
	if len(out) > 0 {
		if err := s.store.Scrub(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, internal("apply retention", err)
	}
	return out, nil
}

// purgeTenant deletes what p's period has expired, in batches, with the
// deleted chats' files. A policy of 0 days deletes nothing.
func (s *Service) purgeTenant(ctx context.Context, p *parley.RetentionPolicy) (*parley.Deletion, error) {
	total := &parley.Deletion{}
	if p.Days <= 0 {
		return total, nil
	}
	before := s.now().Add(-p.Period())
	for {
		d, err := s.store.Purge(ctx, p.TenantID, before, purgeBatch)
		if err != nil {
			return total, err
		}
		if d.Empty() {
			return total, nil
		}
		d.Files = s.removeChatFiles(ctx, d.ChatIDs)
		total.Add(d)
	}
}

// ApplyTenantRetention applies the retention period of the admin's
// tenant (or of tenantID for admins of the default tenant) now, as the
// job would, and returns what it deleted. The run is recorded in the
// audit log with the admin's name, also when it deleted nothing.
func (s *Service) ApplyTenantRetention(ctx context.Context, actor Actor, tenantID int64) (*parley.Deletion, error) {
	tenant, err := s.targetTenant(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	p, err := s.store.RetentionPolicy(ctx, tenant)
	if err != nil {
		return nil, internal("load retention policy", err)
	}
	if p.Days == 0 {
		return nil, parley.FieldErrorf("retention_days", "the tenant keeps everything: set a retention period first")
	}
	total, err := s.purgeTenant(ctx, p)
	if !total.Empty() {
		if err := s.store.Scrub(ctx); err != nil {
			s.log.Error("scrub after a retention run; retried by the next run or erasure", "err", err)
		}
	}
	s.auditData(ctx, actor, AuditEntry{TenantID: tenant, Action: AuditRetentionRun, Detail: daysDetail(p.Days), Deleted: total})
	if err != nil {
		return total, internal("apply retention", err)
	}
	return total, nil
}

// RunRetention applies the retention periods at once and then every
// interval of the service clock, until ctx ends.
func (s *Service) RunRetention(ctx context.Context, every time.Duration) {
	for {
		if out, err := s.ApplyRetention(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("retention run", "err", err)
		} else {
			for tenant, d := range out {
				s.log.Info("retention run deleted", "tenant_id", tenant, "chats", d.Chats, "visitors", d.Visitors,
					"offline_messages", d.OfflineMessages, "mails", d.Mails, "files", d.Files)
			}
		}
		wake := make(chan struct{})
		t := s.clock.AfterFunc(every, func() { close(wake) })
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		}
	}
}

// EraseVisitor deletes everything of the person r names in the admin's
// tenant (or r.TenantID's for admins of the default tenant): their
// visitor records, chats with events, files, ratings and mail, and the
// offline messages and mail of their email addresses. It refuses with
// ECONFLICT while one of their chats has not ended.
func (s *Service) EraseVisitor(ctx context.Context, actor Actor, r parley.ErasureRequest) (*Receipt, error) {
	tenant, err := s.targetTenant(ctx, actor, r.TenantID)
	if err != nil {
		return nil, err
	}
	if err := r.Normalize(); err != nil {
		return nil, err
	}
	r.TenantID = tenant
	d, err := s.store.EraseVisitor(ctx, r)
	if err != nil {
		return nil, internal("erase visitor", err)
	}
	d.Files = s.removeChatFiles(ctx, d.ChatIDs)
	rec := &Receipt{TenantID: tenant, Key: erasureKey(r), At: s.now(), Deleted: *d}
	if err := s.store.Scrub(ctx); err != nil {
		// The rows are gone for every reader; only the file may still
		// hold them until the next scrub.
		s.log.Error("scrub after erasure; retried by the next retention run or erasure", "err", err)
	}
	s.auditData(ctx, actor, AuditEntry{TenantID: tenant, Action: AuditErasure, Detail: rec.Key, Deleted: d})
	return rec, nil
}

func erasureKey(r parley.ErasureRequest) string {
	switch {
	case r.VisitorID != "":
		return "visitor_id"
	case r.Email != "":
		return "email"
	default:
		return "phone"
	}
}

// removeChatFiles deletes the attachments of the chats and returns how
// many files they held.
func (s *Service) removeChatFiles(ctx context.Context, chatIDs []string) int {
	n, err := s.files.RemoveChats(context.WithoutCancel(ctx), chatIDs)
	if err != nil {
		s.log.Error("remove deleted chats' files", "chats", len(chatIDs), "err", err)
	}
	return n
}

// validChatDir keeps a chat ID from naming anything but a directory
// directly under FilesDir.
func validChatDir(id string) bool {
	return id != "" && id != "." && id != ".." && filepath.Base(id) == id && filepath.IsLocal(id)
}

// auditData records e for actor through Config.Audit, by default the
// audit log; a failure is logged, never shown: the action itself is done.
func (s *Service) auditData(ctx context.Context, actor Actor, e AuditEntry) {
	e.At = s.now()
	if actor.Agent != nil {
		e.AgentID, e.Login = actor.Agent.ID, actor.Agent.Login
	}
	if a := ClientAddr(ctx); a.IsValid() {
		e.From = a.String()
	} else {
		e.From = actor.Addr
	}
	audit := s.cfg.Audit
	if audit == nil {
		audit = logAuditor{s}
	}
	if err := audit.Record(ctx, e); err != nil {
		s.log.Error("audit record", "action", e.Action, "tenant_id", e.TenantID, "err", err)
	}
}

// logAuditor writes retention and erasure records into the audit log,
// with the receipt's counts as the detail.
type logAuditor struct{ s *Service }

func (l logAuditor) Record(ctx context.Context, e AuditEntry) error {
	detail := e.Detail
	if d := e.Deleted; d != nil {
		detail += fmt.Sprintf("; deleted %d visitors, %d chats, %d events, %d attachments, %d files, %d ratings, %d offline messages, %d mails, %d webhook deliveries",
			d.Visitors, d.Chats, d.Events, d.Attachments, d.Files, d.Ratings, d.OfflineMessages, d.Mails, d.WebhookDeliveries)
	}
	return l.s.store.AppendAudit(ctx, &parley.AuditEntry{TenantID: e.TenantID, At: e.At.UTC(), ActorID: e.AgentID,
		ActorLogin: e.Login, RemoteAddr: e.From, Action: e.Action, TargetKind: "tenant",
		TargetID: strconv.FormatInt(e.TenantID, 10), Detail: strings.TrimPrefix(detail, "; ")})
}
