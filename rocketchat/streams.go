package rocketchat

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// The three streams a Livechat visitor subscribes to. Each subscription
// follows its chat with a conversation.Cursor from the chat's end at the
// time of subscribing: a client loads older messages with the history
// call, and takes messages by _id, so a message in both is shown once.

// Stream names and event kinds.
const (
	streamMessages = "stream-room-messages"
	streamLivechat = "stream-livechat-room"
	streamNotify   = "stream-notify-room"
)

type subKind int

const (
	kindMessages subKind = iota
	kindLivechat
	kindTyping
	kindActivity
	kindDelete
)

// sub is one subscription of a session.
type sub struct {
	s       *session
	id      string
	name    string
	event   string // the eventName, as the client gave it
	rid     string // the room id as the client named it
	kind    subKind
	guest   snapshot
	cur     *conversation.Cursor
	release func()
	pump    pump
	once    sync.Once
	done    bool
}

// streamExtra is the read check's extra: the visitor's token.
type streamExtra struct {
	Token        string `json:"token"`
	VisitorToken string `json:"visitorToken"`
}

func (s *session) nosub(id string, err *MeteorError) {
	s.send(outFrame{Msg: "nosub", ID: &id, Error: err})
}

// onSub starts a subscription, or refuses it with nosub.
func (s *session) onSub(f Frame, data []byte) {
	if f.ID == nil || *f.ID == "" || len(*f.ID) > 100 {
		s.send(outFrame{Msg: "error", Reason: "Bad request", OffendingMessage: data})
		return
	}
	id := *f.ID
	switch f.Name {
	case streamMessages, streamLivechat, streamNotify:
	default:
		s.nosub(id, meteorError(404, "Subscription '"+f.Name+"' not found"))
		return
	}
	var event string
	if err := param(f.Params, 0, &event, false); err != nil || event == "" {
		s.nosub(id, meteorError("invalid-event-name", "Invalid event name"))
		return
	}
	var extra streamExtra
	if len(f.Params) > 1 {
		var opts struct {
			Args []streamExtra `json:"args"`
		}
		if json.Unmarshal(f.Params[1], &opts) == nil && len(opts.Args) > 0 {
			extra = opts.Args[0]
		}
	}
	tok := extra.VisitorToken
	if tok == "" {
		tok = extra.Token
	}
	if tok == "" {
		if g := s.sessionGuest(); g != nil {
			tok = g.snap().Token
		}
	}
	x := &sub{s: s, id: id, name: f.Name, event: event, rid: event}
	switch f.Name {
	case streamMessages:
		x.kind = kindMessages
	case streamLivechat:
		x.kind = kindLivechat
	case streamNotify:
		rid, what, ok := strings.Cut(event, "/")
		x.rid = rid
		switch {
		case ok && what == "typing":
			x.kind = kindTyping
		case ok && what == "user-activity":
			x.kind = kindActivity
		case ok && what == "deleteMessage":
			x.kind = kindDelete
		default:
			s.nosub(id, meteorError("not-allowed", "Not allowed"))
			return
		}
	}
	if err := s.start(x, tok); err != nil {
		if parley.ErrorCode(err) == parley.EINTERNAL {
			s.h.log.Error("rocketchat subscription", "err", err)
		}
		s.nosub(id, meteorError("not-allowed", "Not allowed"))
		return
	}
	s.send(outFrame{Msg: "ready", Subs: []string{id}})
	if x.kind == kindLivechat {
		x.replayAgent()
	}
	x.cur.Notify(func() { x.pump.kick(x.run) })
}

// start checks the read and opens the subscription's cursor.
func (s *session) start(x *sub, tok string) error {
	h := s.h
	g, actor, v, err := h.room(s.ctx, tok, x.rid)
	if err != nil {
		return err
	}
	x.guest = g.snap()
	cur, err := h.svc.OpenCursor(s.ctx, actor, v.ID, v.LastSeq)
	if err != nil {
		return err
	}
	x.cur = cur
	s.mu.Lock()
	if s.ended || len(s.subs) >= maxSubs {
		s.mu.Unlock()
		cur.Close()
		return parley.Errorf(parley.EINVALID, "too many subscriptions")
	}
	old := s.subs[x.id]
	s.subs[x.id] = x
	if s.guest == nil {
		s.guest = g
	}
	s.mu.Unlock()
	if old != nil {
		old.end()
	}
	if x.kind == kindMessages && v.State != parley.StateTerminated {
		x.release = h.svc.VisitorConnected(s.ctx, v.ID)
	}
	return nil
}

func (s *session) unsub(id string) {
	s.mu.Lock()
	x := s.subs[id]
	delete(s.subs, id)
	s.mu.Unlock()
	if x != nil {
		x.end()
	}
	s.nosub(id, nil)
}

func (x *sub) end() {
	x.once.Do(func() {
		x.cur.Close()
		if x.release != nil {
			x.release()
		}
	})
}

func (x *sub) active() bool {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	return x.s.subs[x.id] == x
}

// run sends the subscription's events as they come; it reports whether
// the subscription goes on.
func (x *sub) run() bool {
	s := x.s
	if s.ctx.Err() != nil || !x.active() {
		x.end()
		return false
	}
	for {
		events, err := x.cur.TryNext(s.ctx)
		if err != nil || len(events) == 0 {
			return err == nil
		}
		for i := range events {
			for _, args := range x.render(&events[i]) {
				f := outFrame{Msg: "changed", Collection: x.name, ID: &streamID,
					Fields: map[string]any{"eventName": x.event, "args": args}}
				if !s.send(f) {
					x.end()
					return false
				}
			}
		}
	}
}

