package conversation

import (
	"context"
	"time"

	"github.com/parleychat/parley"
)

// cursorPage is how many stored events a cursor reads at a time.
const cursorPage = 500

// Cursor reads one chat's log for one reader: first the stored events after
// the reader's last sequence number, then live events as they happen, with
// no gap and no duplicate. Events the reader may not see are skipped.
type Cursor struct {
	svc     *Service
	chatID  string
	visitor bool
	agentID int64 // the reading agent, whose own typing is not echoed
	last    int64
	sub     *Subscription
	sync    bool // the store may hold events the cursor has not read
}

// OpenCursor returns a cursor over the chat for actor, positioned after
// sequence number after (0 reads from the start).
func (s *Service) OpenCursor(ctx context.Context, actor Actor, chatID string, after int64) (*Cursor, error) {
	cur, _, err := s.openCursor(ctx, actor, chatID, after)
	return cur, err
}

// OpenChat is OpenCursor that also returns the chat as actor sees it,
// with one read of the chat for both: a subscription's snapshot and its
// events. The events after after follow the snapshot, and may repeat
// changes it shows already.
func (s *Service) OpenChat(ctx context.Context, actor Actor, chatID string, after int64) (*Cursor, *ChatView, error) {
	cur, c, err := s.openCursor(ctx, actor, chatID, after)
	if err != nil {
		return nil, nil, err
	}
	view, err := s.view(ctx, c, !actor.IsVisitor())
	if err != nil {
		cur.Close()
		return nil, nil, err
	}
	return cur, view, nil
}

// openCursor subscribes to the chat's notifications, then reads the chat:
// every event after the LastSeq read then is published after the
// subscription took effect (a chat's LastSeq moves before its events are
// published), so the store is read only when the reader is behind it.
func (s *Service) openCursor(ctx context.Context, actor Actor, chatID string, after int64) (*Cursor, *parley.Chat, error) {
	if after < 0 {
		return nil, nil, parley.Errorf(parley.EINVALID, "after must not be negative")
	}
	sub, err := s.hub.subscribe(ctx, chatSubject(chatID))
	if err != nil {
		return nil, nil, internal("subscribe", err)
	}
	c, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		sub.Close()
		return nil, nil, err
	}
	// A position past the end would skip the next events and be reported
	// back as the chat's last sequence number; start at the real end.
	after = min(after, c.LastSeq)
	return &Cursor{svc: s, chatID: chatID, visitor: actor.IsVisitor(), agentID: actor.AgentID(), last: after, sub: sub,
		sync: after < c.LastSeq}, c, nil
}

// ChatID returns the chat the cursor reads.
func (c *Cursor) ChatID() string { return c.chatID }

// Last returns the sequence number of the last stored event read.
func (c *Cursor) Last() int64 { return c.last }

// Close releases the cursor's subscription.
func (c *Cursor) Close() { c.sub.Close() }

