package conversation

// Sending: the checks of a message, its queueing under the chat's lock,
// and its completion after the group commit (publish, then the sender's
// ack); typing and read receipts.

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// checkText validates a message and returns it as stored.
func checkText(text string, maxLen int) (string, error) {
	if !utf8.ValidString(text) {
		return "", parley.Errorf(parley.EINVALID, "the message is not valid UTF-8")
	}
	if strings.TrimSpace(text) == "" {
		return "", parley.Errorf(parley.EINVALID, "the message is empty")
	}
	if n := utf8.RuneCountInString(text); n > maxLen {
		return "", parley.Errorf(parley.ETOOLARGE, "the message has %d characters; the limit is %d", n, maxLen)
	}
	if err := parley.CheckChars("the message", text, true); err != nil {
		return "", err
	}
	return text, nil
}

var system = parley.Party{Kind: parley.PartySystem}

// stamp fills in the chat and time of events.
func stamp(chatID string, at time.Time, events []parley.Event) {
	for i := range events {
		events[i].ChatID = chatID
		if events[i].At.IsZero() {
			events[i].At = at
		}
	}
}

// SendOptions are optional parts of a message.
type SendOptions struct {
	// ClientID makes the send idempotent: a retry returns the first result.
	ClientID string
}

// Send adds a text message from the actor to the chat and returns it
// once it is durable.
func (s *Service) Send(ctx context.Context, actor Actor, chatID, text string, opt SendOptions) (*parley.Event, error) {
	return await(func(done func(*parley.Event, error)) { s.SendAsync(ctx, actor, chatID, text, opt, done) })
}

// SendAsync is Send for callers that must not wait for the commit (a
// socket's event loop): it returns once the message is checked and queued,
// and calls done with the stored event or the error after the commit. A
// chat's messages are stored in the order their SendAsync calls returned.
// done may run on the store's completer goroutine: it must not block or
// call into the service.
func (s *Service) SendAsync(ctx context.Context, actor Actor, chatID, text string, opt SendOptions, done func(*parley.Event, error)) {
	if len(opt.ClientID) > 100 {
		done(nil, parley.Errorf(parley.EINVALID, "client_id is longer than 100 characters"))
		return
	}
	s.postAsync(ctx, actor, chatID, opt.ClientID, func(c *parley.Chat, g *parley.Group) (parley.Event, error) {
		text, err := checkText(text, s.limits(g).maxLen)
		return parley.Event{Type: parley.EventMessage, Text: text}, err
	}, done)
}

// await runs an asynchronous operation and waits for its outcome. It does
// not give up when a context ends: an append the store has queued is
// committed or refused, and the caller is told which.
func await(start func(done func(*parley.Event, error))) (*parley.Event, error) {
	type result struct {
		e   *parley.Event
		err error
	}
	ch := make(chan result, 1)
	start(func(e *parley.Event, err error) { ch <- result{e, err} })
	r := <-ch
	return r.e, r.err
}

// post is postAsync that waits for the outcome.
func (s *Service) post(ctx context.Context, actor Actor, chatID, clientID string, mk func(*parley.Chat, *parley.Group) (parley.Event, error)) (*parley.Event, error) {
	return await(func(done func(*parley.Event, error)) { s.postAsync(ctx, actor, chatID, clientID, mk, done) })
}

// postAsync checks that the actor may write to the chat, builds the event
// with mk and queues it for the store; done gets the outcome after the
// commit, once the event is published. The chat's lock is held only while
// checking and queueing, not across the commit: its next send is checked
// meanwhile and queued behind this one, and anything that changes the
// chat's state waits for the queued appends first (liveStore.drain).
func (s *Service) postAsync(ctx context.Context, actor Actor, chatID, clientID string, mk func(*parley.Chat, *parley.Group) (parley.Event, error), done func(*parley.Event, error)) {
	unlock := s.lockChat(chatID)
	c, v, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		unlock()
		done(nil, err)
		return
	}
	g, err := s.store.Group(ctx, c.GroupID)
	if err != nil {
		unlock()
		done(nil, internal("load group", err))
		return
	}
	e, err := mk(c, g)
	if err != nil {
		unlock()
		done(nil, err)
		return
	}
	e.ChatID, e.At, e.From, e.ClientID = c.ID, s.now().UTC(), actor.party(v), clientID
	events := []parley.Event{e}
	if !actor.IsVisitor() {
		if n, ok := s.awayNotice(c.ID); ok {
			events = append(events, n)
		}
	}
	pctx := context.WithoutCancel(ctx) // the commit outlives a closed connection
	s.live.appendAsync(ctx, c.ID, events, func(stored []parley.Event, err error) {
		if err != nil {
			done(nil, internal("append event", err))
			return
		}
		s.publish(pctx, stored...)
		if err := ownRetry(e, stored[0]); err != nil {
			done(nil, err)
			return
		}
		s.count(func(st *Stats) { st.messages[actor.Kind]++ })
		if s.cfg.LogText || s.cfg.LogFilter.PrintSize > 0 {
			s.log.Debug("message", "chat", c.ID, "seq", stored[0].Seq, "text", s.logText(stored[0].Text))
		}
		done(&stored[0], nil)
	})
	unlock()
	if actor.IsVisitor() {
		s.visitorActive(c.ID)
	}
}

