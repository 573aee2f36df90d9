// Code generated from the store interfaces; DO NOT EDIT by hand: run go generate in storebus.

package storebus

import (
	"context"
	"time"

	"github.com/parleychat/parley"
)

// Ping implements the store's method of that name on a core node.
func (c *Client) Ping(ctx context.Context) error {
	return c.call(ctx, "Ping", []any{})
}

// CreateTenant implements the store's method of that name on a core node.
func (c *Client) CreateTenant(ctx context.Context, a1 *parley.Tenant) error {
	return c.call(ctx, "CreateTenant", []any{a1})
}

// Tenant implements the store's method of that name on a core node.
func (c *Client) Tenant(ctx context.Context, a1 int64) (*parley.Tenant, error) {
	var r0 *parley.Tenant
	err := c.call(ctx, "Tenant", []any{a1}, &r0)
	return r0, err
}

// Tenants implements the store's method of that name on a core node.
func (c *Client) Tenants(ctx context.Context) ([]*parley.Tenant, error) {
	var r0 []*parley.Tenant
	err := c.call(ctx, "Tenants", []any{}, &r0)
	return r0, err
}

// UpdateTenant implements the store's method of that name on a core node.
func (c *Client) UpdateTenant(ctx context.Context, a1 *parley.Tenant) error {
	return c.call(ctx, "UpdateTenant", []any{a1})
}

// CreateGroup implements the store's method of that name on a core node.
func (c *Client) CreateGroup(ctx context.Context, a1 *parley.Group) error {
	return c.call(ctx, "CreateGroup", []any{a1})
}

// UpdateGroup implements the store's method of that name on a core node.
func (c *Client) UpdateGroup(ctx context.Context, a1 *parley.Group) error {
	return c.call(ctx, "UpdateGroup", []any{a1})
}

// Group implements the store's method of that name on a core node.
func (c *Client) Group(ctx context.Context, a1 int64) (*parley.Group, error) {
	var r0 *parley.Group
	err := c.call(ctx, "Group", []any{a1}, &r0)
	return r0, err
}

// GroupByName implements the store's method of that name on a core node.
func (c *Client) GroupByName(ctx context.Context, a1 int64, a2 string) (*parley.Group, error) {
	var r0 *parley.Group
	err := c.call(ctx, "GroupByName", []any{a1, a2}, &r0)
	return r0, err
}

// Groups implements the store's method of that name on a core node.
func (c *Client) Groups(ctx context.Context, a1 int64) ([]*parley.Group, error) {
	var r0 []*parley.Group
	err := c.call(ctx, "Groups", []any{a1}, &r0)
	return r0, err
}

// CreateAgent implements the store's method of that name on a core node.
func (c *Client) CreateAgent(ctx context.Context, a1 *parley.Agent) error {
	return c.call(ctx, "CreateAgent", []any{a1})
}

// UpdateAgent implements the store's method of that name on a core node.
func (c *Client) UpdateAgent(ctx context.Context, a1 *parley.Agent) error {
	return c.call(ctx, "UpdateAgent", []any{a1})
}

// Agent implements the store's method of that name on a core node.
func (c *Client) Agent(ctx context.Context, a1 int64) (*parley.Agent, error) {
	var r0 *parley.Agent
	err := c.call(ctx, "Agent", []any{a1}, &r0)
	return r0, err
}

// AgentByLogin implements the store's method of that name on a core node.
func (c *Client) AgentByLogin(ctx context.Context, a1 int64, a2 string) (*parley.Agent, error) {
	var r0 *parley.Agent
	err := c.call(ctx, "AgentByLogin", []any{a1, a2}, &r0)
	return r0, err
}

// Agents implements the store's method of that name on a core node.
func (c *Client) Agents(ctx context.Context, a1 int64) ([]*parley.Agent, error) {
	var r0 []*parley.Agent
	err := c.call(ctx, "Agents", []any{a1}, &r0)
	return r0, err
}

// CreateSession implements the store's method of that name on a core node.
func (c *Client) CreateSession(ctx context.Context, a1 *parley.Session) error {
	return c.call(ctx, "CreateSession", []any{a1})
}

// Session implements the store's method of that name on a core node.
func (c *Client) Session(ctx context.Context, a1 []byte) (*parley.Session, error) {
	var r0 *parley.Session
	err := c.call(ctx, "Session", []any{a1}, &r0)
	return r0, err
}

