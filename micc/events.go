package micc

import (
	"context"
	"io"

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

// positionReader names MiCC's GetEvents in the store's read positions.
//
// MiCC clients send only the ChatID, so the server must remember where
// each one is: the seq of the last event of the last response that left
// the server. It is kept in the store (Service.SavePosition), so a client
// whose next call lands on another node of a cluster, or on this one
// after a restart, continues with no gap and no duplicate. A position
// moves only after a response was written and flushed to a client that
// was still connected when the writing began (a client that closes right
// after reading must not see it again), and before the response ends: the
// body goes out in chunks, and the last chunk follows the store's write,
// so a client that reads the whole response asks again only once the
// position is stored. A call whose client gave up (the usual way a
// long-poll response is lost) leaves it, and the retry gets the same
// events. Clients that want exactly-once delivery even when a response is
// lost after it left the server send the X-Parley-Cursor value of the
// last response they read back as GetEventsRequest.Cursor.
const positionReader = "micc"
