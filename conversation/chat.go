package conversation

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

// Actor is who is calling: a visitor (by token) or an agent (by session).
type Actor struct {
	Kind      parley.PartyKind
	TenantID  int64
	VisitorID string
	// Agent is the agent as of authentication; set when Kind is agent.
	Agent *parley.Agent
	// Addr is the client address the request came from, for the audit
	// log; transports set it.
	Addr string
}

// IsVisitor reports whether the actor is a visitor.
func (a Actor) IsVisitor() bool { return a.Kind == parley.PartyVisitor }

// AgentID returns the agent's ID, or 0 for a visitor.
func (a Actor) AgentID() int64 {
	if a.Agent == nil {
		return 0
	}
	return a.Agent.ID
}

func (a Actor) hasRole(roles ...parley.Role) bool {
	if a.Agent == nil {
		return false
	}
	for _, r := range roles {
		if a.Agent.Role == r {
			return true
		}
	}
	return false
}

// party returns the actor as the author of an event.
func (a Actor) party(v *parley.Visitor) parley.Party {
	if a.Agent != nil {
		return parley.Party{Kind: parley.PartyAgent, AgentID: a.Agent.ID, Name: a.Agent.NameForVisitors()}
	}
	p := parley.Party{Kind: parley.PartyVisitor}
	if v != nil {
		p.Name = v.Name
	}
	return p
}

// ChatView is a chat as a participant sees it now.
type ChatView struct {
	ID        string       `json:"id"`
	TenantID  int64        `json:"tenant_id"`
	GroupID   int64        `json:"group_id"`
	GroupName string       `json:"group_name"`
	State     parley.State `json:"state"`
	Cause     parley.Cause `json:"cause,omitempty"`
	// Queue is set while the chat is queued.
	Queue *parley.QueueInfo `json:"queue,omitempty"`
	// Agent is the agent handling the chat.
	Agent        *parley.Party        `json:"agent,omitempty"`
	Participants []parley.Participant `json:"participants"`
	// Visitor details are shown to agents only.
	Visitor   *parley.Visitor `json:"visitor,omitempty"`
	OfferedTo int64           `json:"offered_to,omitempty"`
	LastSeq   int64           `json:"last_seq"`
	CreatedAt time.Time       `json:"created_at"`
	// AcceptedAt is when an agent first answered; a transfer keeps it.
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
	// TransferNote is the note of the agent who last transferred the
	// chat, for the colleague who takes it. Agents only.
	TransferNote string `json:"transfer_note,omitempty"`
	// Rating is the visitor's rating of the ended chat, for agents only.
	Rating *parley.Rating `json:"rating,omitempty"`
	// TranscriptMail says whether the transcript can be mailed (the
	// chat's group or the server has a sender address).
	TranscriptMail bool `json:"transcript_mail"`
}

// Chat returns the chat as the actor may see it.
func (s *Service) Chat(ctx context.Context, actor Actor, chatID string) (*ChatView, error) {
	c, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, c, !actor.IsVisitor())
}

func (s *Service) view(ctx context.Context, c *parley.Chat, forAgents bool) (*ChatView, error) {
	v := &ChatView{
		ID: c.ID, TenantID: c.TenantID, GroupID: c.GroupID, State: c.State,
		LastSeq: c.LastSeq, CreatedAt: c.CreatedAt, AcceptedAt: c.AcceptedAt, EndedAt: c.EndedAt,
		Participants: c.Participants,
	}
	if c.State == parley.StateTerminated {
		v.Cause = c.Cause
	}
	if g, err := s.store.Group(ctx, c.GroupID); err == nil {
		v.GroupName = g.Name
		v.TranscriptMail = s.canMailTranscript(g)
	}
	if c.State == parley.StateQueued {
		q := s.queueInfo(c.ID)
		v.Queue = &q
	}
	for i := range c.Participants {
		p := c.Participants[i]
		if p.Kind == parley.PartyAgent && p.AgentID == c.AgentID && p.LeftAt.IsZero() {
			v.Agent = &p.Party
		}
	}
	if forAgents {
		v.OfferedTo, v.TransferNote = c.OfferedTo, c.TransferNote
		vis, err := s.store.Visitor(ctx, c.VisitorID)
		if err != nil {
			return nil, internal("load visitor", err)
		}
		v.Visitor = vis
		if c.State == parley.StateTerminated {
			r, err := s.store.Rating(ctx, c.ID)
			switch {
			case err == nil:
				v.Rating = r
			case !isCode(err, parley.ENOTFOUND):
				return nil, internal("load rating", err)
			}
		}
	}
	return v, nil
}