// DeleteSession implements the store's method of that name on a core node.
func (c *Client) DeleteSession(ctx context.Context, a1 []byte) error {
	return c.call(ctx, "DeleteSession", []any{a1})
}

// DeleteAgentSessions implements the store's method of that name on a core node.
func (c *Client) DeleteAgentSessions(ctx context.Context, a1 int64, a2 []byte) (int, error) {
	var r0 int
	err := c.call(ctx, "DeleteAgentSessions", []any{a1, a2}, &r0)
	return r0, err
}

// CreateVisitor implements the store's method of that name on a core node.
func (c *Client) CreateVisitor(ctx context.Context, a1 *parley.Visitor) error {
	return c.call(ctx, "CreateVisitor", []any{a1})
}

// UpdateVisitor implements the store's method of that name on a core node.
func (c *Client) UpdateVisitor(ctx context.Context, a1 *parley.Visitor) error {
	return c.call(ctx, "UpdateVisitor", []any{a1})
}

// Visitor implements the store's method of that name on a core node.
func (c *Client) Visitor(ctx context.Context, a1 string) (*parley.Visitor, error) {
	var r0 *parley.Visitor
	err := c.call(ctx, "Visitor", []any{a1}, &r0)
	return r0, err
}

// VisitorByToken implements the store's method of that name on a core node.
func (c *Client) VisitorByToken(ctx context.Context, a1 []byte) (*parley.Visitor, error) {
	var r0 *parley.Visitor
	err := c.call(ctx, "VisitorByToken", []any{a1}, &r0)
	return r0, err
}

// CreateChat implements the store's method of that name on a core node.
func (c *Client) CreateChat(ctx context.Context, a1 *parley.Chat, a2 []parley.Event) ([]parley.Event, error) {
	var r0 []parley.Event
	err := c.call(ctx, "CreateChat", []any{a1, a2}, &r0)
	return r0, err
}

// UpdateChat implements the store's method of that name on a core node.
func (c *Client) UpdateChat(ctx context.Context, a1 *parley.Chat, a2 []parley.Event) ([]parley.Event, error) {
	var r0 []parley.Event
	err := c.call(ctx, "UpdateChat", []any{a1, a2}, &r0)
	return r0, err
}

// AppendEvents implements the store's method of that name on a core node.
func (c *Client) AppendEvents(ctx context.Context, a1 string, a2 []parley.Event) ([]parley.Event, error) {
	var r0 []parley.Event
	err := c.call(ctx, "AppendEvents", []any{a1, a2}, &r0)
	return r0, err
}

// Chat implements the store's method of that name on a core node.
func (c *Client) Chat(ctx context.Context, a1 string) (*parley.Chat, error) {
	var r0 *parley.Chat
	err := c.call(ctx, "Chat", []any{a1}, &r0)
	return r0, err
}

// Chats implements the store's method of that name on a core node.
func (c *Client) Chats(ctx context.Context, a1 parley.ChatFilter) ([]*parley.Chat, error) {
	var r0 []*parley.Chat
	err := c.call(ctx, "Chats", []any{a1}, &r0)
	return r0, err
}

// SearchChats implements the store's method of that name on a core node.
func (c *Client) SearchChats(ctx context.Context, a1 parley.ArchiveQuery) (*parley.ArchivePage, error) {
	var r0 *parley.ArchivePage
	err := c.call(ctx, "SearchChats", []any{a1}, &r0)
	return r0, err
}

// CreateCanned implements the store's method of that name on a core node.
func (c *Client) CreateCanned(ctx context.Context, a1 *parley.CannedResponse) error {
	return c.call(ctx, "CreateCanned", []any{a1})
}

// UpdateCanned implements the store's method of that name on a core node.
func (c *Client) UpdateCanned(ctx context.Context, a1 *parley.CannedResponse) error {
	return c.call(ctx, "UpdateCanned", []any{a1})
}

// DeleteCanned implements the store's method of that name on a core node.
func (c *Client) DeleteCanned(ctx context.Context, a1 int64) error {
	return c.call(ctx, "DeleteCanned", []any{a1})
}

