package conversation

import (
	"context"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

// Bots take part in chats through the integration API: a bot is a
// participant of kind bot that reads the chat's events and posts as
// itself. In a group that is "bot first" every new chat starts with the
// group's bot and stays out of routing until the bot hands it over; a
// bot may also join any active chat beside the agent.

// SetGroupBot makes a group of the admin's tenant bot first with a bot
// of that name; an empty name turns it off.
func (s *Service) SetGroupBot(ctx context.Context, actor Actor, groupID int64, name string) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	if name != "" {
		var err error
		if name, err = checkName("bot name", name); err != nil {
			return err
		}
	}
	g, err := s.findGroup(ctx, actor.TenantID, groupID, "")
	if err != nil {
		return err
	}
	is, err := s.integrationStore()
	if err != nil {
		return err
	}
	if err := is.SetGroupBot(ctx, actor.TenantID, g.ID, name); err != nil {
		return internal("set group bot", err)
	}
	detail := "bot " + name
	if name == "" {
		detail = "bot off"
	}
	return s.audit(ctx, actor, actor.TenantID, "group.bot", "group", g.ID, g.Name, detail)
}

// groupBot returns the name of the group's bot, "" when the group is not
// bot first or the store keeps no bots.
func (s *Service) groupBot(ctx context.Context, groupID int64) string {
	is, err := s.integrationStore()
	if err != nil {
		return ""
	}
	name, err := is.GroupBot(ctx, groupID)
	if err != nil {
		s.log.Error("load group bot", "group", groupID, "err", err)
		return ""
	}
	return name
}

// botFirst adds the bot of a bot-first group to a new chat and returns
// its joined event; nil when the group has no bot, and the chat is routed.
func (s *Service) botFirst(ctx context.Context, c *parley.Chat, now time.Time) []parley.Event {
	name := s.groupBot(ctx, c.GroupID)
	if name == "" {
		return nil
	}
	bp := parley.Party{Kind: parley.PartyBot, Name: name}
	c.Participants = append(c.Participants, parley.Participant{Party: bp, JoinedAt: now})
	return []parley.Event{{Type: parley.EventJoined, From: bp}}
}

// heldByBot reports whether a queued chat waits for its bot rather than
// in routing: its group is bot first and the bot has not left.
func (s *Service) heldByBot(ctx context.Context, c *parley.Chat) bool {
	return c.State == parley.StateQueued && c.Participant(parley.PartyBot, 0) != nil && s.groupBot(ctx, c.GroupID) != ""
}

// AddBot adds a bot participant to an active chat of the integration's
// tenant. It sees the chat's events as agents do and posts with
// Post{AsBot: true}. A chat has one bot at a time.
func (s *Service) AddBot(ctx context.Context, in *Integration, chatID, name string) (*parley.Event, error) {
	name, err := checkName("bot name", name)
	if err != nil {
		return nil, err
	}
	unlock := s.lockChat(chatID)
	defer unlock()
	c, err := s.tenantChat(ctx, in.actor(), chatID)
	if err != nil {
		return nil, err
	}
	if !c.Active() {
		return nil, errChatEnded
	}
	if c.Participant(parley.PartyBot, 0) != nil {
		return nil, parley.Errorf(parley.ECONFLICT, "a bot takes part in this chat already")
	}
	now := s.now().UTC()
	bp := parley.Party{Kind: parley.PartyBot, Name: name}
	c.Participants = append(c.Participants, parley.Participant{Party: bp, JoinedAt: now})
	events := []parley.Event{{Type: parley.EventJoined, From: bp}}
	stamp(c.ID, now, events)
	stored, err := s.store.UpdateChat(ctx, c, events)
	if err != nil {
		return nil, internal("add bot", err)
	}
	s.publish(ctx, stored...)
	return &stored[0], nil
}

// Handover is a bot's request to pass its chat to the agents.
type Handover struct {
	// GroupID routes the chat to another group of the tenant; 0 keeps it.
	GroupID int64
	// Note is shown to the agent who takes the chat.
	Note string
}

