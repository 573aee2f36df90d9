package httpapi

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/wsnb"
)

// This file is the WebSocket protocol of a session (hello, resume,
// subscriptions, frames); wstransport.go carries its frames. A session has
// no goroutine of its own: its frames are handled as they arrive, and a
// chat's stream or an agent's feed runs a goroutine only while it has
// events to send.

// WebSocket close codes besides the standard ones. 4001 means the client
// should not reconnect with the same credentials; 1001 (going away) and
// 1011 mean it should reconnect and resume.
const (
	closeNormal       = 1000
	closeGoingAway    = 1001
	closeUnsupported  = 1003
	closeInternal     = 1011
	closeUnauthorized = 4001
	closeBadHello     = 4002
)

// defaultHelloTimeout is how long a new connection may take to say hello.
const defaultHelloTimeout = 10 * time.Second

// wsConn is one WebSocket session of a visitor or agent.
type wsConn struct {
	wsnb.PeerState
	srv    *Server
	conn   wsTransport
	actor  conversation.Actor
	ctx    context.Context
	cancel context.CancelFunc

	// Until the hello: the session cookie of a same-origin upgrade, and
	// the timer that closes a connection that never says hello.
	cookie     string
	helloTimer *time.Timer
	// token is an agent's session token, checked again when the agent's
	// record changes: a sign-out everywhere or a disable ends the session.
	token string

	mu       sync.Mutex
	hello    bool // the hello was handled
	ended    bool
	streams  map[string]*chatStream
	cursors  map[string]int64 // the hello's resume points, by chat
	offers   map[string]bool  // offers sent and still standing, by chat
	feed     *conversation.Subscription
	feedPump pump

	// busy is held while a client frame is handled, so that going away
	// waits for a send being stored to be acknowledged; leaving is set
	// then, and frames that arrive after it are dropped unhandled.
	busy    sync.Mutex
	leaving bool
	// release ends the agent's presence hold of this console (nil for
	// visitors and before the hello).
	release func()
}

// newSession returns the session of a connection upgraded from r. It
// keeps nothing of r but the session cookie of a same-origin page.
func (s *Server) newSession(r *http.Request) *wsConn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &wsConn{srv: s, ctx: ctx, cancel: cancel, streams: map[string]*chatStream{}, offers: map[string]bool{}}
	if sameOrigin(r) {
		// The session cookie counts only for pages of Parley's own origin:
		// an allowed foreign origin may embed the visitor chat, but must
		// not act with an agent's cookie.
		c.cookie = token(r)
	}
	c.Hear(s.now())
	return c
}

// opened starts the hello timeout of a connection just upgraded.
func (c *wsConn) opened() {
	c.srv.metrics.wsOpened()
	timeout := c.srv.opt.HelloTimeout
	c.helloTimer = time.AfterFunc(timeout, func() {
		c.mu.Lock()
		hello := c.hello
		c.mu.Unlock()
		if !hello {
			c.conn.Close(closeBadHello, "no hello within "+timeout.String())
		}
	})
}

// closed ends the session once its connection is gone.
func (c *wsConn) closed() {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	hello, release := c.hello, c.release
	streams := make([]*chatStream, 0, len(c.streams))
	for _, st := range c.streams {
		streams = append(streams, st)
	}
	feed := c.feed
	c.mu.Unlock()
	c.helloTimer.Stop()
	c.cancel()
	for _, st := range streams {
		st.end()
	}
	if feed != nil {
		feed.Close()
	}
	c.srv.metrics.wsClosed()
	if hello {
		c.srv.keepalive.Remove(c)
		c.srv.unregister(c)
		if release != nil {
			release()
		}
	}
}

