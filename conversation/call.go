package conversation

// Calls: audio and video between the visitor and one agent of a chat,
// signalled through the chat. The lifecycle (invite, accept, decline,
// hang-up) is stored in the chat's log and published like any event; the
// WebRTC negotiation and media state are relayed to the call's other
// party only, never stored, like typing.

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

// call is the state of a chat's open call, as its log tells it.
type call struct {
	id       string
	media    string
	caller   parley.Party
	callee   parley.Party // set once answered (an agent's call: the visitor at once)
	invited  time.Time
	accepted time.Time // zero while ringing
}

// party reports whether p is one of the call's two parties.
func (c *call) party(p parley.Party) bool {
	return samePerson(c.caller, p) || (c.callee.Kind != "" && samePerson(c.callee, p))
}

// other returns the call's party that is not p.
func (c *call) other(p parley.Party) parley.Party {
	if samePerson(c.caller, p) {
		return c.callee
	}
	return c.caller
}

func samePerson(a, b parley.Party) bool { return a.Kind == b.Kind && a.AgentID == b.AgentID }

// callTable caches each chat's open call on this node, like liveStore
// caches active chats: filled from the log, changed with every stored
// call event, dropped when the chat ends. In a cluster every node applies
// the chat events the bus brings (noteCall), so a call opened on another
// node is known here too; an entry that missed an event is dropped and
// read from the log again.
type callTable struct {
	mu    sync.Mutex
	calls map[string]*callEntry // chat ID → what the log says
}

type callEntry struct {
	open *call // nil: no call open
	seq  int64 // the last event of the chat's log applied
}

func (t *callTable) get(chatID string) (*call, int64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.calls[chatID]
	if !ok {
		return nil, 0, false
	}
	c := e.open
	if c != nil {
		cp := *c
		c = &cp
	}
	return c, e.seq, true
}

// put records the chat's open call as of the event seq, unless the table
// already knows a later event.
func (t *callTable) put(chatID string, c *call, seq int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.calls == nil {
		t.calls = map[string]*callEntry{}
	}
	if e, ok := t.calls[chatID]; ok && e.seq > seq {
		return
	}
	t.calls[chatID] = &callEntry{open: c, seq: seq}
}

// note applies an event of a chat the table knows, in the log's order;
// a gap drops the entry, so the next question reads the log.
func (t *callTable) note(chatID string, ev *parley.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.calls[chatID]
	switch {
	case !ok || ev.Seq <= e.seq:
	case ev.Seq == e.seq+1:
		e.open, e.seq = nextCall(e.open, ev), ev.Seq
	default:
		delete(t.calls, chatID)
	}
}

func (t *callTable) forget(chatID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.calls, chatID)
}

// clear forgets every chat: the bus lost notifications.
func (t *callTable) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.calls)
}

// noteCall applies a chat event another node (or this one) published.
func (s *Service) noteCall(chatID string, ev *parley.Event) {
	if ev.Type == parley.EventState && ev.State != nil && ev.State.State == parley.StateTerminated {
		s.calls.forget(chatID)
		return
	}
	s.calls.note(chatID, ev)
}

// openCall returns the chat's open call, or nil, reading the log when this
// node has not seen the chat's calls yet.
func (s *Service) openCall(ctx context.Context, chatID string) (*call, error) {
	if c, _, ok := s.calls.get(chatID); ok {
		return c, nil
	}
	return s.readCall(ctx, chatID)
}

// freshCall returns the chat's open call when it is callID; otherwise it
// reads the log's events this node has not applied yet first (another
// node may have opened or closed a call), and answers from them.
func (s *Service) freshCall(ctx context.Context, chatID, callID string) (*call, error) {
	open, err := s.openCall(ctx, chatID)
	if err != nil || (open != nil && open.id == callID) {
		return open, err
	}
	return s.readCall(ctx, chatID)
}

// readCall reads the chat's log after what the table applied (all of it
// for a chat it does not know) and records the open call. A chat without
// events (a made-up ID) is not recorded.
func (s *Service) readCall(ctx context.Context, chatID string) (*call, error) {
	open, after, _ := s.calls.get(chatID)
	for {
		events, err := s.store.Events(ctx, chatID, after, cursorPage)
		if err != nil {
			return nil, internal("read events", err)
		}
		for i := range events {
			open = nextCall(open, &events[i])
			after = events[i].Seq
		}
		if len(events) < cursorPage {
			break
		}
	}
	if after > 0 {
		s.calls.put(chatID, open, after)
	}
	return open, nil
}