// queueInfo returns the chat's place in its queue; position 0 while it is
// being offered, EstimatedWait -1 without an estimate.
func (s *Service) queueInfo(chatID string) parley.QueueInfo {
	q := parley.QueueInfo{EstimatedWait: -1}
	s.router.Query(func(e routing.View) {
		if p, ok := e.Position(chatID); ok {
			q.Position, q.EstimatedWait = p.Position, p.EstimatedWait
		}
	})
	return q
}

// readableChat loads a chat the actor may read: a visitor its own chats,
// an agent the chats it handles, is offered or took part in (earlier
// chats stay visible to the agents who had them), supervisors and admins
// any chat of their tenant.
func (s *Service) readableChat(ctx context.Context, actor Actor, chatID string) (*parley.Chat, error) {
	c, err := s.tenantChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	switch {
	case actor.IsVisitor():
		if c.VisitorID != actor.VisitorID {
			return nil, parley.Errorf(parley.EFORBIDDEN, "this chat belongs to another visitor")
		}
	case actor.Agent == nil:
		return nil, parley.Errorf(parley.EFORBIDDEN, "this chat is not yours")
	case actor.hasRole(parley.RoleSupervisor, parley.RoleAdmin):
	case c.AgentID == actor.AgentID() || c.OfferedTo == actor.AgentID() || c.Participant(parley.PartyAgent, actor.AgentID()) != nil:
	case wasParticipant(c, actor.AgentID()):
	default:
		// The agent serving a visitor now may read the visitor's earlier
		// chats.
		serving, err := s.servesVisitor(ctx, actor, c.VisitorID)
		if err != nil {
			return nil, err
		}
		if !serving {
			return nil, parley.Errorf(parley.EFORBIDDEN, "this chat is not yours")
		}
	}
	return c, nil
}

// servesVisitor reports whether the agent handles, or is offered, an
// active chat of the visitor.
func (s *Service) servesVisitor(ctx context.Context, actor Actor, visitorID string) (bool, error) {
	active, err := s.store.Chats(ctx, parley.ChatFilter{TenantID: actor.TenantID, VisitorID: visitorID, ActiveOnly: true})
	if err != nil {
		return false, internal("list chats", err)
	}
	for _, a := range active {
		if a.AgentID == actor.AgentID() || a.OfferedTo == actor.AgentID() || a.Participant(parley.PartyAgent, actor.AgentID()) != nil {
			return true, nil
		}
	}
	return false, nil
}

// tenantChat loads a chat of the actor's tenant; other tenants' chats do
// not exist for the actor.
func (s *Service) tenantChat(ctx context.Context, actor Actor, chatID string) (*parley.Chat, error) {
	if !validID(chatID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "chat not found")
	}
	c, err := s.store.Chat(ctx, chatID)
	if err != nil {
		return nil, internal("load chat", err)
	}
	if c.TenantID != actor.TenantID {
		return nil, parley.Errorf(parley.ENOTFOUND, "chat not found")
	}
	return c, nil
}

func wasParticipant(c *parley.Chat, agentID int64) bool {
	for _, p := range c.Participants {
		if p.Kind == parley.PartyAgent && p.AgentID == agentID {
			return true
		}
	}
	return false
}