// onFrame handles one text frame from the client.
func (c *wsConn) onFrame(data []byte) {
	c.Hear(c.srv.now())
	c.mu.Lock()
	hello, ended := c.hello, c.ended
	c.mu.Unlock()
	if ended {
		return
	}
	if !hello {
		c.onHello(data)
		return
	}
	f, err := decodeFrame(data)
	if err != nil {
		c.send(errorFrame("", err))
		return
	}
	c.busy.Lock()
	defer c.busy.Unlock()
	if !c.leaving {
		c.handle(f)
	}
}

// onHello authenticates the first frame and starts the session.
func (c *wsConn) onHello(data []byte) {
	s := c.srv
	c.helloTimer.Stop()
	hello, err := c.readHello(data)
	c.cookie = ""
	if err != nil {
		code := closeBadHello
		switch parley.ErrorCode(err) {
		case parley.EUNAUTHORIZED:
			code = closeUnauthorized
		case parley.EINTERNAL:
			s.log.Error("websocket hello", "err", err)
			code = closeInternal // the client should retry
		}
		c.conn.Close(code, parley.ErrorMessage(err))
		return
	}
	if !s.register(c) {
		c.conn.Close(closeGoingAway, "server is shutting down")
		return
	}
	// An agent's presence follows its consoles.
	release := s.svc.AgentConnected(c.actor.AgentID())
	// The hello's map is read here; the session keeps its own copy, which
	// finished streams update.
	c.mu.Lock()
	c.hello = true
	c.release = release
	c.cursors = maps.Clone(hello.Chats)
	if c.cursors == nil {
		c.cursors = map[string]int64{}
	}
	ended := c.ended
	c.mu.Unlock()
	if ended {
		s.unregister(c) // closed while the hello was read
		release()
		return
	}
	s.keepalive.Add(c)
	// An agent's feed is open before "ready": a client that acts on ready
	// (a visitor's request, an accept) must not miss the notice it causes.
	var feed *conversation.Subscription
	if !c.actor.IsVisitor() {
		f, err := s.svc.OpenAgentFeed(c.ctx, c.actor)
		if err != nil {
			c.send(errorFrame("", err))
			c.conn.Close(closeInternal, "could not start the session")
			return
		}
		feed = f
	}
	c.send(ServerFrame{Type: frameReady, Actor: &ActorInfo{Kind: c.actor.Kind, VisitorID: c.actor.VisitorID, Agent: c.actor.Agent}})
	if err := c.start(hello.Chats, feed); err != nil {
		c.send(errorFrame("", err))
		c.conn.Close(closeInternal, "could not start the session")
	}
}

func (s *Server) register(c *wsConn) bool {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.sessions.Add(1)
	return true
}

func (s *Server) unregister(c *wsConn) {
	s.connsMu.Lock()
	_, ok := s.conns[c]
	delete(s.conns, c)
	s.connsMu.Unlock()
	if ok {
		s.sessions.Done()
	}
}

// readHello decodes and authenticates the first frame.
func (c *wsConn) readHello(data []byte) (ClientFrame, error) {
	f, err := decodeFrame(data)
	if err != nil {
		return ClientFrame{}, err
	}
	if f.Type != frameHello {
		return ClientFrame{}, parley.Errorf(parley.EINVALID, "the first frame must be a hello")
	}
	tok := f.Token
	if tok == "" {
		tok = c.cookie
	}
	c.actor, err = c.srv.svc.Authenticate(c.ctx, tok)
	if err == nil && !c.actor.IsVisitor() {
		c.token = tok
	}
	return f, err
}

// stillSignedIn checks the agent's session again. A session ended by a
// sign-out everywhere, a disable or the directory closes the connection
// with closeUnauthorized; it reports whether the session goes on.
func (c *wsConn) stillSignedIn() bool {
	_, err := c.srv.svc.Authenticate(c.ctx, c.token)
	if parley.ErrorCode(err) != parley.EUNAUTHORIZED {
		return true // valid, or the store failed: not a reason to sign out
	}
	c.conn.Close(closeUnauthorized, "the session has ended")
	return false
}