// nextCall applies one stored event to the open call.
func nextCall(open *call, e *parley.Event) *call {
	sig, ok := e.CallOf()
	if !ok || e.Type != parley.EventSignal {
		return open
	}
	switch sig.Action {
	case parley.CallInvite:
		c := &call{id: sig.Call, media: sig.Media, caller: e.From, invited: e.At}
		if e.From.Kind == parley.PartyAgent {
			c.callee = parley.Party{Kind: parley.PartyVisitor}
		}
		return c
	case parley.CallAccept:
		if open != nil && open.id == sig.Call {
			open.callee, open.accepted = e.From, e.At
		}
	case parley.CallDecline, parley.CallHangup, parley.CallEnd:
		if open != nil && open.id == sig.Call {
			return nil
		}
	}
	return open
}

// Signal handles a call signal a participant of the chat sent (its JSON,
// as parley.DecodeCallSignal reads it). Lifecycle actions are stored and
// returned; offers, answers, candidates and media state are relayed to
// the call's other party and return nil.
func (s *Service) Signal(ctx context.Context, actor Actor, chatID string, raw []byte) (*parley.Event, error) {
	sig, err := parley.DecodeCallSignal(raw)
	if err != nil {
		return nil, err
	}
	if sig.Stored() {
		return s.callAction(ctx, actor, chatID, sig)
	}
	return nil, s.relay(ctx, actor, chatID, sig)
}

// callAction stores an invite, accept, decline or hang-up.
func (s *Service) callAction(ctx context.Context, actor Actor, chatID string, sig parley.CallSignal) (*parley.Event, error) {
	unlock := s.lockChat(chatID)
	defer unlock()
	c, v, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if c.State != parley.StateHandling {
		return nil, parley.Errorf(parley.ECONFLICT, "a call needs an agent in the chat")
	}
	if err := s.live.drain(ctx, chatID); err != nil { // the log must be complete to be read
		return nil, internal("drain", err)
	}
	open, err := s.openCall(ctx, chatID)
	if err == nil && !fits(open, sig) {
		// What this node knows disagrees with the request: another node
		// may have stored a call event. Read the log's newer events.
		open, err = s.readCall(ctx, chatID)
	}
	if err != nil {
		return nil, err
	}
	from := actor.party(v)
	now := s.now().UTC()
	out := parley.CallSignal{Call: sig.Call, Action: sig.Action}
	switch sig.Action {
	case parley.CallInvite:
		if open != nil {
			return nil, parley.Errorf(parley.ECONFLICT, "a call is already open in this chat")
		}
		out.Call, out.Media = newID(), sig.Media
	default:
		if open == nil || open.id != sig.Call {
			return nil, parley.Errorf(parley.ENOTFOUND, "call %s is not open in this chat", sig.Call)
		}
		out.Media = open.media
		answering := open.accepted.IsZero() && !samePerson(open.caller, from) &&
			(open.callee.Kind == "" || samePerson(open.callee, from))
		switch {
		case sig.Action == parley.CallAccept || sig.Action == parley.CallDecline:
			if !answering || (from.Kind == open.caller.Kind) {
				return nil, parley.Errorf(parley.EFORBIDDEN, "only the called side answers a call")
			}
			if sig.Action == parley.CallDecline {
				out.Outcome = parley.OutcomeDeclined
			}
		case !open.party(from) && !answering:
			return nil, parley.Errorf(parley.EFORBIDDEN, "only the call's parties hang it up")
		case open.accepted.IsZero() && samePerson(open.caller, from):
			out.Outcome = parley.OutcomeCanceled
		case open.accepted.IsZero():
			out.Action, out.Outcome = parley.CallDecline, parley.OutcomeDeclined
		default:
			out.Outcome = parley.OutcomeCompleted
			out.Duration = int64(now.Sub(open.accepted) / time.Second)
		}
	}
	payload, err := json.Marshal(out)
	if err != nil {
		return nil, internal("encode signal", err)
	}
	stored, err := s.store.AppendEvents(ctx, chatID, []parley.Event{{ChatID: chatID, Type: parley.EventSignal, At: now, From: from, Signal: payload}})
	if err != nil {
		s.calls.forget(chatID)
		return nil, internal("append event", err)
	}
	s.calls.put(chatID, nextCall(open, &stored[0]), stored[0].Seq)
	s.publish(ctx, stored...)
	if actor.IsVisitor() {
		s.visitorActive(chatID)
	}
	return &stored[0], nil
}

