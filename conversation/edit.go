package conversation

import (
	"context"
	"strconv"

	"github.com/parleychat/parley"
)

// EditMessage corrects the text of one of the actor's own messages in an
// active chat it may write to. The log keeps the original; the edit is a
// new event (parley.EventEdited) that readers apply.
func (s *Service) EditMessage(ctx context.Context, actor Actor, chatID string, seq int64, text string) (*parley.Event, error) {
	return s.post(ctx, actor, chatID, "", func(c *parley.Chat, g *parley.Group) (parley.Event, error) {
		orig, err := s.ownMessage(ctx, actor, c.ID, seq)
		if err != nil {
			return parley.Event{}, err
		}
		text, err := checkText(text, s.limits(g).maxLen)
		return parley.Event{Type: parley.EventEdited, Text: text, Args: []string{strconv.FormatInt(orig.Seq, 10), orig.ClientID}}, err
	})
}

// DeleteMessage withdraws one of the actor's own messages in an active
// chat it may write to (parley.EventDeleted); the log keeps the original.
func (s *Service) DeleteMessage(ctx context.Context, actor Actor, chatID string, seq int64) (*parley.Event, error) {
	return s.post(ctx, actor, chatID, "", func(c *parley.Chat, _ *parley.Group) (parley.Event, error) {
		orig, err := s.ownMessage(ctx, actor, c.ID, seq)
		if err != nil {
			return parley.Event{}, err
		}
		return parley.Event{Type: parley.EventDeleted, Args: []string{strconv.FormatInt(orig.Seq, 10), orig.ClientID}}, nil
	})
}

// ownMessage loads message seq of the chat and checks that the actor
// wrote it; the caller holds the chat's lock.
func (s *Service) ownMessage(ctx context.Context, actor Actor, chatID string, seq int64) (*parley.Event, error) {
	if seq < 1 {
		return nil, parley.Errorf(parley.EINVALID, "seq must be positive")
	}
	events, err := s.store.Events(ctx, chatID, seq-1, 1)
	if err != nil {
		return nil, internal("load message", err)
	}
	if len(events) == 0 || events[0].Seq != seq || events[0].Type != parley.EventMessage {
		return nil, parley.Errorf(parley.ENOTFOUND, "message %d does not exist", seq)
	}
	e := &events[0]
	mine := e.From.Kind == actor.Kind
	if !actor.IsVisitor() {
		mine = mine && e.From.AgentID == actor.AgentID()
	}
	if !mine || e.Audience != parley.AudienceAll {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only the author may change a message")
	}
	return e, nil
}
