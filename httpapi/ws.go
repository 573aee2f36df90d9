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

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// WebSocket close codes besides the standard ones. 4001 means the client
// should not reconnect with the same credentials; 1001 (going away) and
// 1011 mean it should reconnect and resume.
const (
	closeUnauthorized websocket.StatusCode = 4001
	closeBadHello     websocket.StatusCode = 4002
)

// helloTimeout is how long a new connection may take to say hello.
const helloTimeout = 10 * time.Second

// writeTimeout bounds one frame write; a peer that cannot take a frame in
// this time is dropped and resumes later.
const writeTimeout = 10 * time.Second

// wsConn is one WebSocket session of a visitor or agent.
type wsConn struct {
	peerState
	srv    *Server
	conn   *websocket.Conn
	actor  conversation.Actor
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	streams map[string]*chatStream
	cursors map[string]int64 // the hello's resume points, by chat
	offers  map[string]bool  // offers sent and still standing, by chat
}

// chatStream is one followed chat of a session.
type chatStream struct {
	stop     context.CancelFunc
	lastSent atomic.Int64 // seq of the last stored event sent
	stopAt   atomic.Int64 // end the stream after this seq (0: never)
}

func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	// The request's context ends with the hijack; the session has its own.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &wsConn{srv: s, ctx: ctx, cancel: cancel, streams: map[string]*chatStream{}, offers: map[string]bool{}}
	patterns := make([]string, 0, len(s.opt.AllowedOrigins))
	patterns = append(patterns, s.opt.AllowedOrigins...)
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns: patterns,
		OnPongReceived: func(context.Context, []byte) { c.hear(s.now()) },
	})
	if err != nil {
		return // Accept has answered the request
	}
	c.conn = conn
	c.hear(s.now())
	conn.SetReadLimit(maxFrame)
	s.metrics.wsOpened()
	defer s.metrics.wsClosed()

	hello, err := c.readHello(r)
	if err != nil {
		code := closeBadHello
		switch parley.ErrorCode(err) {
		case parley.EUNAUTHORIZED:
			code = closeUnauthorized
		case parley.EINTERNAL:
			s.log.Error("websocket hello", "err", err)
			code = websocket.StatusInternalError // the client should retry
		}
		conn.Close(code, parley.ErrorMessage(err))
		return
	}
	if !s.register(c) {
		conn.Close(websocket.StatusGoingAway, "server is shutting down")
		return
	}
	defer s.unregister(c)

	// The hello's map is read here; the session keeps its own copy, which
	// finished streams update.
	c.cursors = maps.Clone(hello.Chats)
	if c.cursors == nil {
		c.cursors = map[string]int64{}
	}
	// An agent's feed is open before "ready": a client that acts on ready
	// (a visitor's request, an accept) must not miss the notice it causes.
	var feed *conversation.Subscription
	if !c.actor.IsVisitor() {
		f, err := s.svc.OpenAgentFeed(c.ctx, c.actor)
		if err != nil {
			c.send(errorFrame("", err))
			conn.Close(websocket.StatusInternalError, "could not start the session")
			return
		}
		feed = f
	}
	c.send(ServerFrame{Type: frameReady, Actor: &ActorInfo{Kind: c.actor.Kind, VisitorID: c.actor.VisitorID, Agent: c.actor.Agent}})
	s.keepalive.add(c)
	defer s.keepalive.remove(c)
	if err := c.start(hello.Chats, feed); err != nil {
		c.send(errorFrame("", err))
		conn.Close(websocket.StatusInternalError, "could not start the session")
		cancel()
		c.wg.Wait()
		return
	}
	c.readLoop()
	cancel()
	c.wg.Wait()
	conn.Close(websocket.StatusNormalClosure, "")
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
	delete(s.conns, c)
	s.connsMu.Unlock()
	s.sessions.Done()
}

// readHello reads and authenticates the first frame.
func (c *wsConn) readHello(r *http.Request) (ClientFrame, error) {
	ctx, cancel := context.WithTimeout(c.ctx, helloTimeout)
	defer cancel()
	_, data, err := c.conn.Read(ctx)
	if err != nil {
		return ClientFrame{}, parley.Errorf(parley.EINVALID, "no hello received")
	}
	f, err := decodeFrame(data)
	if err != nil {
		return ClientFrame{}, err
	}
	if f.Type != frameHello {
		return ClientFrame{}, parley.Errorf(parley.EINVALID, "the first frame must be a hello")
	}
	tok := f.Token
	if tok == "" && sameOrigin(r) {
		// The session cookie counts only for pages of Parley's own origin:
		// an allowed foreign origin may embed the visitor chat, but must
		// not act with an agent's cookie.
		tok = token(r)
	}
	c.actor, err = c.srv.svc.Authenticate(c.ctx, tok)
	return f, err
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
	c.wg.Add(1)
	go c.agentFeed(feed)
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
	cur, err := c.srv.svc.OpenCursor(c.ctx, c.actor, chatID, after)
	if err != nil {
		return err
	}
	view, err := c.srv.svc.Chat(c.ctx, c.actor, chatID)
	if err != nil {
		cur.Close()
		return err
	}
	c.mu.Lock()
	if old, ok := c.streams[chatID]; ok {
		old.stop()
	} else if len(c.streams) >= maxSubscriptions {
		c.mu.Unlock()
		cur.Close()
		return parley.Errorf(parley.EINVALID, "a connection follows at most %d chats", maxSubscriptions)
	}
	ctx, stop := context.WithCancel(c.ctx)
	st := &chatStream{stop: stop}
	c.streams[chatID] = st
	c.mu.Unlock()
	c.wg.Add(1)
	go c.stream(ctx, st, cur, view)
	return nil
}