// fits reports whether a lifecycle signal fits the open call: none open
// for an invite, that call for the rest.
func fits(open *call, sig parley.CallSignal) bool {
	if sig.Action == parley.CallInvite {
		return open == nil
	}
	return open != nil && open.id == sig.Call
}

// relay sends an offer, answer, candidate or media state to the call's
// other party.
func (s *Service) relay(ctx context.Context, actor Actor, chatID string, sig parley.CallSignal) error {
	c, v, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	open, err := s.freshCall(ctx, chatID, sig.Call)
	if err != nil {
		return err
	}
	from := actor.party(v)
	switch {
	case open == nil || open.id != sig.Call:
		return parley.Errorf(parley.ENOTFOUND, "call %s is not open in this chat", sig.Call)
	case open.accepted.IsZero():
		return parley.Errorf(parley.ECONFLICT, "the call has not been answered yet")
	case !open.party(from):
		return parley.Errorf(parley.EFORBIDDEN, "only the call's parties signal in it")
	}
	payload, err := json.Marshal(sig)
	if err != nil {
		return internal("encode signal", err)
	}
	to := open.other(from)
	s.publish(ctx, parley.Event{ChatID: c.ID, Type: parley.EventRTC, At: s.now().UTC(), From: from, To: &to, Signal: payload})
	return nil
}

// endCall returns the event that closes the chat's open call when the
// chat ends around it, or false when no call is open. Callers hold the
// chat's lock. Only this node's table is asked, so that ending a chat
// without calls reads nothing more: a call left open across a restart
// stays without its closing event (transcripts then show nothing of it).
func (s *Service) endCall(chatID string, now time.Time) (parley.Event, bool) {
	open, _, _ := s.calls.get(chatID)
	s.calls.forget(chatID)
	if open == nil {
		return parley.Event{}, false
	}
	out := parley.CallSignal{Call: open.id, Action: parley.CallEnd, Media: open.media, Outcome: parley.OutcomeMissed}
	if !open.accepted.IsZero() {
		out.Outcome, out.Duration = parley.OutcomeCompleted, int64(now.Sub(open.accepted)/time.Second)
	}
	payload, err := json.Marshal(out)
	if err != nil {
		return parley.Event{}, false
	}
	return parley.Event{Type: parley.EventSignal, From: system, Signal: payload}, true
}

// CallLive reports whether a call is open in a chat: TURN credentials
// issued for it are honoured only then, whichever node of a cluster
// issued them. The TURN server asks before it has checked the
// credential's password: a name this node's table does not confirm costs
// a read of the chat's events after those it applied (one indexed read,
// empty for a made-up chat, which is not recorded).
func (s *Service) CallLive(ctx context.Context, chatID, callID string) bool {
	if !validID(chatID) || callID == "" {
		return false
	}
	open, err := s.freshCall(ctx, chatID, callID)
	return err == nil && open != nil && open.id == callID
}

// callOverview describes the chat's open call for the supervisors'
// overview, or returns nil. A node reads a chat's log once for its calls;
// after that its table answers, kept current by the chat's events.
func (s *Service) callOverview(ctx context.Context, chatID string) (*CallOverview, error) {
	open, err := s.openCall(ctx, chatID)
	if err != nil || open == nil {
		return nil, err
	}
	co := &CallOverview{ChatID: chatID, Media: open.media, State: "ringing", Caller: open.caller.Kind, Since: open.invited}
	if !open.accepted.IsZero() {
		co.State, co.Since = "live", open.accepted
	}
	return co, nil
}

// callUser names a party of a call in its TURN credentials.
func callUser(chatID, callID string, p parley.Party) string {
	who := "v"
	if p.Kind == parley.PartyAgent {
		who = "a" + strconv.FormatInt(p.AgentID, 10)
	}
	return chatID + ":" + callID + ":" + who
}
