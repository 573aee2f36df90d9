package conversation

import (
	"context"

	"github.com/parleychat/parley"
)

// pageEvent is the log entry of the visitor's page and browser: an
// EventURL only agents see.
func pageEvent(from parley.Party, pc *parley.ChatContext) parley.Event {
	return parley.Event{Type: parley.EventURL, From: from, Audience: parley.AudienceAgents, URL: pc.URL, Context: pc}
}

// VisitorPage records that the visitor moved to another page of the host
// site while chatting: the widget reports the page's address and title,
// agents see them in the log and the visitor details. The address is
// personal data and never logged.
func (s *Service) VisitorPage(ctx context.Context, actor Actor, chatID, url, title string) (*parley.Event, error) {
	if !actor.IsVisitor() {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only the visitor's widget reports its page")
	}
	pc := &parley.ChatContext{URL: url, Title: title}
	if err := pc.Validate(); err != nil {
		return nil, err
	}
	if pc.URL == "" {
		return nil, parley.Errorf(parley.EINVALID, "url is required")
	}
	unlock := s.lockChat(chatID)
	defer unlock()
	c, v, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	e := pageEvent(actor.party(v), pc)
	e.ChatID, e.At = c.ID, s.now().UTC()
	stored, err := s.store.AppendEvents(ctx, c.ID, []parley.Event{e})
	if err != nil {
		return nil, internal("append page event", err)
	}
	s.publish(ctx, stored...)
	return &stored[0], nil
}
