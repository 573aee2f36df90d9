package conversation

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// The audit log (SPEC F7.8) records who changed which setting, agent,
// group or tenant, when and from where, and who exported or erased data.
// Entries are appended after the change succeeded; they carry the names
// of the changed fields, never their values, so no password, template or
// personal detail is copied into the log.

// AuditEvent is what an administrative action records.
type AuditEvent struct {
	// TenantID is the tenant acted on; 0 means the actor's.
	TenantID   int64
	Action     string
	TargetKind string
	TargetID   string
	TargetName string
	Detail     string
}

// Audit appends an entry for an action the actor took. Other packages'
// administrative actions (exports, erasure) record themselves with it.
func (s *Service) Audit(ctx context.Context, actor Actor, ev AuditEvent) error {
	e := &parley.AuditEntry{
		TenantID: ev.TenantID, At: s.now().UTC(), RemoteAddr: actor.Addr,
		Action: ev.Action, TargetKind: ev.TargetKind, TargetID: ev.TargetID, TargetName: ev.TargetName, Detail: ev.Detail,
	}
	if e.TenantID == 0 {
		e.TenantID = actor.TenantID
	}
	if actor.Agent != nil {
		e.ActorID, e.ActorLogin = actor.Agent.ID, actor.Agent.Login
	}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		// The change is made; the caller learns that its record is not.
		s.log.Error("audit entry lost", "action", ev.Action, "target", ev.TargetKind+" "+ev.TargetID, "err", err)
		return internal("append audit entry", err)
	}
	return nil
}

// audit records an action on a numbered target.
func (s *Service) audit(ctx context.Context, actor Actor, tenant int64, action, kind string, id int64, name, detail string) error {
	return s.Audit(ctx, actor, AuditEvent{TenantID: tenant, Action: action, TargetKind: kind,
		TargetID: strconv.FormatInt(id, 10), TargetName: name, Detail: detail})
}

// AuditQuery selects entries of the audit log for the admin console.
type AuditQuery struct {
	TenantID   int64
	Action     string
	ActorID    int64
	TargetKind string
	TargetID   string
	Since      time.Time
	Until      time.Time
	Before     int64
	Limit      int
}

// AuditLog lists the audit entries of the admin's tenant (or of
// q.TenantID for admins of the default tenant), newest first.
func (s *Service) AuditLog(ctx context.Context, actor Actor, q AuditQuery) ([]*parley.AuditEntry, error) {
	tenant, err := s.targetTenant(ctx, actor, q.TenantID)
	if err != nil {
		return nil, err
	}
	if q.Limit < 0 || q.Limit > 500 {
		return nil, parley.FieldErrorf("limit", "limit must be between 1 and 500")
	}
	if len(q.Action) > 100 || len(q.TargetKind) > 50 || len(q.TargetID) > 100 {
		return nil, parley.Errorf(parley.EINVALID, "a filter is too long")
	}
	list, err := s.store.AuditLog(ctx, parley.AuditFilter{TenantID: tenant, Action: q.Action, ActorID: q.ActorID,
		TargetKind: q.TargetKind, TargetID: q.TargetID, Since: q.Since, Until: q.Until, Before: q.Before, Limit: q.Limit})
	if err != nil {
		return nil, internal("read audit log", err)
	}
	return list, nil
}

// changed names the JSON fields that differ between before and after,
// one level into objects ("routing.hours"), as "changed: a, b.c".
func changed(before, after any) string {
	var fields []string
	diffJSON("", toJSONMap(before), toJSONMap(after), 2, &fields)
	if len(fields) == 0 {
		return "no change"
	}
	return "changed: " + strings.Join(fields, ", ")
}

func toJSONMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func diffJSON(prefix string, a, b map[string]any, depth int, out *[]string) {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for _, k := range sorted {
		if k == "created_at" || k == "updated_at" {
			continue
		}
		x, y := a[k], b[k]
		if reflect.DeepEqual(x, y) {
			continue
		}
		mx, okx := x.(map[string]any)
		my, oky := y.(map[string]any)
		if depth > 1 && (okx || x == nil) && (oky || y == nil) && (okx || oky) {
			diffJSON(prefix+k+".", mx, my, depth-1, out)
			continue
		}
		*out = append(*out, prefix+k)
	}
}
