package conversation

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/transcript"
)

// Limits of the visitor feedback forms.
const (
	MaxRatingComment = 2000
	MaxOfflineName   = 200
	MaxOfflineEmail  = 320
)

// RateChat stores the visitor's rating of its ended chat: score 1 to 5
// and an optional comment. A chat is rated once.
func (s *Service) RateChat(ctx context.Context, actor Actor, chatID string, score int, comment string) (*parley.Rating, error) {
	if !actor.IsVisitor() {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only the visitor rates a chat")
	}
	if score < 1 || score > 5 {
		return nil, parley.Errorf(parley.EINVALID, "score must be between 1 and 5")
	}
	comment = strings.TrimSpace(comment)
	if n := utf8.RuneCountInString(comment); n > MaxRatingComment {
		return nil, parley.Errorf(parley.EINVALID, "the comment has %d characters; at most %d are allowed", n, MaxRatingComment)
	}
	c, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if c.State != parley.StateTerminated {
		return nil, parley.Errorf(parley.ECONFLICT, "a chat is rated after it has ended")
	}
	r := &parley.Rating{ChatID: c.ID, Score: score, Comment: comment}
	if err := s.store.CreateRating(ctx, r); err != nil {
		return nil, internal("store rating", err)
	}
	// The agents' log gets a line, so an open console shows the rating at
	// once; the rating itself is stored already, the line is a courtesy.
	n := parley.Event{ChatID: c.ID, Type: parley.EventNotice, At: r.CreatedAt, From: system, Audience: parley.AudienceAgents,
		Notice: parley.NoticeRated, Text: ratingText(score, comment), Args: []string{strconv.Itoa(score), comment}}
	if stored, err := s.store.AppendEvents(ctx, c.ID, []parley.Event{n}); err != nil {
		s.log.ErrorContext(ctx, "append rating notice", "chat", c.ID, "err", err)
	} else {
		s.publish(ctx, stored...)
	}
	// The agents' subscriptions to the chat ended with it: their consoles
	// learn of the rating on their own feeds.
	if view, err := s.view(ctx, c, true); err == nil {
		seen := map[int64]bool{}
		for _, p := range c.Participants {
			if p.Kind == parley.PartyAgent && !seen[p.AgentID] {
				seen[p.AgentID] = true
				s.notifyAgent(ctx, p.AgentID, AgentNotice{Type: NoticeRated, ChatID: c.ID, Chat: view})
			}
		}
	}
	return r, nil
}

// ratingText is the English line of a rating notice.
func ratingText(score int, comment string) string {
	t := fmt.Sprintf("The visitor rated the chat %d of 5", score)
	if comment != "" {
		t += ": " + comment
	}
	return t
}

// OfflineRequest is a message from the widget's offline form.
type OfflineRequest struct {
	TenantID int64
	// GroupID or else GroupName names the group.
	GroupID   int64
	GroupName string
	Name      string
	Email     string
	Message   string
}

// LeaveOfflineMessage stores a message for a group left while it was
// closed. Anyone may leave one; the fields are checked strictly.
func (s *Service) LeaveOfflineMessage(ctx context.Context, req OfflineRequest) (*parley.OfflineMessage, error) {
	if req.TenantID == 0 {
		req.TenantID = parley.DefaultTenantID
	}
	m := &parley.OfflineMessage{
		TenantID: req.TenantID,
		Name:     strings.TrimSpace(req.Name),
		Email:    strings.TrimSpace(req.Email),
		Message:  strings.TrimSpace(req.Message),
	}
	switch {
	case m.Name == "":
		return nil, parley.Errorf(parley.EINVALID, "name is required")
	case utf8.RuneCountInString(m.Name) > MaxOfflineName:
		return nil, parley.Errorf(parley.EINVALID, "name is longer than %d characters", MaxOfflineName)
	case m.Email == "":
		return nil, parley.Errorf(parley.EINVALID, "email is required, so that the group can answer")
	case len(m.Email) > MaxOfflineEmail || !parley.ValidEmail(m.Email):
		return nil, parley.Errorf(parley.EINVALID, "email is not a valid address")
	case m.Message == "":
		return nil, parley.Errorf(parley.EINVALID, "message is required")
	case utf8.RuneCountInString(m.Message) > s.cfg.MaxMessageLength:
		return nil, parley.Errorf(parley.EINVALID, "message is longer than %d characters", s.cfg.MaxMessageLength)
	}
	if err := s.offlineAllowed(ctx); err != nil {
		return nil, err
	}
	g, err := s.findGroup(ctx, req.TenantID, req.GroupID, req.GroupName)
	if err != nil {
		return nil, err
	}
	m.GroupID = g.ID
	if err := s.store.CreateOfflineMessage(ctx, m); err != nil {
		return nil, internal("store offline message", err)
	}
	if err := s.mailOfflineMessage(ctx, g, m); err != nil {
		// The message is stored and listed in the console; only its copy
		// by mail is missing.
		s.log.ErrorContext(ctx, "queue offline message mail", "group", g.ID, "offline_message", m.ID, "err", err)
	}
	return m, nil
}

// mailOfflineMessage queues a copy of m for the group's offline_to
// address, when the group has one and a sender.
func (s *Service) mailOfflineMessage(ctx context.Context, g *parley.Group, m *parley.OfflineMessage) error {
	to, from := g.Transcript.OfflineTo, g.Transcript.Sender
	if from == "" {
		from = s.cfg.MailFrom
	}
	if to == "" || from == "" {
		return nil
	}
	text := fmt.Sprintf("%s left a message for %s while it was closed.\n\nName: %s\nEmail: %s\n\n%s\n",
		m.Name, g.Name, m.Name, m.Email, m.Message)
	out := &parley.OutboxMail{
		TenantID: m.TenantID, Key: fmt.Sprintf("offline:%d", m.ID), MessageID: transcript.MessageID(from),
		From: from, To: to, Subject: oneLine(fmt.Sprintf("Offline message for %s from %s", g.Name, m.Name)), Text: text,
	}
	if _, err := s.store.EnqueueMail(ctx, out); err != nil {
		return err
	}
	if s.cfg.MailWake != nil {
		s.cfg.MailWake()
	}
	return nil
}

// oneLine keeps a header value on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// OfflineMessages lists the offline messages an agent may read, newest
// first: an agent those of its groups, supervisors and admins all of
// the tenant's; groupID > 0 narrows to one group.
func (s *Service) OfflineMessages(ctx context.Context, actor Actor, groupID int64, limit int) ([]*parley.OfflineMessage, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents read offline messages")
	}
	var groups []int64
	if !actor.hasRole(parley.RoleSupervisor, parley.RoleAdmin) {
		groups = []int64{}
		for _, m := range actor.Agent.Groups {
			if groupID == 0 || m.GroupID == groupID {
				groups = append(groups, m.GroupID)
			}
		}
	} else if groupID > 0 {
		groups = []int64{groupID}
	}
	out, err := s.store.OfflineMessages(ctx, actor.TenantID, groups, limit)
	if err != nil {
		return nil, internal("list offline messages", err)
	}
	return out, nil
}