// start subscribes the chats of the session: those the hello names, and
// for agents the chats they handle and their pending offers, and follows
// feed, the agent's notices (nil for visitors); for visitors with an empty
// hello, their active chats.
func (c *wsConn) start(resume map[string]int64, feed *conversation.Subscription) error {
	svc := c.srv.svc
	for chatID, after := range resume {
		if err := c.subscribe(chatID, after); err != nil {
			c.send(errorFrame("", err))
		}
	}
	if c.actor.IsVisitor() {
		if len(resume) > 0 {
			return nil
		}
		chats, err := svc.VisitorChats(c.ctx, c.actor)
		if err != nil {
			return err
		}
		for _, ch := range chats {
			if err := c.subscribe(ch.ID, 0); err != nil {
				return err
			}
		}
		return nil
	}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		feed.Close()
		return nil
	}
	c.feed = feed
	c.mu.Unlock()
	feed.Notify(func() { c.feedPump.kick(c.agentFeed) })
	chats, err := svc.AgentChats(c.ctx, c.actor)
	if err != nil {
		return err
	}
	for _, ch := range chats {
		if ch.OfferedTo == c.actor.AgentID() {
			c.sendOffer(ch)
			continue
		}
		if !c.subscribed(ch.ID) {
			if err := c.subscribe(ch.ID, c.cursor(ch.ID)); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendOffer sends an offer frame unless this session has sent the same
// standing offer already: the feed and the initial listing can both see
// an offer made while the session starts.
func (c *wsConn) sendOffer(ch *conversation.ChatView) bool {
	c.mu.Lock()
	dup := c.offers[ch.ID]
	c.offers[ch.ID] = true
	c.mu.Unlock()
	return dup || c.send(ServerFrame{Type: conversation.NoticeOffer, ChatID: ch.ID, Chat: ch})
}

// offerGone forgets a standing offer (revoked, accepted or removed).
func (c *wsConn) offerGone(chatID string) {
	c.mu.Lock()
	delete(c.offers, chatID)
	c.mu.Unlock()
}

func (c *wsConn) cursor(chatID string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursors[chatID]
}

// keep cancels a pending stop of a chat's stream (the chat came back to
// the agent) and reports whether the stream runs.
func (c *wsConn) keep(chatID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.streams[chatID]
	if ok {
		st.stopAt.Store(0)
	}
	return ok
}

func (c *wsConn) subscribed(chatID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.streams[chatID]
	return ok
}

// subscribe starts streaming a chat from after; a running stream of the
// same chat is replaced.
func (c *wsConn) subscribe(chatID string, after int64) error {
	svc := c.srv.svc
	cur, view, err := svc.OpenChat(c.ctx, c.actor, chatID, after)
	if err != nil {
		return err
	}
	st := &chatStream{c: c, cur: cur, view: view}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		cur.Close()
		return nil
	}
	old, replaced := c.streams[chatID]
	if !replaced && len(c.streams) >= maxSubscriptions {
		c.mu.Unlock()
		cur.Close()
		return parley.Errorf(parley.EINVALID, "a connection follows at most %d chats", maxSubscriptions)
	}
	c.streams[chatID] = st
	c.mu.Unlock()
	if replaced {
		old.end()
	}
	if c.actor.IsVisitor() && view.State != parley.StateTerminated {
		st.release = svc.VisitorConnected(c.ctx, view.ID)
	}
	cur.Notify(func() { st.pump.kick(st.run) })
	return nil
}

func (c *wsConn) unsubscribe(chatID string) {
	c.mu.Lock()
	st, ok := c.streams[chatID]
	c.mu.Unlock()
	if ok {
		st.end()
	}
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
				return // finished for good; the pump stays "running"
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

// chatStream is one followed chat of a session.
type chatStream struct {
	c        *wsConn
	cur      *conversation.Cursor
	view     *conversation.ChatView // the snapshot, until sent
	release  func()                 // the visitor's presence in the chat
	pump     pump
	lastSent atomic.Int64 // seq of the last stored event sent
	stopAt   atomic.Int64 // end the stream after this seq (0: never)
	once     sync.Once
}

// run sends the chat's snapshot, then its events as they come, until the
// chat ends, the agent is removed from it, or the stream is stopped. It
// reports whether the stream goes on.
func (st *chatStream) run() bool {
	c := st.c
	if c.ctx.Err() != nil || !c.hasStream(st) {
		st.end()
		return false
	}
	if st.view != nil {
		view := st.view
		st.view = nil
		if !c.send(ServerFrame{Type: frameChat, Chat: view}) {
			st.end()
			return false
		}
	}
	for {
		events, err := st.cur.TryNext(c.ctx)
		if err != nil {
			if c.ctx.Err() == nil {
				c.send(errorFrame("", err))
			}
			st.end()
			return false
		}
		if len(events) == 0 {
			return true
		}
		for i := range events {
			e := &events[i]
			if !c.send(ServerFrame{Type: frameEvent, Event: e}) {
				st.end()
				return false
			}
			if e.Seq == 0 {
				continue
			}
			st.lastSent.Store(e.Seq)
			if e.Type == parley.EventState && e.State != nil && e.State.State == parley.StateTerminated {
				st.end() // nothing follows the end of a chat
				return false
			}
			if at := st.stopAt.Load(); at > 0 && e.Seq >= at {
				st.end()
				return false
			}
		}
	}
}

// end stops the stream: it is dropped from the session (unless a newer
// one replaced it), its position kept so a later subscription resumes
// there, and its cursor and the visitor's presence released.
func (st *chatStream) end() {
	st.once.Do(func() {
		c := st.c
		id := st.cur.ChatID()
		c.mu.Lock()
		if c.streams[id] == st {
			delete(c.streams, id)
			c.cursors[id] = max(c.cursors[id], st.lastSent.Load())
		}
		c.mu.Unlock()
		st.cur.Close()
		if st.release != nil {
			st.release()
		}
	})
}

func (c *wsConn) hasStream(st *chatStream) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[st.cur.ChatID()] == st
}

// removed ends an agent's stream of a chat it no longer handles once every
// event up to now has been sent.
func (c *wsConn) removed(chatID string) {
	c.mu.Lock()
	st := c.streams[chatID]
	c.mu.Unlock()
	if st == nil {
		return
	}
	ch, err := c.srv.svc.Chat(c.ctx, c.actor, chatID)
	if err != nil || ch.State == parley.StateTerminated {
		return // the stream ends with the terminated state itself
	}
	if ch.Agent != nil && ch.Agent.AgentID == c.actor.AgentID() {
		return // handling it again
	}
	st.stopAt.Store(ch.LastSeq)
	if st.lastSent.Load() >= ch.LastSeq {
		st.end()
	} else {
		st.pump.kick(st.run)
	}
}

// agentFeed forwards the agent's waiting notices and follows newly
// assigned chats. It reports whether the feed goes on.
func (c *wsConn) agentFeed() bool {
	c.mu.Lock()
	feed := c.feed
	c.mu.Unlock()
	if c.ctx.Err() != nil || feed == nil {
		return false
	}
	msgs, lagged := feed.Take()
	for _, m := range msgs {
		var n conversation.AgentNotice
		if err := json.Unmarshal(m, &n); err != nil {
			c.srv.log.Error("decode agent notice", "err", err)
			continue
		}
		switch n.Type {
		case conversation.NoticeOffer:
			if n.Chat != nil && !c.sendOffer(n.Chat) {
				return false
			}
			continue
		case conversation.NoticeRevoke, conversation.NoticeAssigned, conversation.NoticeRemoved:
			c.offerGone(n.ChatID)
		case conversation.NoticeAgent:
			if n.Agent != nil && n.Agent.ID == c.actor.AgentID() && !c.stillSignedIn() {
				return false
			}
		}
		if !c.send(ServerFrame{Type: n.Type, ChatID: n.ChatID, Chat: n.Chat, Agent: n.Agent, Message: n.Message, Overview: n.Overview}) {
			return false
		}
		switch n.Type {
		case conversation.NoticeAssigned:
			if c.keep(n.ChatID) {
				break
			}
			if !c.subscribed(n.ChatID) {
				if err := c.subscribe(n.ChatID, c.cursor(n.ChatID)); err != nil {
					c.send(errorFrame("", err))
				}
			}
		case conversation.NoticeRemoved:
			c.removed(n.ChatID)
		}
	}
	if lagged {
		// Notices were dropped: send the current offers again.
		chats, err := c.srv.svc.AgentChats(c.ctx, c.actor)
		if err != nil {
			c.send(errorFrame("", err))
			return true
		}
		for _, ch := range chats {
			if ch.OfferedTo == c.actor.AgentID() {
				c.sendOffer(ch)
			} else if !c.subscribed(ch.ID) {
				_ = c.subscribe(ch.ID, c.cursor(ch.ID))
			}
		}
	}
	return true
}

func (c *wsConn) handle(f ClientFrame) {
	svc := c.srv.svc
	var err error
	switch f.Type {
	case frameHello:
		err = parley.Errorf(parley.ECONFLICT, "the session has said hello already")
	case frameSubscribe:
		err = c.subscribe(f.ChatID, f.After)
	case frameUnsubscribe:
		c.unsubscribe(f.ChatID)
	case frameSend:
		// The ack follows the commit; meanwhile the session's next frames
		// are read, and its later sends are stored after this one.
		ref := f.Ref
		svc.SendAsync(c.ctx, c.actor, f.ChatID, f.Text, conversation.SendOptions{ClientID: f.ClientID}, func(e *parley.Event, err error) {
			if err != nil {
				c.frameFailed(f.Type, ref, err)
				return
			}
			c.send(ServerFrame{Type: frameAck, Ref: ref, Event: e})
		})
	case frameTyping:
		err = svc.Typing(c.ctx, c.actor, f.ChatID, f.Typing)
	case frameSeen:
		_, err = svc.MarkSeen(c.ctx, c.actor, f.ChatID, f.Seq)
	case frameSignal:
		// A stored call action is acknowledged with its event; a relayed
		// signal is not answered unless it fails, like typing.
		var e *parley.Event
		if e, err = svc.Signal(c.ctx, c.actor, f.ChatID, f.Signal); err == nil && e != nil {
			c.send(ServerFrame{Type: frameAck, Ref: f.Ref, Event: e})
		}
	case framePing:
		c.send(ServerFrame{Type: framePong, Ref: f.Ref})
	}
	if err != nil {
		c.frameFailed(f.Type, f.Ref, err)
	}
}

// frameFailed answers a client frame that failed with an error frame.
func (c *wsConn) frameFailed(typ, ref string, err error) {
	if parley.ErrorCode(err) == parley.EINTERNAL {
		c.srv.log.Error("websocket frame", "type", typ, "err", err)
	}
	c.send(errorFrame(ref, err))
}

// send queues a frame; on failure the session ends. It reports success.
func (c *wsConn) send(f ServerFrame) bool {
	data, err := json.Marshal(f)
	if err != nil {
		c.srv.log.Error("encode frame", "err", err)
		return false
	}
	if err := c.conn.WriteText(data); err != nil {
		c.conn.Abort()
		return false
	}
	return true
}

// goingAway closes the session so the client reconnects and resumes.
func (c *wsConn) goingAway() {
	c.busy.Lock()
	c.leaving = true
	c.busy.Unlock()
	c.conn.Close(closeGoingAway, "server restarting")
}

// sameOrigin reports whether a request comes from a page of the server's
// own origin (or from no browser page at all).
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}