// Canned implements the store's method of that name on a core node.
func (c *Client) Canned(ctx context.Context, a1 int64) (*parley.CannedResponse, error) {
	var r0 *parley.CannedResponse
	err := c.call(ctx, "Canned", []any{a1}, &r0)
	return r0, err
}

// CannedResponses implements the store's method of that name on a core node.
func (c *Client) CannedResponses(ctx context.Context, a1 int64) ([]*parley.CannedResponse, error) {
	var r0 []*parley.CannedResponse
	err := c.call(ctx, "CannedResponses", []any{a1}, &r0)
	return r0, err
}

// EnqueueMail implements the store's method of that name on a core node.
func (c *Client) EnqueueMail(ctx context.Context, a1 *parley.OutboxMail) (bool, error) {
	var r0 bool
	err := c.call(ctx, "EnqueueMail", []any{a1}, &r0)
	return r0, err
}

// ClaimMail implements the store's method of that name: an edge node never calls it.
func (c *Client) ClaimMail(ctx context.Context, a1 time.Time, a2 time.Duration, a3 int) ([]*parley.OutboxMail, error) {
	var r0 []*parley.OutboxMail
	return r0, refused("ClaimMail")
}

// MarkMailSent implements the store's method of that name: an edge node never calls it.
func (c *Client) MarkMailSent(ctx context.Context, a1 int64, a2 time.Time) error {
	return refused("MarkMailSent")
}

// MarkMailFailed implements the store's method of that name: an edge node never calls it.
func (c *Client) MarkMailFailed(ctx context.Context, a1 int64, a2 time.Time, a3 string, a4 bool) error {
	return refused("MarkMailFailed")
}

// Mail implements the store's method of that name on a core node.
func (c *Client) Mail(ctx context.Context, a1 int64) (*parley.OutboxMail, error) {
	var r0 *parley.OutboxMail
	err := c.call(ctx, "Mail", []any{a1}, &r0)
	return r0, err
}

// CreateInternalMessage implements the store's method of that name on a core node.
func (c *Client) CreateInternalMessage(ctx context.Context, a1 *parley.InternalMessage) error {
	return c.call(ctx, "CreateInternalMessage", []any{a1})
}

// InternalMessages implements the store's method of that name on a core node.
func (c *Client) InternalMessages(ctx context.Context, a1 int64, a2 int64, a3 int64, a4 int64, a5 int) ([]*parley.InternalMessage, error) {
	var r0 []*parley.InternalMessage
	err := c.call(ctx, "InternalMessages", []any{a1, a2, a3, a4, a5}, &r0)
	return r0, err
}

// CreateAttachment implements the store's method of that name on a core node.
func (c *Client) CreateAttachment(ctx context.Context, a1 *parley.Attachment) error {
	return c.call(ctx, "CreateAttachment", []any{a1})
}

// Attachment implements the store's method of that name on a core node.
func (c *Client) Attachment(ctx context.Context, a1 string) (*parley.Attachment, error) {
	var r0 *parley.Attachment
	err := c.call(ctx, "Attachment", []any{a1}, &r0)
	return r0, err
}

// CreateRating implements the store's method of that name on a core node.
func (c *Client) CreateRating(ctx context.Context, a1 *parley.Rating) error {
	return c.call(ctx, "CreateRating", []any{a1})
}

// Rating implements the store's method of that name on a core node.
func (c *Client) Rating(ctx context.Context, a1 string) (*parley.Rating, error) {
	var r0 *parley.Rating
	err := c.call(ctx, "Rating", []any{a1}, &r0)
	return r0, err
}

// Ratings implements the store's method of that name on a core node.
func (c *Client) Ratings(ctx context.Context, a1 []string) (map[string]*parley.Rating, error) {
	var r0 map[string]*parley.Rating
	err := c.call(ctx, "Ratings", []any{a1}, &r0)
	return r0, err
}

// CreateOfflineMessage implements the store's method of that name on a core node.
func (c *Client) CreateOfflineMessage(ctx context.Context, a1 *parley.OfflineMessage) error {
	return c.call(ctx, "CreateOfflineMessage", []any{a1})
}

// OfflineMessages implements the store's method of that name on a core node.
func (c *Client) OfflineMessages(ctx context.Context, a1 int64, a2 []int64, a3 int) ([]*parley.OfflineMessage, error) {
	var r0 []*parley.OfflineMessage
	err := c.call(ctx, "OfflineMessages", []any{a1, a2, a3}, &r0)
	return r0, err
}

