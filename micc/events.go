package micc

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

// translate turns the chat's events into MiCC ChatEvents. The customer's
// own messages, joins and typing are not events for the customer; call
// signaling has no MiCC equivalent.
func (h *Handler) translate(ctx context.Context, c chatRef, events []parley.Event) ([]ChatEvent, error) {
	out := []ChatEvent{}
	for i := range events {
		e := &events[i]
		// A bot speaks and joins as an agent does (Genesys runs bots as
		// agent parties); a workflow's posts are system messages.
		fromAgent := e.From.Kind == parley.PartyAgent || e.From.Kind == parley.PartyBot
		switch e.Type {
		case parley.EventMessage, parley.EventNotice, parley.EventURL:
			if e.From.Kind == parley.PartyVisitor {
				continue
			}
			if e.From.Kind == parley.PartySystem && e.Seq > 0 && e.At.Equal(c.view.CreatedAt) {
				// The queue message, which RequestChat returned already.
				continue
			}
			text := e.Text
			if e.Type == parley.EventURL {
				text = e.URL
			}
			out = append(out, ChatEvent{EventType: EventMessageReceived, Data: MessageReceivedEvent{
				ChatID: c.raw, Name: e.From.Name, Message: text, System: !fromAgent, TimeStamp: Time(e.At),
			}})
		case parley.EventFile:
			if e.From.Kind == parley.PartyVisitor || e.File == nil {
				continue
			}
			data, err := h.readFile(ctx, c, e.File.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, ChatEvent{EventType: EventMessageReceived, Data: MessageReceivedEvent{
				ChatID: c.raw, Name: e.From.Name, Message: e.File.Name, System: !fromAgent, TimeStamp: Time(e.At),
				Attachment: data,
			}})
		case parley.EventJoined, parley.EventLeft:
			if !fromAgent {
				continue
			}
			typ, data := EventAgentJoined, any(AgentJoinedEvent{ChatID: c.raw, Name: e.From.Name})
			if e.Type == parley.EventLeft {
				typ, data = EventAgentLeft, AgentLeftEvent{ChatID: c.raw, Name: e.From.Name}
			}
			out = append(out, ChatEvent{EventType: typ, Data: data})
		case parley.EventTyping:
			if fromAgent && e.Typing {
				out = append(out, ChatEvent{EventType: EventAgentTyping, Data: AgentTypingEvent{ChatID: c.raw, Name: e.From.Name}})
			}
		case parley.EventState:
			if e.State == nil {
				continue
			}
			st := ChatStateEvent{ChatID: c.raw, State: int(e.State.State), EstimatedWaitTime: -1}
			switch {
			case e.State.State == parley.StateTerminated:
				st.TerminationCause = e.State.Cause.Mitel()
			case e.State.State != parley.StateQueued:
			case e.State.Queue != nil:
				st.QueuePosition, st.EstimatedWaitTime = e.State.Queue.Position, e.State.Queue.EstimatedWait
			case c.view.State == parley.StateQueued && c.view.Queue != nil:
				// The stored event has no position; the chat is still
				// waiting, so its place now is the answer.
				st.QueuePosition, st.EstimatedWaitTime = c.view.Queue.Position, c.view.Queue.EstimatedWait
			}
			out = append(out, ChatEvent{EventType: EventChatState, Data: st})
		case parley.EventQueue:
			if e.Queue != nil {
				out = append(out, ChatEvent{EventType: EventChatState, Data: ChatStateEvent{
					ChatID: c.raw, State: int(parley.StateQueued),
					QueuePosition: e.Queue.Position, EstimatedWaitTime: e.Queue.EstimatedWait,
				}})
			}
		}
	}
	return out, nil
}

// readFile returns an attachment's content for the MessageReceived event.
func (h *Handler) readFile(ctx context.Context, c chatRef, fileID string) (Bytes, error) {
	_, f, err := h.svc.OpenFile(ctx, c.actor, c.id, fileID)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return Bytes(data), nil
}

// cursors are the server-side GetEvents cursors: for each chat, the
// sequence number of the last event of the last response that left the
// server. MiCC clients send only the ChatID, so the server must remember
// where each one is. A cursor moves only after a response was written and
// flushed to a client that was still connected when the writing began (a
// client that closes right after reading must not see it again); a call whose client gave
// up (the usual way a long-poll response is lost) leaves it, and the retry
// gets the same events. Clients that want exactly-once delivery even when
// a response is lost after it left the server send the X-Parley-Cursor
// value of the last response they read back as GetEventsRequest.Cursor.
//
// Cursors live in the memory of one node and are forgotten after ttl
// without use.
type cursors struct {
	ttl   time.Duration
	mu    sync.Mutex
	m     map[string]*cursor
	swept time.Time
}

type cursor struct {
	seq  int64
	used time.Time
}

func newCursors(ttl time.Duration) *cursors {
	return &cursors{ttl: ttl, m: map[string]*cursor{}, swept: time.Now()}
}

// get returns the chat's cursor, 0 for a chat not seen yet.
func (cs *cursors) get(chatID string) int64 {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c := cs.m[chatID]; c != nil {
		c.used = time.Now()
		return c.seq
	}
	return 0
}

// advance moves the chat's cursor to seq unless it is further already
// (two calls for one chat may overlap).
func (cs *cursors) advance(chatID string, seq int64) {
	now := time.Now()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.m[chatID]
	if c == nil {
		c = &cursor{}
		cs.m[chatID] = c
	}
	c.seq, c.used = max(c.seq, seq), now
	if now.Sub(cs.swept) > cs.ttl/4 {
		cs.swept = now
		for id, c := range cs.m {
			if now.Sub(c.used) > cs.ttl {
				delete(cs.m, id)
			}
		}
	}
}