// Next returns the next events for the reader, waiting up to wait for
// some when there are none: stored events in order with increasing
// sequence numbers, ephemeral ones (typing, queue position) with sequence
// number 0. After wait it returns no events and no error; it returns ctx's
// error when ctx ends first.
func (c *Cursor) Next(ctx context.Context, wait time.Duration) ([]parley.Event, error) {
	for c.sync {
		// Keep reading while pages hold only events the reader may not see.
		if out, err := c.readStore(ctx); err != nil || len(out) > 0 {
			return out, err
		}
	}
	if wait <= 0 {
		return nil, nil
	}
	// The bus is trusted: the store is read again only when a
	// notification shows a gap, or the bus reports notifications lost.
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, nil
		case <-c.sub.Ready():
		}
		out := c.takeLive()
		for c.sync {
			more, err := c.readStore(ctx)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
			if len(more) > 0 {
				break
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

// Notify sets fn to be called when events may be waiting; then TryNext
// reads them. fn must not block. It is called once at once.
func (c *Cursor) Notify(fn func()) { c.sub.Notify(fn) }

// TryNext returns the events waiting for the reader without waiting: live
// ones from the bus, and stored ones when a gap or the cursor's start
// calls for a store read. Call it until it returns no events; a cursor
// must not be read by two goroutines at once.
func (c *Cursor) TryNext(ctx context.Context) ([]parley.Event, error) {
	var out []parley.Event
	if !c.sync {
		out = c.takeLive()
	}
	for c.sync {
		more, err := c.readStore(ctx)
		if err != nil {
			return nil, err
		}
		if out = append(out, more...); len(more) > 0 {
			break
		}
	}
	return out, nil
}

// readStore reads stored events after the cursor, one page at a time.
func (c *Cursor) readStore(ctx context.Context) ([]parley.Event, error) {
	events, err := c.svc.store.Events(ctx, c.chatID, c.last, cursorPage)
	if err != nil {
		return nil, internal("read events", err)
	}
	c.sync = len(events) == cursorPage
	out := events[:0]
	for _, e := range events {
		c.last = e.Seq
		if e.VisibleTo(c.visitor) {
			out = append(out, e)
		}
	}
	return out, nil
}

// own reports whether an ephemeral event is the reader's own typing, which
// the reader knows already.
func (c *Cursor) own(e *parley.Event) bool {
	if e.Type != parley.EventTyping {
		return false
	}
	if c.visitor {
		return e.From.Kind == parley.PartyVisitor
	}
	return e.From.Kind == parley.PartyAgent && e.From.AgentID == c.agentID
}

// takeLive returns the live events that follow the cursor directly and
// marks it for a store read when it sees a gap or lost notifications.
func (c *Cursor) takeLive() []parley.Event {
	notes, lagged := c.sub.take()
	if lagged {
		c.sync = true
	}
	var out []parley.Event
	for _, n := range notes {
		e, err := n.event()
		if err != nil {
			c.svc.log.Error("decode event", "chat", c.chatID, "err", err)
			c.sync = true
			continue
		}
		switch {
		case e.Seq == 0:
			if e.VisibleTo(c.visitor) && e.For(c.visitor, c.agentID) && !c.own(&e) {
				out = append(out, e)
			}
		case c.sync || e.Seq <= c.last:
			// Already read, or the store read that follows covers it.
		case e.Seq == c.last+1:
			c.last = e.Seq
			if e.VisibleTo(c.visitor) {
				out = append(out, e)
			}
		default:
			c.sync = true // a gap: the missing events are in the store
		}
	}
	return out
}

// MaxPollWait bounds a long-poll.
const MaxPollWait = 60 * time.Second

// Poll returns the events of the chat after sequence number after that the
// actor may see, waiting up to wait for some if there are none yet. last is
// the sequence number to pass as after next time. A visitor's poll keeps
// the visitor present in the chat.
func (s *Service) Poll(ctx context.Context, actor Actor, chatID string, after int64, wait time.Duration) (events []parley.Event, last int64, err error) {
	if wait < 0 || wait > MaxPollWait {
		return nil, 0, parley.Errorf(parley.EINVALID, "wait must be between 0 and %d seconds", int(MaxPollWait/time.Second))
	}
	cur, err := s.OpenCursor(ctx, actor, chatID, after)
	if err != nil {
		return nil, 0, err
	}
	defer cur.Close()
	if actor.IsVisitor() {
		release := s.VisitorPolled(ctx, chatID)
		defer release()
	}
	events, err = cur.Next(ctx, wait)
	if events == nil {
		events = []parley.Event{}
	}
	return events, cur.Last(), err
}

// ReadPosition returns how far the client named reader, reading the chat
// as actor, has read its log: the seq of the last event delivered to it,
// 0 at first. It is kept in the store for clients that keep no cursor of
// their own (a MiCC GetEvents client sends only its ChatID), so that any
// node of a cluster, or this one after a restart, continues it.
func (s *Service) ReadPosition(ctx context.Context, actor Actor, chatID, reader string) (int64, error) {
	if _, err := s.readableChat(ctx, actor, chatID); err != nil {
		return 0, err
	}
	seq, err := s.store.ReadPosition(ctx, chatID, reader)
	if err != nil {
		return 0, internal("read position", err)
	}
	return seq, nil
}

// SavePosition raises reader's position in the chat to seq once events
// up to seq were delivered; a lower seq changes nothing.
func (s *Service) SavePosition(ctx context.Context, actor Actor, chatID, reader string, seq int64) error {
	if _, err := s.readableChat(ctx, actor, chatID); err != nil {
		return err
	}
	if err := s.store.SavePosition(ctx, chatID, reader, seq); err != nil {
		return internal("save position", err)
	}
	return nil
}