// ownRetry checks that the event the store answered for sent is sent
// itself or, when sent's ClientID was stored already, the sender's own
// earlier event with the same audience: a client_id must never fetch
// another party's event (a visitor a whisper).
func ownRetry(sent, stored parley.Event) error {
	if sent.ClientID == "" || (stored.From.Kind == sent.From.Kind && stored.From.AgentID == sent.From.AgentID &&
		stored.Audience == sent.Audience) {
		return nil
	}
	return parley.Errorf(parley.ECONFLICT, "client_id is used by another event of the chat")
}

// writableChat loads a chat the actor may post to: a visitor its own
// active chat, an agent the chat it handles.
func (s *Service) writableChat(ctx context.Context, actor Actor, chatID string) (*parley.Chat, *parley.Visitor, error) {
	c, err := s.tenantChat(ctx, actor, chatID)
	if err != nil {
		return nil, nil, err
	}
	if actor.IsVisitor() {
		if c.VisitorID != actor.VisitorID {
			return nil, nil, parley.Errorf(parley.EFORBIDDEN, "this chat belongs to another visitor")
		}
	} else if (c.AgentID != actor.AgentID() && c.Participant(parley.PartyAgent, actor.AgentID()) == nil) || c.State != parley.StateHandling {
		if c.State == parley.StateTerminated && c.AgentID == actor.AgentID() {
			return nil, nil, errChatEnded
		}
		return nil, nil, parley.Errorf(parley.EFORBIDDEN, "this chat is not yours")
	}
	if !c.Active() {
		return nil, nil, errChatEnded
	}
	var v *parley.Visitor
	if actor.IsVisitor() {
		if v, err = s.store.Visitor(ctx, c.VisitorID); err != nil {
			return nil, nil, internal("load visitor", err)
		}
	}
	return c, v, nil
}

// Typing tells the other side that the actor started or stopped typing.
// Typing is not stored.
func (s *Service) Typing(ctx context.Context, actor Actor, chatID string, typing bool) error {
	c, v, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	s.publish(ctx, parley.Event{
		ChatID: c.ID, Type: parley.EventTyping, At: s.now().UTC(), From: actor.party(v), Typing: typing,
	})
	if actor.IsVisitor() && typing {
		s.visitorActive(c.ID)
	}
	return nil
}

// MarkSeen records that the actor (the visitor, or an agent in the chat)
// has read the chat up to event seq: a stored "seen" event, the read
// receipt the other side shows. A seq at or below the actor's last
// receipt changes nothing and returns nil.
func (s *Service) MarkSeen(ctx context.Context, actor Actor, chatID string, seq int64) (*parley.Event, error) {
	unlock := s.lockChat(chatID)
	defer unlock()
	c, v, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if seq < 1 || seq > c.LastSeq {
		return nil, parley.Errorf(parley.EINVALID, "seq must be between 1 and the chat's last seq, %d", c.LastSeq)
	}
	from := actor.party(v)
	key := seenKey{chat: c.ID, kind: from.Kind, agent: from.AgentID}
	s.seenMu.Lock()
	last := s.seen[key]
	s.seenMu.Unlock()
	if seq <= last {
		return nil, nil
	}
	stored, err := s.store.AppendEvents(ctx, c.ID, []parley.Event{{ChatID: c.ID, Type: parley.EventSeen, At: s.now().UTC(), From: from, Seen: seq}})
	if err != nil {
		return nil, internal("append event", err)
	}
	s.noteSeen(key, seq)
	s.publish(ctx, stored...)
	return &stored[0], nil
}

// noteSeen records a party's read position, unless it has a later one.
func (s *Service) noteSeen(key seenKey, seq int64) {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	if seq > s.seen[key] {
		s.seen[key] = seq
	}
}

// forgetSeen drops an ended chat's read positions.
func (s *Service) forgetSeen(chatID string) {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	for k := range s.seen {
		if k.chat == chatID {
			delete(s.seen, k)
		}
	}
}

// seenKey is one party's read position in one chat.
type seenKey struct {
	chat  string
	kind  parley.PartyKind
	agent int64
}
