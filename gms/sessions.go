package gms

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// maxLog bounds the translated messages a session keeps; a client that
// asks for older ones is answered from the store.
const maxLog = 2000

// session is one client's place in one chat on this node: who it is, a
// cursor over the chat's log, and the log translated so far. Requests of
// one session are served one at a time (mu).
type session struct {
	h       *Handler
	chatID  string
	service string
	actor   conversation.Actor
	key     [32]byte // SHA-256 of the secureKey

	mu      sync.Mutex
	cur     *conversation.Cursor
	log     []entry // oldest first
	n       uint64  // entries ever added; entry.n counts from 1
	lastSeq int64   // the last stored event translated
	parties map[partyKey]int
	ended   bool
	agent   bool // an agent has joined (and not all have left)
	// REST: the last ephemeral entry a refresh returned.
	restN uint64
	// File quotas: uploads and their bytes come from the log, downloads
	// are counted here.
	downloads int
	view      *conversation.ChatView // the chat as of the drain in progress, read once
	used      time.Time
	closed    bool

	cmu    sync.Mutex
	comets map[*comet]struct{} // CometD clients following the chat
}

// entry is one translated message; ephemeral ones (typing, queue
// position) are delivered once to each reader, not by index.
type entry struct {
	n   uint64
	eph bool
	msg Message
}

// sessions are this node's sessions, by chat and by secureKey.
type sessions struct {
	h     *Handler
	ttl   time.Duration
	mu    sync.Mutex
	chats map[string]*session
	keys  map[[32]byte]*session
	swept time.Time
}

func newSessions(h *Handler, ttl time.Duration) *sessions {
	return &sessions{h: h, ttl: ttl, chats: map[string]*session{}, keys: map[[32]byte]*session{}, swept: time.Now()}
}

func hashKey(key string) [32]byte { return sha256.Sum256([]byte(key)) }

// errNoSession hides whether a chat exists from whoever does not hold its
// secureKey.
var errNoSession = &gmsError{code: CodeNoSession, status: http.StatusNotFound,
	err: parley.Errorf(parley.ENOTFOUND, "no chat with this chatId and secureKey")}

// open returns the session of chatID for the holder of key. A wrong key
// for a session this node knows removes that chat's client, as Genesys
// Chat Server does against hijacking, and is refused. Every call counts
// as the client's activity (flex-disconnect-timeout).
func (ss *sessions) open(ctx context.Context, chatID, key string) (*session, error) {
	if key == "" {
		return nil, &gmsError{code: CodeInvalid, status: http.StatusBadRequest, err: parley.Errorf(parley.EINVALID, "secureKey is required")}
	}
	if chatID == "" || len(chatID) > 100 {
		return nil, errNoSession
	}
	hk := hashKey(key)
	ss.mu.Lock()
	s := ss.chats[chatID]
	ss.mu.Unlock()
	if s != nil {
		if subtle.ConstantTimeCompare(s.key[:], hk[:]) != 1 {
			ss.evict(ctx, s)
			return nil, &gmsError{code: CodeBadKey, status: http.StatusUnauthorized, chatEnded: true,
				err: parley.Errorf(parley.EUNAUTHORIZED, "wrong secureKey; the chat's client was removed")}
		}
		s.touch(ctx)
		return s, nil
	}
	actor, err := ss.h.svc.Authenticate(ctx, key)
	switch {
	case parley.ErrorCode(err) == parley.EUNAUTHORIZED, err == nil && !actor.IsVisitor():
		return nil, errNoSession
	case err != nil:
		return nil, err
	}
	view, err := ss.h.svc.Chat(ctx, actor, chatID)
	switch parley.ErrorCode(err) {
	case "":
	case parley.ENOTFOUND:
		return nil, errNoSession
	case parley.EFORBIDDEN:
		// Another client's key: this node cannot remove the chat's own
		// client without its session, so it only refuses.
		return nil, &gmsError{code: CodeBadKey, status: http.StatusUnauthorized, err: parley.Errorf(parley.EUNAUTHORIZED, "wrong secureKey")}
	default:
		return nil, err
	}
	s, err = ss.add(ctx, actor, view, key, "")
	if err != nil {
		return nil, err
	}
	s.touch(ctx)
	return s, nil
}

// byKey returns the session of a secureKey, for requests without a chatId
// (chat-ntf, CometD): the one this node has, else the key's newest active
// chat.
func (ss *sessions) byKey(ctx context.Context, key string) (*session, error) {
	if key == "" {
		return nil, &gmsError{code: CodeInvalid, status: http.StatusBadRequest, err: parley.Errorf(parley.EINVALID, "secureKey is required")}
	}
	ss.mu.Lock()
	s := ss.keys[hashKey(key)]
	ss.mu.Unlock()
	if s != nil {
		s.touch(ctx)
		return s, nil
	}
	actor, err := ss.h.svc.Authenticate(ctx, key)
	switch {
	case parley.ErrorCode(err) == parley.EUNAUTHORIZED, err == nil && !actor.IsVisitor():
		return nil, errNoSession
	case err != nil:
		return nil, err
	}
	chats, err := ss.h.svc.VisitorChats(ctx, actor)
	if err != nil {
		return nil, err
	}
	if len(chats) == 0 {
		return nil, &gmsError{code: CodeLoggedOut, status: http.StatusBadRequest, chatEnded: true, err: parley.Errorf(parley.ECLOSED, "the chat has ended")}
	}
	return ss.open(ctx, chats[len(chats)-1].ID, key)
}