// Handover makes the chat's bot leave. A chat the bot held (bot first)
// is routed: to its group, or to h.GroupID, with the bot's part of the
// log for the agent to read.
func (s *Service) Handover(ctx context.Context, in *Integration, chatID string, h Handover) error {
	if h.Note != "" {
		if _, err := checkText(h.Note, s.cfg.MaxMessageLength); err != nil {
			return parley.Errorf(parley.ErrorCode(err), "note: %s", parley.ErrorMessage(err))
		}
	}
	// Routing is asked before the chat is locked (lock order).
	c, err := s.tenantChat(ctx, in.actor(), chatID)
	if err != nil {
		return err
	}
	var routed bool
	s.router.Query(func(e routing.View) { _, routed = e.Position(chatID) })
	group := c.GroupID
	if h.GroupID != 0 {
		g, err := s.findGroup(ctx, in.TenantID, h.GroupID, "")
		if err != nil {
			return err
		}
		group = g.ID
	}

	unlock := s.lockChat(chatID)
	if c, err = s.store.Chat(ctx, chatID); err != nil {
		unlock()
		return internal("load chat", err)
	}
	if !c.Active() {
		unlock()
		return errChatEnded
	}
	bot := c.Participant(parley.PartyBot, 0)
	if bot == nil {
		unlock()
		return parley.Errorf(parley.ECONFLICT, "no bot takes part in this chat")
	}
	now := s.now().UTC()
	bot.LeftAt = now
	held := c.State == parley.StateQueued && !routed
	events := []parley.Event{{Type: parley.EventLeft, From: bot.Party}}
	if held {
		c.GroupID, c.QueuedAt, c.TransferNote = group, now, h.Note
		events = append(events, parley.Event{Type: parley.EventNotice, From: system, Notice: parley.NoticeHandover,
			Text: "You are being connected to an agent."})
	}
	stamp(c.ID, now, events)
	stored, err := s.store.UpdateChat(ctx, c, events)
	unlock()
	if err != nil {
		return internal("hand over", err)
	}
	s.publish(ctx, stored...)
	if held {
		s.enqueue(ctx, routing.ChatQueued{ChatID: c.ID, Groups: []int64{c.GroupID}, Priority: c.Priority, At: now})
	}
	return nil
}

// BotChat is an active chat a bot takes part in.
type BotChat struct {
	ID      string       `json:"id"`
	GroupID int64        `json:"group_id"`
	State   parley.State `json:"state"`
	Bot     string       `json:"bot"`
	LastSeq int64        `json:"last_seq"`
}

// BotChats lists the active chats of the integration's tenant that have
// a bot, oldest first.
func (s *Service) BotChats(ctx context.Context, in *Integration) ([]BotChat, error) {
	chats, err := s.store.Chats(ctx, parley.ChatFilter{TenantID: in.TenantID, ActiveOnly: true})
	if err != nil {
		return nil, internal("list chats", err)
	}
	out := []BotChat{}
	for _, c := range chats {
		if p := c.Participant(parley.PartyBot, 0); p != nil {
			out = append(out, BotChat{ID: c.ID, GroupID: c.GroupID, State: c.State, Bot: p.Name, LastSeq: c.LastSeq})
		}
	}
	return out, nil
}

// EndChat ends an active chat of the integration's tenant, as a bot that
// has served the visitor does (or a workflow that closes a session).
func (s *Service) EndChat(ctx context.Context, in *Integration, chatID string) error {
	if _, err := s.tenantChat(ctx, in.actor(), chatID); err != nil {
		return err
	}
	return s.terminate(ctx, chatID, parley.CauseGeneral, func(c *parley.Chat) error {
		if c.TenantID != in.TenantID {
			return parley.Errorf(parley.ENOTFOUND, "chat not found")
		}
		return nil
	})
}
