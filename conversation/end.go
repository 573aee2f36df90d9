package conversation

// The end of a chat: a visitor or an added agent leaving, and the one path
// every end takes (terminate, endChat).

import (
	"context"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

// Leave ends the visitor's chat. Leaving a chat that has ended already is
// not an error.
func (s *Service) Leave(ctx context.Context, actor Actor, chatID string) error {
	if actor.Agent != nil {
		// An agent added to the chat (conference, barge-in) leaves it;
		// the handling agent ends or transfers it.
		return s.leaveConference(ctx, actor, chatID)
	}
	if !actor.IsVisitor() {
		return parley.Errorf(parley.EFORBIDDEN, "only the visitor leaves a chat; agents end it")
	}
	c, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	v, err := s.store.Visitor(ctx, c.VisitorID)
	if err != nil {
		return internal("load visitor", err)
	}
	vp := parley.Party{Kind: parley.PartyVisitor, Name: v.Name}
	err = s.terminate(ctx, chatID, parley.CauseVisitorLeft, func(c *parley.Chat) error { return nil },
		parley.Event{Type: parley.EventLeft, From: vp})
	if isCode(err, parley.ECLOSED) {
		return nil
	}
	return err
}

// terminate ends an active chat with cause: check may refuse, extra events
// come before the state change. It returns ECLOSED when the chat has ended
// already.
func (s *Service) terminate(ctx context.Context, chatID string, cause parley.Cause, check func(*parley.Chat) error, extra ...parley.Event) error {
	if err := s.endChat(ctx, chatID, cause, check, extra...); err != nil {
		return err
	}
	s.router.Do(ctx, routing.ChatEnded{ChatID: chatID, At: s.now().UTC()})
	return nil
}

// endChat records the end of a chat and tells its listeners, without
// telling routing (the caller does, or routing decided it).
func (s *Service) endChat(ctx context.Context, chatID string, cause parley.Cause, check func(*parley.Chat) error, extra ...parley.Event) error {
	unlock := s.lockChat(chatID)
	c, err := s.store.Chat(ctx, chatID)
	if err != nil {
		unlock()
		return internal("load chat", err)
	}
	// Who may end it comes first: someone else learns nothing about it.
	if err := check(c); err != nil {
		unlock()
		return err
	}
	if !c.Active() {
		unlock()
		return errChatEnded
	}
	now := s.now().UTC()
	agentID, offeredTo := c.AgentID, c.OfferedTo
	c.State, c.Cause, c.EndedAt, c.OfferedTo = parley.StateTerminated, cause, now, 0
	var joined []int64 // agents added to the chat besides its agent
	for i := range c.Participants {
		p := &c.Participants[i]
		if p.LeftAt.IsZero() {
			p.LeftAt = now
			if p.Kind == parley.PartyAgent && p.AgentID != agentID {
				joined = append(joined, p.AgentID)
			}
		}
	}
	if e, ok := s.endCall(chatID, now); ok {
		extra = append(extra, e)
	}
	events := append(extra, parley.Event{Type: parley.EventState, From: system, State: &parley.StateChange{State: parley.StateTerminated, Cause: cause}})
	stamp(c.ID, now, events)
	stored, err := s.store.UpdateChat(ctx, c, events)
	if err != nil {
		unlock()
		return internal("end chat", err)
	}
	// Under the chat's lock, so no timer is armed for the ended chat after.
	s.dropTimers(chatID)
	s.sessions.ended(c)
	unlock()
	s.forgetSeen(chatID)
	s.publish(ctx, stored...)
	s.queues.forget(chatID)
	s.count(func(st *Stats) { st.chatsEnded[cause]++ })
	for _, id := range append([]int64{agentID, offeredTo}, joined...) {
		if id != 0 {
			s.notifyAgent(ctx, id, AgentNotice{Type: NoticeRemoved, ChatID: chatID})
		}
	}
	s.transcriptOnClose(ctx, chatID)
	return nil
}