// streamID is the id of every stream event, as Rocket.Chat sends it.
var streamID = "id"

// render returns the args of the stream events an event makes.
func (x *sub) render(e *parley.Event) [][]any {
	switch x.kind {
	case kindMessages:
		if e.Seq == 0 {
			return nil
		}
		if e.Type == parley.EventEdited {
			// The message again under its _id, with the new text: the
			// widget replaces it.
			m := messageOf(&parley.Event{ChatID: e.ChatID, Type: parley.EventMessage, From: e.From, At: e.At, Text: e.Text}, x.rid, x.guest, true)
			m.ID = correctedID(e)
			applyEdit(m, e, true)
			return [][]any{{m}}
		}
		if m := messageOf(e, x.rid, x.guest, true); m != nil {
			return [][]any{{m}}
		}
	case kindDelete:
		if e.Type == parley.EventDeleted {
			return [][]any{{map[string]any{"_id": correctedID(e)}}}
		}
	case kindLivechat:
		switch {
		case e.Type == parley.EventJoined && e.From.Kind == parley.PartyAgent:
			return [][]any{{x.agentData(e.From)}}
		case e.Type == parley.EventQueue && e.Queue != nil:
			return [][]any{{queueData(e.Queue)}}
		case e.Type == parley.EventState && e.State != nil && e.State.Queue != nil:
			return [][]any{{queueData(e.State.Queue)}}
		case e.Type == parley.EventLeft && e.From.Kind == parley.PartyAgent:
			return [][]any{{map[string]any{"type": "agentStatus", "status": "offline"}}}
		}
	case kindTyping, kindActivity:
		if e.Type != parley.EventTyping {
			return nil
		}
		name := x.guest.Username
		if e.From.Kind == parley.PartyAgent {
			name = agentUsername(e.From.AgentID)
		}
		if x.kind == kindTyping {
			return [][]any{{name, e.Typing}}
		}
		act := []string{}
		if e.Typing {
			act = []string{"user-typing"}
		}
		return [][]any{{name, act}}
	}
	return nil
}

// agentData is the livechat stream's news of the agent who serves the
// room.
func (x *sub) agentData(p parley.Party) map[string]any {
	a := &Agent{ID: agentID(p.AgentID), Username: agentUsername(p.AgentID), Name: p.Name, Status: "online"}
	if pa, err := x.s.h.svc.PublicAgentByID(context.Background(), x.guest.Actor.TenantID, p.AgentID); err == nil {
		a.Name, a.Avatar = pa.Name, pa.PhotoURL
	}
	return map[string]any{"type": "agentData", "data": a}
}

// replayAgent sends the agent serving the room when a livechat stream
// starts. The widget renews its subscriptions while it reloads a room, and
// an agent who joined after its last look but before the new cursor
// opened would otherwise stay unknown to it. The cursor is open, so a
// later change follows as an event.
func (x *sub) replayAgent() {
	_, _, v, err := x.s.h.room(x.s.ctx, x.guest.Token, x.rid)
	if err != nil || v.State == parley.StateTerminated || v.Agent == nil || v.Agent.Kind != parley.PartyAgent {
		return
	}
	x.s.send(outFrame{Msg: "changed", Collection: x.name, ID: &streamID,
		Fields: map[string]any{"eventName": x.event, "args": []any{x.agentData(*v.Agent)}}})
}

// queueData is a queued chat's place as the widget shows it.
func queueData(q *parley.QueueInfo) map[string]any {
	return map[string]any{"type": "queueData", "data": map[string]any{
		"spot": q.Position, "estimatedWaitTimeSeconds": q.EstimatedWait, "message": nil}}
}

// notifyRoom is the visitor's write to stream-notify-room: typing, as
// ["<rid>/typing", username, bool, {token}] or ["<rid>/user-activity",
// username, ["user-typing"], {token}].
func (s *session) notifyRoom(ctx context.Context, params []json.RawMessage) error {
	var event string
	if err := param(params, 0, &event, false); err != nil {
		return err
	}
	rid, what, _ := strings.Cut(event, "/")
	var typing bool
	switch what {
	case "typing":
		if err := param(params, 2, &typing, false); err != nil {
			return err
		}
	case "user-activity":
		var act []string
		if err := param(params, 2, &act, false); err != nil {
			return err
		}
		for _, a := range act {
			typing = typing || a == "user-typing"
		}
	default:
		return rcErr(parley.EFORBIDDEN, "not-allowed", "Not allowed")
	}
	tok := ""
	if len(params) > 3 {
		var extra streamExtra
		if json.Unmarshal(params[3], &extra) == nil {
			tok = extra.Token
			if tok == "" {
				tok = extra.VisitorToken
			}
		}
	}
	if tok == "" {
		if g := s.sessionGuest(); g != nil {
			tok = g.snap().Token
		}
	}
	_, actor, v, err := s.h.room(ctx, tok, rid)
	if err != nil {
		return rcErr(parley.EFORBIDDEN, "not-allowed", "Not allowed")
	}
	return s.h.svc.Typing(ctx, actor, v.ID, typing)
}

// pump runs a function on a goroutine of its own while there is work:
// kick starts it, or has a running one go round once more.
type pump struct {
	mu      sync.Mutex
	running bool
	again   bool
}

func (p *pump) kick(run func() bool) {
	p.mu.Lock()
	if p.running {
		p.again = true
		p.mu.Unlock()
		return
	}
	p.running = true
	p.mu.Unlock()
	go func() {
		for {
			if !run() {
				return
			}
			p.mu.Lock()
			if !p.again {
				p.running = false
				p.mu.Unlock()
				return
			}
			p.again = false
			p.mu.Unlock()
		}
	}()
}
