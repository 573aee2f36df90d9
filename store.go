package parley

import (
	"context"
	"time"
)

// Store keeps everything durable. Implementations: package sqlite (embedded
// default) and, for clusters, PostgreSQL. Both pass package storetest.
//
// Lookups of missing records return an *Error with code ENOTFOUND; a unique
// key taken by another record returns ECONFLICT. Stores hold no business
// rules: they keep what they are given, atomically.
type Store interface {
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error

	// CreateTenant stores t and sets t.ID (unless set) and t.CreatedAt.
	CreateTenant(ctx context.Context, t *Tenant) error
	Tenant(ctx context.Context, id int64) (*Tenant, error)
	Tenants(ctx context.Context) ([]*Tenant, error)
	// UpdateTenant replaces the name and widget appearance of tenant t.ID
	// and sets t.CreatedAt from the stored record.
	UpdateTenant(ctx context.Context, t *Tenant) error

	// CreateGroup stores g and sets g.ID (unless set) and g.CreatedAt. A name
	// is unique per tenant, case-insensitively.
	CreateGroup(ctx context.Context, g *Group) error
	// UpdateGroup replaces every field of the group g.ID but its tenant.
	UpdateGroup(ctx context.Context, g *Group) error
	// DeleteTenant deletes a tenant that has no chat left, with its
	// visitors, offline messages, mail, canned responses, triggers, API
	// keys, webhooks, agents (with their sessions, photos, invitations
	// and messages) and groups. The audit log keeps its entries.
	// ECONFLICT while a chat of the tenant exists.
	DeleteTenant(ctx context.Context, id int64) error
	// DeleteGroup deletes a group that no chat or offline message names,
	// with its memberships, its bot and its own canned responses and
	// triggers; ECONFLICT while chats or offline messages name it (the
	// archive keeps them readable), ENOTFOUND when there is no such group.
	DeleteGroup(ctx context.Context, id int64) error
	Group(ctx context.Context, id int64) (*Group, error)
	// GroupByName finds a group of a tenant by name, case-insensitively.
	GroupByName(ctx context.Context, tenantID int64, name string) (*Group, error)
	// Groups lists a tenant's groups by ID.
	Groups(ctx context.Context, tenantID int64) ([]*Group, error)

	// CreateAgent stores a and its memberships and sets a.ID (unless set)
	// and a.CreatedAt. A login is unique per tenant.
	CreateAgent(ctx context.Context, a *Agent) error
	// UpdateAgent replaces every field of agent a.ID but its tenant,
	// including memberships and password hash.
	UpdateAgent(ctx context.Context, a *Agent) error
	Agent(ctx context.Context, id int64) (*Agent, error)
	AgentByLogin(ctx context.Context, tenantID int64, login string) (*Agent, error)
	// Agents lists a tenant's agents by ID; tenantID 0 lists all tenants'.
	Agents(ctx context.Context, tenantID int64) ([]*Agent, error)

	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session with the token hash, expired or not.
	Session(ctx context.Context, tokenHash []byte) (*Session, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteAgentSessions deletes every session of the agent except the one
	// with keepHash (nil keeps none) and returns how many it deleted.
	DeleteAgentSessions(ctx context.Context, agentID int64, keepHash []byte) (int, error)

	// CreateVisitor stores v and sets v.CreatedAt; v.ID must be set.
	CreateVisitor(ctx context.Context, v *Visitor) error
	// UpdateVisitor replaces the visitor's details (not its token).
	UpdateVisitor(ctx context.Context, v *Visitor) error
	Visitor(ctx context.Context, id string) (*Visitor, error)
	VisitorByToken(ctx context.Context, tokenHash []byte) (*Visitor, error)

	// CreateChat stores c (c.ID set) with its first events in one
	// transaction. It sets c.Version to 1 and c.LastSeq, and returns the
	// events with their sequence numbers.
	CreateChat(ctx context.Context, c *Chat, events []Event) ([]Event, error)
	// UpdateChat replaces the chat record c.ID if its stored version is
	// still c.Version, and appends events, in one transaction. On success
	// c.Version is incremented and c.LastSeq updated; a changed version
	// gives ECONFLICT and changes nothing.
	UpdateChat(ctx context.Context, c *Chat, events []Event) ([]Event, error)
	// AppendEvents appends events to a chat's log without touching its
	// record (beyond last_seq) and returns them with sequence numbers. An
	// event whose ClientID is already stored for the chat is not stored
	// again: the stored event is returned in its place. When it returns
	// without error the events are durable; an error means they were not
	// stored. Concurrent calls (of any chats) may share one transaction.
	AppendEvents(ctx context.Context, chatID string, events []Event) ([]Event, error)
	Chat(ctx context.Context, id string) (*Chat, error)
	// Chats lists chats matching f, oldest first.
	Chats(ctx context.Context, f ChatFilter) ([]*Chat, error)
	// Events returns up to limit events of the chat with Seq > after, in
	// order. limit <= 0 means no limit.
	Events(ctx context.Context, chatID string, after int64, limit int) ([]Event, error)

	// ReadPosition returns how far the client named reader has read the
	// chat's log (the seq of the last event delivered to it), for clients
	// that keep no cursor of their own; 0 when none is stored.
	ReadPosition(ctx context.Context, chatID, reader string) (int64, error)
	// SavePosition raises reader's position in the chat to seq; a seq
	// below the stored one changes nothing. A missing chat gives
	// EINVALID. Positions are deleted with their chat.
	SavePosition(ctx context.Context, chatID, reader string, seq int64) error

	// SearchChats returns a page of a tenant's chats matching q, newest
	// first. q has been validated.
	SearchChats(ctx context.Context, q ArchiveQuery) (*ArchivePage, error)

	// CreateCanned stores c and sets c.ID, c.CreatedAt and c.UpdatedAt. A
	// shortcut is unique per tenant and group.
	CreateCanned(ctx context.Context, c *CannedResponse) error
	// UpdateCanned replaces every field of response c.ID but its tenant
	// and creation time, and sets c.UpdatedAt.
	UpdateCanned(ctx context.Context, c *CannedResponse) error
	DeleteCanned(ctx context.Context, id int64) error
	Canned(ctx context.Context, id int64) (*CannedResponse, error)
	// CannedResponses lists a tenant's responses by group, folder and
	// title.
	CannedResponses(ctx context.Context, tenantID int64) ([]*CannedResponse, error)

	// EnqueueMail stores m as pending and sets m.ID and m.CreatedAt. When a
	// mail with m.Key is stored already, it stores nothing, fills m from
	// the stored mail and returns false.
	EnqueueMail(ctx context.Context, m *OutboxMail) (bool, error)
	// ClaimMail takes up to limit pending mails due at now, oldest first:
	// each gets one more attempt and is hidden from other claims until
	// now+lease, so that one sender has it at a time.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*OutboxMail, error)
	// MarkMailSent records that mail id was accepted by the SMTP server.
	MarkMailSent(ctx context.Context, id int64, at time.Time) error
	// MarkMailFailed records a failed attempt: the mail is due again at
	// next, or given up for good when final.
	MarkMailFailed(ctx context.Context, id int64, next time.Time, reason string, final bool) error
	Mail(ctx context.Context, id int64) (*OutboxMail, error)

	// CreateInternalMessage stores m and sets m.ID (and m.At when zero).
	CreateInternalMessage(ctx context.Context, m *InternalMessage) error
	// InternalMessages returns up to limit messages between agents a and b
	// (either way) of the tenant with IDs below before (0: the newest),
	// newest first.
	InternalMessages(ctx context.Context, tenantID, a, b, before int64, limit int) ([]*InternalMessage, error)

	// CreateAttachment records a stored file and sets a.CreatedAt.
	CreateAttachment(ctx context.Context, a *Attachment) error
	Attachment(ctx context.Context, id string) (*Attachment, error)

	// CreateRating stores the rating of r.ChatID and sets r.CreatedAt; a
	// chat has at most one rating (ECONFLICT).
	CreateRating(ctx context.Context, r *Rating) error
	Rating(ctx context.Context, chatID string) (*Rating, error)
	// Ratings returns the ratings of those of the chats that have one,
	// by chat ID.
	Ratings(ctx context.Context, chatIDs []string) (map[string]*Rating, error)
	// CreateOfflineMessage stores m and sets m.ID and m.CreatedAt.
	CreateOfflineMessage(ctx context.Context, m *OfflineMessage) error
	// OfflineMessages lists a tenant's offline messages, newest first, of
	// the given groups (nil: all), at most limit (<= 0: no limit).
	OfflineMessages(ctx context.Context, tenantID int64, groupIDs []int64, limit int) ([]*OfflineMessage, error)

	// CreateTrigger stores t and sets t.ID, t.CreatedAt and t.UpdatedAt.
	CreateTrigger(ctx context.Context, t *Trigger) error
	// UpdateTrigger replaces every field of trigger t.ID but its tenant
	// and creation time, and sets t.UpdatedAt.
	UpdateTrigger(ctx context.Context, t *Trigger) error
	DeleteTrigger(ctx context.Context, id int64) error
	Trigger(ctx context.Context, id int64) (*Trigger, error)
	// Triggers lists a tenant's triggers by ID.
	Triggers(ctx context.Context, tenantID int64) ([]*Trigger, error)

	// RetentionPolicy returns the tenant's policy; a tenant without one
	// gets Days 0 (keep everything).
	RetentionPolicy(ctx context.Context, tenantID int64) (*RetentionPolicy, error)
	// SetRetentionPolicy stores p as its tenant's policy and sets
	// p.UpdatedAt when zero.
	SetRetentionPolicy(ctx context.Context, p *RetentionPolicy) error
	// RetentionPolicies lists the policies with a period (Days > 0), by
	// tenant ID.
	RetentionPolicies(ctx context.Context) ([]*RetentionPolicy, error)
	// Purge deletes, in one transaction, up to limit of the tenant's chats
	// that ended before before, with everything that belongs to them
	// (events and their text index entries, participants, attachment
	// records, ratings, attached data, mails and webhook deliveries and
	// backlog of the chats), then the tenant's offline messages, mails and
	// webhook deliveries made before before, and its visitors made before
	// before that have no chat left. Chats that have not ended are kept.
	// The Deletion lists the deleted chats, whose files the caller removes.
	Purge(ctx context.Context, tenantID int64, before time.Time, limit int) (*Deletion, error)
	// EraseVisitor deletes, in one transaction, the tenant's visitors that
	// r names with all their chats (as Purge does), and the offline
	// messages and mails of their email addresses (and of r.Email). It
	// returns ECONFLICT and deletes nothing while one of the chats has not
	// ended.
	EraseVisitor(ctx context.Context, r ErasureRequest) (*Deletion, error)
	// Scrub makes deleted data unreadable from the store's files: the
	// SQLite store merges its text index and empties its write-ahead log
	// into a database that overwrites deleted content with zeros.
	Scrub(ctx context.Context) error
	// SetAgentPhoto stores (or replaces) the photo of p.AgentID and sets
	// p.UpdatedAt (unless set); a missing agent gives EINVALID.
	SetAgentPhoto(ctx context.Context, p *AgentPhoto) error
	// AgentPhoto returns the photo of an agent; ENOTFOUND when it has none.
	AgentPhoto(ctx context.Context, agentID int64) (*AgentPhoto, error)
	// DeleteAgentPhoto removes an agent's photo; ENOTFOUND when it has none.
	DeleteAgentPhoto(ctx context.Context, agentID int64) error

	// CreateInvite stores inv and deletes the agent's earlier invites, in
	// one transaction; it sets inv.CreatedAt (unless set).
	CreateInvite(ctx context.Context, inv *Invite) error
	// UseInvite deletes the invite with the token hash and returns it, if
	// it has not expired at now; otherwise ENOTFOUND (an expired invite is
	// deleted too). Two concurrent uses: one wins.
	UseInvite(ctx context.Context, tokenHash []byte, now time.Time) (*Invite, error)

	// AppendAudit adds e to the audit log and sets e.ID (and e.At when
	// zero). The log is append-only: no method changes or removes entries.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AuditLog lists entries matching f, newest (highest ID) first, at
	// most f.Limit (<= 0: 100).
	AuditLog(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}

// ChatFilter selects chats. Zero fields do not filter.
type ChatFilter struct {
	TenantID  int64
	VisitorID string
	AgentID   int64
	// ActiveOnly keeps chats that have not terminated.
	ActiveOnly bool
	Limit      int
}
