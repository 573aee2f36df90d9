package conversation

import (
	"context"
	"strconv"
	"time"

	"github.com/parleychat/parley"
)

// Proactive triggers (SPEC F1.9): admins keep rules per tenant and group;
// the widget reads the enabled ones without credentials and evaluates
// them on the host page; a chat started from a trigger's greeting begins
// with the trigger's message (RequestChat's TriggerID).

// Triggers lists the triggers of the admin's tenant (or of tenantID for
// admins of the default tenant), by ID.
func (s *Service) Triggers(ctx context.Context, actor Actor, tenantID int64) ([]*parley.Trigger, error) {
	tenant, err := s.targetTenant(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	list, err := s.store.Triggers(ctx, tenant)
	if err != nil {
		return nil, internal("list triggers", err)
	}
	return list, nil
}

// Trigger returns one trigger the admin manages.
func (s *Service) Trigger(ctx context.Context, actor Actor, id int64) (*parley.Trigger, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	return s.adminTrigger(ctx, actor, id)
}

// CreateTrigger stores a new trigger in the admin's tenant (or in
// t.TenantID for admins of the default tenant).
func (s *Service) CreateTrigger(ctx context.Context, actor Actor, t *parley.Trigger) error {
	tenant, err := s.targetTenant(ctx, actor, t.TenantID)
	if err != nil {
		return err
	}
	t.ID, t.TenantID = 0, tenant
	t.CreatedAt, t.UpdatedAt = time.Time{}, time.Time{}
	if err := t.Validate(); err != nil {
		return err
	}
	if err := s.checkTriggerGroup(ctx, tenant, t.GroupID); err != nil {
		return err
	}
	if err := s.store.CreateTrigger(ctx, t); err != nil {
		return internal("create trigger", err)
	}
	return s.audit(ctx, actor, t.TenantID, "trigger.create", "trigger", t.ID, t.Name, "")
}

// TriggerUpdate changes the fields that are set.
type TriggerUpdate struct {
	GroupID     *int64  `json:"group_id"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Enabled     *bool   `json:"enabled"`
	RunOnce     *bool   `json:"run_once"`
	URLPattern  *string `json:"url_pattern"`
	TimeOnSite  *int    `json:"time_on_site"`
	ChatOpened  *bool   `json:"chat_opened"`
	SenderName  *string `json:"sender_name"`
	Message     *string `json:"message"`
}

// UpdateTrigger changes a trigger the admin manages.
func (s *Service) UpdateTrigger(ctx context.Context, actor Actor, id int64, u TriggerUpdate) (*parley.Trigger, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	t, err := s.adminTrigger(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	before := *t
	set(&t.GroupID, u.GroupID)
	set(&t.Name, u.Name)
	set(&t.Description, u.Description)
	set(&t.Enabled, u.Enabled)
	set(&t.RunOnce, u.RunOnce)
	set(&t.URLPattern, u.URLPattern)
	set(&t.TimeOnSite, u.TimeOnSite)
	set(&t.ChatOpened, u.ChatOpened)
	set(&t.SenderName, u.SenderName)
	set(&t.Message, u.Message)
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := s.checkTriggerGroup(ctx, t.TenantID, t.GroupID); err != nil {
		return nil, err
	}
	t.UpdatedAt = time.Time{}
	if err := s.store.UpdateTrigger(ctx, t); err != nil {
		return nil, internal("update trigger", err)
	}
	return t, s.audit(ctx, actor, t.TenantID, "trigger.update", "trigger", t.ID, t.Name, changed(before, t))
}

// DeleteTrigger deletes a trigger the admin manages.
func (s *Service) DeleteTrigger(ctx context.Context, actor Actor, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	t, err := s.adminTrigger(ctx, actor, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTrigger(ctx, id); err != nil {
		return internal("delete trigger", err)
	}
	return s.audit(ctx, actor, t.TenantID, "trigger.delete", "trigger", t.ID, t.Name, "")
}

// adminTrigger loads a trigger of the actor's tenant; admins of the
// default tenant reach every tenant's. Others' are not found.
func (s *Service) adminTrigger(ctx context.Context, actor Actor, id int64) (*parley.Trigger, error) {
	t, err := s.store.Trigger(ctx, id)
	if isCode(err, parley.ENOTFOUND) || (err == nil && t.TenantID != actor.TenantID && actor.TenantID != parley.DefaultTenantID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "trigger not found")
	}
	if err != nil {
		return nil, internal("load trigger", err)
	}
	return t, nil
}

// checkTriggerGroup checks that a trigger's group is one of its tenant's.
func (s *Service) checkTriggerGroup(ctx context.Context, tenantID, groupID int64) error {
	if groupID == 0 {
		return nil
	}
	g, err := s.store.Group(ctx, groupID)
	if isCode(err, parley.ENOTFOUND) || (err == nil && g.TenantID != tenantID) {
		return parley.Errorf(parley.EINVALID, "group %d does not exist", groupID)
	}
	if err != nil {
		return internal("load group", err)
	}
	return nil
}

// WidgetTrigger is what the widget needs of a trigger: no tenant, name,
// description or times.
type WidgetTrigger struct {
	ID         int64  `json:"id"`
	URLPattern string `json:"url_pattern,omitempty"`
	TimeOnSite int    `json:"time_on_site,omitempty"`
	ChatOpened bool   `json:"chat_opened,omitempty"`
	RunOnce    bool   `json:"run_once,omitempty"`
	SenderName string `json:"sender_name,omitempty"`
	Message    string `json:"message"`
}

// activeTriggers returns the enabled triggers of a tenant that apply to
// the group: those of every group and, when groupID is not 0, the
// group's own.
func (s *Service) activeTriggers(ctx context.Context, tenantID, groupID int64) ([]*parley.Trigger, error) {
	if tenantID == 0 {
		tenantID = parley.DefaultTenantID
	}
	all, err := s.store.Triggers(ctx, tenantID)
	if err != nil {
		return nil, internal("list triggers", err)
	}
	out := []*parley.Trigger{}
	for _, t := range all {
		if t.Enabled && (t.GroupID == 0 || t.GroupID == groupID) {
			out = append(out, t)
		}
	}
	return out, nil
}

// WidgetTriggers lists, for anyone, the enabled triggers of a tenant that
// apply to a group (groupID 0: only the tenant's triggers of every
// group), with only the fields the widget evaluates.
func (s *Service) WidgetTriggers(ctx context.Context, tenantID, groupID int64) ([]WidgetTrigger, error) {
	list, err := s.activeTriggers(ctx, tenantID, groupID)
	if err != nil {
		return nil, err
	}
	out := make([]WidgetTrigger, 0, len(list))
	for _, t := range list {
		out = append(out, WidgetTrigger{ID: t.ID, URLPattern: t.URLPattern, TimeOnSite: t.TimeOnSite,
			ChatOpened: t.ChatOpened, RunOnce: t.RunOnce, SenderName: t.SenderName, Message: t.Message})
	}
	return out, nil
}

// HasTriggers reports whether a tenant has any enabled trigger, so that
// the widget loads its trigger code only then.
func (s *Service) HasTriggers(ctx context.Context, tenantID int64) (bool, error) {
	if tenantID == 0 {
		tenantID = parley.DefaultTenantID
	}
	all, err := s.store.Triggers(ctx, tenantID)
	if err != nil {
		return false, internal("list triggers", err)
	}
	for _, t := range all {
		if t.Enabled {
			return true, nil
		}
	}
	return false, nil
}

// RCTrigger is a trigger in the shape of Rocket.Chat's livechat
// configuration (the triggers list of GET /api/v1/livechat/config).
type RCTrigger struct {
	ID          string        `json:"_id"`
	Enabled     bool          `json:"enabled"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	RunOnce     bool          `json:"runOnce"`
	Conditions  []RCCondition `json:"conditions"`
	Actions     []RCAction    `json:"actions"`
}

// RCCondition is one condition of an RCTrigger: "page-url" (Value: the
// pattern, a string), "time-on-site" (Value: seconds, a number) or
// "chat-opened-by-visitor" (no Value).
type RCCondition struct {
	Name  string `json:"name"`
	Value any    `json:"value,omitempty"`
}

// RCAction is the action of an RCTrigger: always "send-message".
type RCAction struct {
	Name   string         `json:"name"`
	Params RCActionParams `json:"params"`
}

// RCActionParams says who sends the message: Sender "custom" with Name,
// or "queue" (the agent the chat would go to) when the trigger names no
// sender.
type RCActionParams struct {
	Sender string `json:"sender"`
	Name   string `json:"name,omitempty"`
	Msg    string `json:"msg"`
}

// RocketChatTriggers returns the enabled triggers of a tenant that apply
// to a group (groupID 0: the tenant's triggers of every group) in
// Rocket.Chat's livechat config shape, for the Rocket.Chat dialect.
func (s *Service) RocketChatTriggers(ctx context.Context, tenantID, groupID int64) ([]RCTrigger, error) {
	list, err := s.activeTriggers(ctx, tenantID, groupID)
	if err != nil {
		return nil, err
	}
	out := make([]RCTrigger, 0, len(list))
	for _, t := range list {
		out = append(out, rcTrigger(t))
	}
	return out, nil
}

func rcTrigger(t *parley.Trigger) RCTrigger {
	r := RCTrigger{ID: strconv.FormatInt(t.ID, 10), Enabled: t.Enabled, Name: t.Name, Description: t.Description,
		RunOnce: t.RunOnce, Conditions: []RCCondition{}}
	if t.URLPattern != "" {
		r.Conditions = append(r.Conditions, RCCondition{Name: "page-url", Value: t.URLPattern})
	}
	if t.TimeOnSite > 0 {
		r.Conditions = append(r.Conditions, RCCondition{Name: "time-on-site", Value: t.TimeOnSite})
	}
	if t.ChatOpened {
		r.Conditions = append(r.Conditions, RCCondition{Name: "chat-opened-by-visitor"})
	}
	p := RCActionParams{Sender: "queue", Msg: t.Message}
	if t.SenderName != "" {
		p.Sender, p.Name = "custom", t.SenderName
	}
	r.Actions = []RCAction{{Name: "send-message", Params: p}}
	return r
}

// triggerGreeting returns the message event of the trigger a chat was
// started from: the trigger's message from its sender, as the visitor saw
// it. A trigger that no longer applies (deleted, disabled, moved to
// another group) or never did (another tenant's) gives no event, and the
// chat starts without the greeting: the widget's rules may be a minute
// old, and the visitor's reply must not fail for that.
func (s *Service) triggerGreeting(ctx context.Context, tenantID, triggerID, groupID int64) ([]parley.Event, error) {
	if triggerID <= 0 {
		return nil, nil
	}
	t, err := s.store.Trigger(ctx, triggerID)
	if isCode(err, parley.ENOTFOUND) || (err == nil && (t.TenantID != tenantID || !t.Enabled || (t.GroupID != 0 && t.GroupID != groupID))) {
		return nil, nil
	}
	if err != nil {
		return nil, internal("load trigger", err)
	}
	// An agent party without an agent: the trigger speaks for the group.
	from := parley.Party{Kind: parley.PartyAgent, Name: t.SenderName}
	return []parley.Event{{Type: parley.EventMessage, From: from, Text: t.Message}}, nil
}