// CreateTrigger implements the store's method of that name on a core node.
func (c *Client) CreateTrigger(ctx context.Context, a1 *parley.Trigger) error {
	return c.call(ctx, "CreateTrigger", []any{a1})
}

// UpdateTrigger implements the store's method of that name on a core node.
func (c *Client) UpdateTrigger(ctx context.Context, a1 *parley.Trigger) error {
	return c.call(ctx, "UpdateTrigger", []any{a1})
}

// DeleteTrigger implements the store's method of that name on a core node.
func (c *Client) DeleteTrigger(ctx context.Context, a1 int64) error {
	return c.call(ctx, "DeleteTrigger", []any{a1})
}

// Trigger implements the store's method of that name on a core node.
func (c *Client) Trigger(ctx context.Context, a1 int64) (*parley.Trigger, error) {
	var r0 *parley.Trigger
	err := c.call(ctx, "Trigger", []any{a1}, &r0)
	return r0, err
}

// Triggers implements the store's method of that name on a core node.
func (c *Client) Triggers(ctx context.Context, a1 int64) ([]*parley.Trigger, error) {
	var r0 []*parley.Trigger
	err := c.call(ctx, "Triggers", []any{a1}, &r0)
	return r0, err
}

// RetentionPolicy implements the store's method of that name on a core node.
func (c *Client) RetentionPolicy(ctx context.Context, a1 int64) (*parley.RetentionPolicy, error) {
	var r0 *parley.RetentionPolicy
	err := c.call(ctx, "RetentionPolicy", []any{a1}, &r0)
	return r0, err
}

// SetRetentionPolicy implements the store's method of that name on a core node.
func (c *Client) SetRetentionPolicy(ctx context.Context, a1 *parley.RetentionPolicy) error {
	return c.call(ctx, "SetRetentionPolicy", []any{a1})
}

// RetentionPolicies implements the store's method of that name on a core node.
func (c *Client) RetentionPolicies(ctx context.Context) ([]*parley.RetentionPolicy, error) {
	var r0 []*parley.RetentionPolicy
	err := c.call(ctx, "RetentionPolicies", []any{}, &r0)
	return r0, err
}

// Purge implements the store's method of that name on a core node.
func (c *Client) Purge(ctx context.Context, a1 int64, a2 time.Time, a3 int) (*parley.Deletion, error) {
	var r0 *parley.Deletion
	err := c.call(ctx, "Purge", []any{a1, a2, a3}, &r0)
	return r0, err
}

// EraseVisitor implements the store's method of that name on a core node.
func (c *Client) EraseVisitor(ctx context.Context, a1 parley.ErasureRequest) (*parley.Deletion, error) {
	var r0 *parley.Deletion
	err := c.call(ctx, "EraseVisitor", []any{a1}, &r0)
	return r0, err
}

// Scrub implements the store's method of that name on a core node.
func (c *Client) Scrub(ctx context.Context) error {
	return c.call(ctx, "Scrub", []any{})
}

// SetAgentPhoto implements the store's method of that name on a core node.
func (c *Client) SetAgentPhoto(ctx context.Context, a1 *parley.AgentPhoto) error {
	return c.call(ctx, "SetAgentPhoto", []any{a1})
}

// AgentPhoto implements the store's method of that name on a core node.
func (c *Client) AgentPhoto(ctx context.Context, a1 int64) (*parley.AgentPhoto, error) {
	var r0 *parley.AgentPhoto
	err := c.call(ctx, "AgentPhoto", []any{a1}, &r0)
	return r0, err
}

// DeleteAgentPhoto implements the store's method of that name on a core node.
func (c *Client) DeleteAgentPhoto(ctx context.Context, a1 int64) error {
	return c.call(ctx, "DeleteAgentPhoto", []any{a1})
}

// CreateInvite implements the store's method of that name on a core node.
func (c *Client) CreateInvite(ctx context.Context, a1 *parley.Invite) error {
	return c.call(ctx, "CreateInvite", []any{a1})
}

