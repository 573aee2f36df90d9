package rocketchat

import (
	"crypto/rand"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// A Rocket.Chat widget chooses its visitor token itself and registers the
// guest before any chat exists, while Parley hands out a visitor token
// with the first chat. guests joins the two: per Rocket.Chat token, the
// guest's details and, once a chat was requested, Parley's visitor token
// and the current chat. The registry lives in this node's memory, like
// MiCC's cursors; a guest unseen for guestTTL is forgotten.

const (
	guestTTL  = 24 * time.Hour
	maxGuests = 200_000
	// maxToken bounds a Rocket.Chat visitor token.
	maxToken = 200
)

// guest is one registered Rocket.Chat visitor.
type guest struct {
	mu         sync.Mutex
	id         string // the visitor's _id (Rocket.Chat's userId)
	token      string // the Rocket.Chat token
	username   string // guest-N
	name       string
	email      string
	phone      string
	department string // the department id (a group id)
	status     string
	created    time.Time
	seen       time.Time
	custom     map[string]string
	// ptoken is Parley's visitor token, empty until the first chat.
	ptoken string
	actor  conversation.Actor
	// rid is the visitor's current (or last) chat; aliases maps room ids
	// a legacy client chose to Parley chat ids.
	rid     string
	aliases map[string]string
}

// snapshot is a copy of a guest's fields, read under its lock.
type snapshot struct {
	ID, Token, Username, Name, Email, Phone, Department, Status string
	Created                                                     time.Time
	Custom                                                      map[string]string
	Actor                                                       conversation.Actor
	HasActor                                                    bool
	RID                                                         string
}

func (g *guest) snap() snapshot {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := snapshot{ID: g.id, Token: g.token, Username: g.username, Name: g.name, Email: g.email, Phone: g.phone,
		Department: g.department, Status: g.status, Created: g.created, Actor: g.actor, HasActor: g.ptoken != "", RID: g.rid}
	if len(g.custom) > 0 {
		s.Custom = make(map[string]string, len(g.custom))
		for k, v := range g.custom {
			s.Custom[k] = v
		}
	}
	return s
}

// chatID returns the Parley chat a room id names for this guest: the
// current chat, an alias a legacy client chose, or rid itself.
func (g *guest) chatID(rid string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if id, ok := g.aliases[rid]; ok {
		return id
	}
	return rid
}

// guests is the registry.
type guests struct {
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]*guest
	seq   int64
	swept time.Time
}

func newGuests(now func() time.Time) *guests {
	return &guests{now: now, m: map[string]*guest{}}
}

// checkToken validates a Rocket.Chat visitor token.
func checkToken(tok string) error {
	if tok == "" {
		return rcErr(parley.EINVALID, "error-invalid-token", "Invalid token")
	}
	if len(tok) > maxToken || !utf8.ValidString(tok) || strings.ContainsFunc(tok, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return rcErr(parley.EINVALID, "error-invalid-token", "Invalid token")
	}
	return nil
}

// get returns the guest of a token, or nil.
func (gs *guests) get(tok string) *guest {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	g := gs.m[tok]
	if g != nil {
		g.mu.Lock()
		g.seen = gs.now()
		g.mu.Unlock()
	}
	return g
}

// upsert returns the guest of a token, registering it when new.
func (gs *guests) upsert(tok string) (*guest, bool, error) {
	if err := checkToken(tok); err != nil {
		return nil, false, err
	}
	now := gs.now()
	gs.mu.Lock()
	defer gs.mu.Unlock()
	if g := gs.m[tok]; g != nil {
		g.mu.Lock()
		g.seen = now
		g.mu.Unlock()
		return g, false, nil
	}
	if len(gs.m) >= maxGuests || now.Sub(gs.swept) > time.Hour {
		gs.sweep(now)
	}
	if len(gs.m) >= maxGuests && !gs.evictIdle() {
		return nil, false, parley.Errorf(parley.EUNAVAILABLE, "too many guests are registered; try again later")
	}
	gs.seq++
	g := &guest{id: randomID(17), token: tok, username: "guest-" + strconv.FormatInt(gs.seq, 10),
		status: "online", created: now, seen: now}
	gs.m[tok] = g
	return g, true, nil
}

// sweep forgets guests unseen for guestTTL; gs.mu is held.
func (gs *guests) sweep(now time.Time) {
	gs.swept = now
	for tok, g := range gs.m {
		g.mu.Lock()
		old := now.Sub(g.seen) > guestTTL
		g.mu.Unlock()
		if old {
			delete(gs.m, tok)
		}
	}
}

// evictIdle forgets the guest seen longest ago among those that never
// started a chat, so a flood of registrations cannot lock out visitors
// with chats; gs.mu is held. It reports whether one was forgotten.
func (gs *guests) evictIdle() bool {
	var oldest string
	var at time.Time
	for tok, g := range gs.m {
		g.mu.Lock()
		idle, seen := g.ptoken == "", g.seen
		g.mu.Unlock()
		if idle && (oldest == "" || seen.Before(at)) {
			oldest, at = tok, seen
		}
	}
	if oldest == "" {
		return false
	}
	delete(gs.m, oldest)
	return true
}

// remove forgets a guest.
func (gs *guests) remove(tok string) {
	gs.mu.Lock()
	delete(gs.m, tok)
	gs.mu.Unlock()
}

const idChars = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"

// randomID returns a Meteor-style random id of n characters.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b)
}

// actorOf returns the guest's Parley visitor, and false while the guest
// has had no chat yet.
func (h *Handler) actorOf(g *guest) (conversation.Actor, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.actor, g.ptoken != ""
}