func (c *wsConn) unsubscribe(chatID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.streams[chatID]; ok {
		st.stop()
		delete(c.streams, chatID)
	}
}

// stream sends a chat's snapshot, then its events, until the chat ends,
// the agent is removed from it, or the stream is stopped.
func (c *wsConn) stream(ctx context.Context, st *chatStream, cur *conversation.Cursor, view *conversation.ChatView) {
	defer c.wg.Done()
	defer cur.Close()
	defer c.forget(view.ID, st)
	if c.actor.IsVisitor() && view.State != parley.StateTerminated {
		release := c.srv.svc.VisitorConnected(ctx, view.ID)
		defer release()
	}
	if !c.send(ServerFrame{Type: frameChat, Chat: view}) {
		return
	}
	for {
		events, err := cur.Next(ctx, time.Hour)
		if err != nil {
			if ctx.Err() == nil {
				c.send(errorFrame("", err))
			}
			return
		}
		for i := range events {
			e := &events[i]
			if !c.send(ServerFrame{Type: frameEvent, Event: e}) {
				return
			}
			if e.Seq == 0 {
				continue
			}
			st.lastSent.Store(e.Seq)
			if e.Type == parley.EventState && e.State != nil && e.State.State == parley.StateTerminated {
				return // nothing follows the end of a chat
			}
			if at := st.stopAt.Load(); at > 0 && e.Seq >= at {
				return
			}
		}
	}
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
		st.stop()
	}
}

// forget drops a finished stream unless a newer one replaced it, and
// keeps its position so a later subscription resumes there.
func (c *wsConn) forget(chatID string, st *chatStream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streams[chatID] == st {
		delete(c.streams, chatID)
		if c.cursors == nil {
			c.cursors = map[string]int64{}
		}
		c.cursors[chatID] = max(c.cursors[chatID], st.lastSent.Load())
	}
}

// agentFeed forwards the agent's notices and follows newly assigned chats.
func (c *wsConn) agentFeed(feed *conversation.Subscription) {
	defer c.wg.Done()
	defer feed.Close()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-feed.Ready():
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
					return
				}
				continue
			case conversation.NoticeRevoke, conversation.NoticeAssigned, conversation.NoticeRemoved:
				c.offerGone(n.ChatID)
			}
			if !c.send(ServerFrame{Type: n.Type, ChatID: n.ChatID, Chat: n.Chat, Agent: n.Agent, Message: n.Message, Overview: n.Overview}) {
				return
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
				continue
			}
			for _, ch := range chats {
				if ch.OfferedTo == c.actor.AgentID() {
					c.sendOffer(ch)
				} else if !c.subscribed(ch.ID) {
					_ = c.subscribe(ch.ID, c.cursor(ch.ID))
				}
			}
		}
	}
}

// readLoop handles client frames until the connection ends.
func (c *wsConn) readLoop() {
	for {
		typ, data, err := c.conn.Read(c.ctx)
		if err != nil {
			return
		}
		c.hear(c.srv.now())
		if typ != websocket.MessageText {
			c.send(errorFrame("", parley.Errorf(parley.EINVALID, "frames must be text")))
			continue
		}
		f, err := decodeFrame(data)
		if err != nil {
			c.send(errorFrame("", err))
			continue
		}
		c.handle(f)
	}
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
		var e *parley.Event
		e, err = svc.Send(c.ctx, c.actor, f.ChatID, f.Text, conversation.SendOptions{ClientID: f.ClientID})
		if err == nil {
			c.send(ServerFrame{Type: frameAck, Ref: f.Ref, Event: e})
		}
	case frameTyping:
		err = svc.Typing(c.ctx, c.actor, f.ChatID, f.Typing)
	case framePing:
		c.send(ServerFrame{Type: framePong, Ref: f.Ref})
	}
	if err != nil {
		if parley.ErrorCode(err) == parley.EINTERNAL {
			c.srv.log.Error("websocket frame", "type", f.Type, "err", err)
		}
		c.send(errorFrame(f.Ref, err))
	}
}

// send writes a frame; on failure the session ends. It reports success.
func (c *wsConn) send(f ServerFrame) bool {
	data, err := json.Marshal(f)
	if err != nil {
		c.srv.log.Error("encode frame", "err", err)
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		c.cancel()
		return false
	}
	return true
}

// goingAway closes the session so the client reconnects and resumes. A
// peer that does not answer the close handshake in time is cut off.
func (c *wsConn) goingAway() {
	done := make(chan struct{})
	go func() {
		c.conn.Close(websocket.StatusGoingAway, "server restarting")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		c.conn.CloseNow()
	}
	c.cancel()
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