// UseInvite implements the store's method of that name on a core node.
func (c *Client) UseInvite(ctx context.Context, a1 []byte, a2 time.Time) (*parley.Invite, error) {
	var r0 *parley.Invite
	err := c.call(ctx, "UseInvite", []any{a1, a2}, &r0)
	return r0, err
}

// AppendAudit implements the store's method of that name on a core node.
func (c *Client) AppendAudit(ctx context.Context, a1 *parley.AuditEntry) error {
	return c.call(ctx, "AppendAudit", []any{a1})
}

// AuditLog implements the store's method of that name on a core node.
func (c *Client) AuditLog(ctx context.Context, a1 parley.AuditFilter) ([]*parley.AuditEntry, error) {
	var r0 []*parley.AuditEntry
	err := c.call(ctx, "AuditLog", []any{a1}, &r0)
	return r0, err
}

// CreateWebhook implements the store's method of that name on a core node.
func (c *Client) CreateWebhook(ctx context.Context, a1 *parley.Webhook) error {
	return c.call(ctx, "CreateWebhook", []any{a1})
}

// Webhooks implements the store's method of that name on a core node.
func (c *Client) Webhooks(ctx context.Context, a1 int64) ([]*parley.Webhook, error) {
	var r0 []*parley.Webhook
	err := c.call(ctx, "Webhooks", []any{a1}, &r0)
	return r0, err
}

// Webhook implements the store's method of that name on a core node.
func (c *Client) Webhook(ctx context.Context, a1 int64) (*parley.Webhook, error) {
	var r0 *parley.Webhook
	err := c.call(ctx, "Webhook", []any{a1}, &r0)
	return r0, err
}

// DeleteWebhook implements the store's method of that name on a core node.
func (c *Client) DeleteWebhook(ctx context.Context, a1 int64, a2 int64, a3 time.Time) error {
	return c.call(ctx, "DeleteWebhook", []any{a1, a2, a3})
}

// WebhookBacklog implements the store's method of that name: an edge node never calls it.
func (c *Client) WebhookBacklog(ctx context.Context, a1 int) ([]parley.WebhookCapture, error) {
	var r0 []parley.WebhookCapture
	return r0, refused("WebhookBacklog")
}

// CaptureDeliveries implements the store's method of that name: an edge node never calls it.
func (c *Client) CaptureDeliveries(ctx context.Context, a1 []int64, a2 []*parley.WebhookDelivery) error {
	return refused("CaptureDeliveries")
}

// ClaimDeliveries implements the store's method of that name: an edge node never calls it.
func (c *Client) ClaimDeliveries(ctx context.Context, a1 time.Time, a2 time.Duration, a3 int) ([]*parley.WebhookDelivery, error) {
	var r0 []*parley.WebhookDelivery
	return r0, refused("ClaimDeliveries")
}

// ReleaseDeliveries implements the store's method of that name: an edge node never calls it.
func (c *Client) ReleaseDeliveries(ctx context.Context) error {
	return refused("ReleaseDeliveries")
}

// PruneDeliveries implements the store's method of that name: an edge node never calls it.
func (c *Client) PruneDeliveries(ctx context.Context, a1 time.Time) error {
	return refused("PruneDeliveries")
}

// MarkDelivered implements the store's method of that name: an edge node never calls it.
func (c *Client) MarkDelivered(ctx context.Context, a1 int64, a2 int, a3 time.Time) error {
	return refused("MarkDelivered")
}

// MarkDeliveryFailed implements the store's method of that name: an edge node never calls it.
func (c *Client) MarkDeliveryFailed(ctx context.Context, a1 int64, a2 time.Time, a3 int, a4 string, a5 bool) error {
	return refused("MarkDeliveryFailed")
}

// WebhookDeliveries implements the store's method of that name on a core node.
func (c *Client) WebhookDeliveries(ctx context.Context, a1 int64, a2 int64, a3 int) ([]*parley.WebhookDelivery, error) {
	var r0 []*parley.WebhookDelivery
	err := c.call(ctx, "WebhookDeliveries", []any{a1, a2, a3}, &r0)
	return r0, err
}

// OfflineMessage implements the store's method of that name on a core node.
func (c *Client) OfflineMessage(ctx context.Context, a1 int64) (*parley.OfflineMessage, error) {
	var r0 *parley.OfflineMessage
	err := c.call(ctx, "OfflineMessage", []any{a1}, &r0)
	return r0, err
}