// add makes the session of a chat the client may read.
func (ss *sessions) add(ctx context.Context, actor conversation.Actor, view *conversation.ChatView, key, service string) (*session, error) {
	cur, err := ss.h.svc.OpenCursor(ctx, actor, view.ID, 0)
	if err != nil {
		return nil, err
	}
	s := &session{h: ss.h, chatID: view.ID, service: service, actor: actor, key: hashKey(key), cur: cur,
		parties: map[partyKey]int{}, used: time.Now(), comets: map[*comet]struct{}{}}
	now := time.Now()
	ss.mu.Lock()
	if old := ss.chats[view.ID]; old != nil {
		// Another request made it meanwhile.
		ss.mu.Unlock()
		cur.Close()
		return old, nil
	}
	ss.chats[view.ID] = s
	ss.keys[s.key] = s
	var stale []*session
	if now.Sub(ss.swept) > ss.ttl/4 {
		ss.swept = now
		for id, o := range ss.chats {
			if o.idle(now, ss.ttl) {
				delete(ss.chats, id)
				if ss.keys[o.key] == o {
					delete(ss.keys, o.key)
				}
				stale = append(stale, o)
			}
		}
	}
	ss.mu.Unlock()
	for _, o := range stale {
		o.close()
	}
	// Wake the CometD clients following the chat when events arrive.
	cur.Notify(s.kick)
	return s, nil
}

// evict removes the chat's client after a wrong secureKey: the visitor
// leaves the chat, and the session is forgotten.
func (ss *sessions) evict(ctx context.Context, s *session) {
	ss.remove(s)
	if err := ss.h.svc.Leave(context.WithoutCancel(ctx), s.actor, s.chatID); err != nil {
		ss.h.log.Warn("gms: remove client after a wrong secureKey", "chat", s.chatID, "err", err)
	}
	s.close()
}

func (ss *sessions) remove(s *session) {
	ss.mu.Lock()
	if ss.chats[s.chatID] == s {
		delete(ss.chats, s.chatID)
	}
	if ss.keys[s.key] == s {
		delete(ss.keys, s.key)
	}
	ss.mu.Unlock()
}

// count returns the number of sessions in memory.
func (ss *sessions) count() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.chats)
}

// touch records the client's activity: its presence in the chat lasts
// the poll grace more (conversation's presence lease).
func (s *session) touch(ctx context.Context) {
	s.h.svc.VisitorPolled(ctx, s.chatID)()
	s.mu.Lock()
	s.used = time.Now()
	s.mu.Unlock()
}

func (s *session) idle(now time.Time, ttl time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return now.Sub(s.used) > ttl && len(s.comets) == 0
}

func (s *session) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.cur.Close()
	}
}

// kick wakes the CometD clients following the chat (on the bus's
// goroutine: it must not block).
func (s *session) kick() {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for c := range s.comets {
		c.kick()
	}
}

// drain translates what the cursor has waiting; it reads the store only
// when the cursor needs to (its start, a gap). s.mu is held.
func (s *session) drain(ctx context.Context) error {
	if s.closed {
		return errNoSession
	}
	s.view = nil
	for {
		events, err := s.cur.TryNext(ctx)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		s.add(ctx, events)
	}
}

// waitFor drains until the stored event seq has been translated: the
// bus may bring a just-sent event a moment after the send returned.
func (s *session) waitFor(ctx context.Context, seq int64) error {
	if err := s.drain(ctx); err != nil {
		return err
	}
	for s.lastSeq < seq {
		events, err := s.cur.Next(ctx, 5*time.Second)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		s.add(ctx, events)
	}
	return nil
}

func (s *session) add(ctx context.Context, events []parley.Event) {
	for i := range events {
		e := &events[i]
		for _, m := range s.translate(ctx, e) {
			s.n++
			s.log = append(s.log, entry{n: s.n, eph: e.Seq == 0, msg: m})
		}
		if e.Seq > 0 {
			s.lastSeq = e.Seq
		}
	}
	if over := len(s.log) - maxLog; over > 0 {
		s.log = append(s.log[:0:0], s.log[over:]...)
	}
}

// next is the nextPosition: the index after the last stored event read.
func (s *session) next() int64 { return s.lastSeq + 1 }

// since returns the stored messages with index at least pos (none for pos
// 0) and the ephemeral ones after ephemeral entry ephN, and the last
// entry number. Messages older than the kept log are read again from
// the store.
func (s *session) since(ctx context.Context, pos int64, ephN uint64) ([]Message, uint64, error) {
	out := []Message{}
	if pos > 0 && len(s.log) > 0 && s.log[0].n > 1 && firstStored(s.log) > pos {
		older, err := s.older(ctx, pos, firstStored(s.log))
		if err != nil {
			return nil, ephN, err
		}
		out = append(out, older...)
	}
	for _, e := range s.log {
		switch {
		case e.eph && e.n > ephN:
			out = append(out, e.msg)
		case !e.eph && pos > 0 && e.msg.Index >= pos:
			out = append(out, e.msg)
		}
	}
	return out, s.n, nil
}

func firstStored(log []entry) int64 {
	for _, e := range log {
		if !e.eph {
			return e.msg.Index
		}
	}
	return 1 << 62
}

// older translates the stored events from index pos up to (not
// including) index until from the store.
func (s *session) older(ctx context.Context, pos, until int64) ([]Message, error) {
	var out []Message
	after := pos - 1
	for after < until-1 {
		events, last, err := s.h.svc.Poll(ctx, s.actor, s.chatID, after, 0)
		if err != nil {
			return nil, err
		}
		if last <= after {
			break
		}
		for i := range events {
			if events[i].Seq < until {
				out = append(out, s.translateOld(&events[i])...)
			}
		}
		after = last
	}
	return out, nil
}