// Subjects on the bus.
func chatSubject(chatID string) string  { return "parley.chat." + chatID }
func agentSubject(agentID int64) string { return "parley.agent." + strconv.FormatInt(agentID, 10) }

// publish announces stored or ephemeral events to every listener.
func (s *Service) publish(ctx context.Context, events ...parley.Event) {
	for _, e := range events {
		data, err := json.Marshal(e)
		if err != nil {
			s.log.Error("encode event", "err", err)
			continue
		}
		if err := s.bus.Publish(ctx, chatSubject(e.ChatID), data); err != nil {
			// Listeners resync from the store; the event is not lost.
			s.log.Warn("publish event", "chat", e.ChatID, "seq", e.Seq, "err", err)
		}
	}
}

// AgentNotice is what an agent's consoles are told outside a chat's log.
type AgentNotice struct {
	// Type is offer, revoke, assigned, removed or agent.
	Type   string        `json:"type"`
	ChatID string        `json:"chat_id,omitempty"`
	Chat   *ChatView     `json:"chat,omitempty"`
	Agent  *parley.Agent `json:"agent,omitempty"`
	// Message is set on NoticeInternal.
	Message *parley.InternalMessage `json:"message,omitempty"`
	// Overview is set on NoticeOverview.
	Overview *Overview `json:"overview,omitempty"`
}

// Agent notice types.
const (
	NoticeOffer    = "offer"    // a chat is offered; Chat is set
	NoticeRevoke   = "revoke"   // the offer of ChatID was withdrawn
	NoticeAssigned = "assigned" // the agent now handles Chat
	NoticeRemoved  = "removed"  // the agent no longer handles ChatID
	NoticeAgent    = "agent"    // the agent's own record changed; Agent is set
	NoticeInternal = "internal" // a message from or to another agent; Message is set
	NoticeOverview = "overview" // supervisors: the live overview changed; Overview is set
	NoticeRated    = "rated"    // the visitor rated a chat the agent took part in; Chat (with its rating) is set
)

func (s *Service) notifyAgent(ctx context.Context, agentID int64, n AgentNotice) {
	data, err := json.Marshal(n)
	if err != nil {
		s.log.Error("encode agent notice", "err", err)
		return
	}
	if err := s.bus.Publish(ctx, agentSubject(agentID), data); err != nil {
		s.log.Warn("publish agent notice", "agent", agentID, "err", err)
	}
}

// OpenAgentFeed subscribes to the agent's notices (offers, assignments).
func (s *Service) OpenAgentFeed(ctx context.Context, actor Actor) (*Subscription, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents have a feed")
	}
	return s.hub.subscribe(ctx, agentSubject(actor.Agent.ID))
}

// AgentChats returns the chats the agent handles, is offered or was added
// to (conference, barge-in), oldest first, as the agent sees them.
func (s *Service) AgentChats(ctx context.Context, actor Actor) ([]*ChatView, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents have chats")
	}
	chats, err := s.store.Chats(ctx, parley.ChatFilter{TenantID: actor.TenantID, ActiveOnly: true})
	if err != nil {
		return nil, internal("list chats", err)
	}
	out := []*ChatView{}
	for _, c := range chats {
		if c.AgentID != actor.Agent.ID && c.OfferedTo != actor.Agent.ID && c.Participant(parley.PartyAgent, actor.Agent.ID) == nil {
			continue
		}
		v, err := s.view(ctx, c, true)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// VisitorChats returns the visitor's active chats.
func (s *Service) VisitorChats(ctx context.Context, actor Actor) ([]*ChatView, error) {
	if !actor.IsVisitor() {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only visitors have visitor chats")
	}
	chats, err := s.store.Chats(ctx, parley.ChatFilter{TenantID: actor.TenantID, VisitorID: actor.VisitorID, ActiveOnly: true})
	if err != nil {
		return nil, internal("list chats", err)
	}
	out := make([]*ChatView, 0, len(chats))
	for _, c := range chats {
		v, err := s.view(ctx, c, false)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