// CreateAPIKey implements the store's method of that name on a core node.
func (c *Client) CreateAPIKey(ctx context.Context, a1 *parley.APIKey) error {
	return c.call(ctx, "CreateAPIKey", []any{a1})
}

// APIKeyByHash implements the store's method of that name on a core node.
func (c *Client) APIKeyByHash(ctx context.Context, a1 []byte) (*parley.APIKey, error) {
	var r0 *parley.APIKey
	err := c.call(ctx, "APIKeyByHash", []any{a1}, &r0)
	return r0, err
}

// APIKeys implements the store's method of that name on a core node.
func (c *Client) APIKeys(ctx context.Context, a1 int64) ([]*parley.APIKey, error) {
	var r0 []*parley.APIKey
	err := c.call(ctx, "APIKeys", []any{a1}, &r0)
	return r0, err
}

// RevokeAPIKey implements the store's method of that name on a core node.
func (c *Client) RevokeAPIKey(ctx context.Context, a1 int64, a2 int64, a3 time.Time) error {
	return c.call(ctx, "RevokeAPIKey", []any{a1, a2, a3})
}

// SetGroupBot implements the store's method of that name on a core node.
func (c *Client) SetGroupBot(ctx context.Context, a1 int64, a2 int64, a3 string) error {
	return c.call(ctx, "SetGroupBot", []any{a1, a2, a3})
}

// GroupBot implements the store's method of that name on a core node.
func (c *Client) GroupBot(ctx context.Context, a1 int64) (string, error) {
	var r0 string
	err := c.call(ctx, "GroupBot", []any{a1}, &r0)
	return r0, err
}

// SetChatData implements the store's method of that name on a core node.
func (c *Client) SetChatData(ctx context.Context, a1 string, a2 map[string]string, a3 time.Time) error {
	return c.call(ctx, "SetChatData", []any{a1, a2, a3})
}

// ChatData implements the store's method of that name on a core node.
func (c *Client) ChatData(ctx context.Context, a1 string) (map[string]string, error) {
	var r0 map[string]string
	err := c.call(ctx, "ChatData", []any{a1}, &r0)
	return r0, err
}

// storeMethods are the store methods a core node answers: what the service,
// the dialects and the integration API of an edge node call.
var storeMethods = []string{
	"Ping",
	"CreateTenant",
	"Tenant",
	"Tenants",
	"UpdateTenant",
	"CreateGroup",
	"UpdateGroup",
	"Group",
	"GroupByName",
	"Groups",
	"CreateAgent",
	"UpdateAgent",
	"Agent",
	"AgentByLogin",
	"Agents",
	"CreateSession",
	"Session",
	"DeleteSession",
	"DeleteAgentSessions",
	"CreateVisitor",
	"UpdateVisitor",
	"Visitor",
	"VisitorByToken",
	"CreateChat",
	"UpdateChat",
	"AppendEvents",
	"Chat",
	"Chats",
	"SearchChats",
	"CreateCanned",
	"UpdateCanned",
	"DeleteCanned",
	"Canned",
	"CannedResponses",
	"EnqueueMail",
	"Mail",
	"CreateInternalMessage",
	"InternalMessages",
	"CreateAttachment",
	"Attachment",
	"CreateRating",
	"Rating",
	"Ratings",
	"CreateOfflineMessage",
	"OfflineMessages",
	"CreateTrigger",
	"UpdateTrigger",
	"DeleteTrigger",
	"Trigger",
	"Triggers",
	"RetentionPolicy",
	"SetRetentionPolicy",
	"RetentionPolicies",
	"Purge",
	"EraseVisitor",
	"Scrub",
	"SetAgentPhoto",
	"AgentPhoto",
	"DeleteAgentPhoto",
	"CreateInvite",
	"UseInvite",
	"AppendAudit",
	"AuditLog",
	"CreateWebhook",
	"Webhooks",
	"Webhook",
	"DeleteWebhook",
	"WebhookDeliveries",
	"OfflineMessage",
	"CreateAPIKey",
	"APIKeyByHash",
	"APIKeys",
	"RevokeAPIKey",
	"SetGroupBot",
	"GroupBot",
	"SetChatData",
	"ChatData",
}
