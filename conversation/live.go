package conversation

import (
	"bytes"
	"context"
	"slices"
	"sync"

	"github.com/parleychat/parley"
)

// liveStore is the service's view of the store: it keeps the active chats
// of this node in memory, with their groups and visitors, so that a send,
// a typing notice or a cursor's open reads nothing from the store once a
// chat has been read. The store stays the truth:
//
//   - Only reads are answered from memory. Every write goes to the store
//     first; the entries it changes are dropped before the write returns,
//     so that a caller holding the chat's lock (lockChat) reads the new
//     state next. Appends only raise a cached chat's LastSeq.
//   - An entry is filled from a store read. A read that overlapped a write
//     of the same entry is answered but not kept, so an older state never
//     replaces a newer one.
//   - Only active chats are kept; a chat drops out when a write ends it.
//     Visitors (found by ID or token) are kept while one of their chats
//     is; groups until a write changes them.
//
// All writes of chats, groups and visitors of this node go through the
// service (and so through here). In a cluster other nodes write the same
// store: each write here is announced (changed, a cache notice on the
// bus) and other nodes' notices drop the entries they name (dropChat,
// dropGroup, dropVisitorEntry); other nodes' appends raise a cached
// chat's LastSeq from their bus events (cluster.noteChat), and a bus loss
// drops everything (dropAll). Callers get copies.
type liveStore struct {
	parley.Store

	mu     sync.Mutex
	chats  map[string]*parley.Chat
	fills  map[string]*liveFill // chats being read from the store
	groups map[int64]*parley.Group
	// visitors holds the visitors of the cached chats: refs counts a
	// visitor's cached chats, visitors its details once read.
	visitors map[string]*parley.Visitor
	refs     map[string]int
	tokens   map[string]string // a cached visitor's token hash to its ID
	// epoch changes whenever a group or visitor entry is dropped: a
	// group or visitor read that started before is not kept.
	epoch uint64
	// pending counts each chat's queued appends that have not completed;
	// drained is closed when a chat's count drops to zero.
	pending map[string]*pendingAppends

	// changed, when set (a cluster), announces a write to other nodes.
	changed func(cacheNotice)
}

// pendingAppends is a chat's queued, not yet completed appends.
type pendingAppends struct {
	n       int
	drained chan struct{}
}

// asyncAppender is a store that queues an append and reports its commit
// later: done is called once per append, on one goroutine, in commit
// order (sqlite.Store). Stores without it append synchronously.
type asyncAppender interface {
	AppendEventsAsync(ctx context.Context, chatID string, events []parley.Event, done func([]parley.Event, error))
}

// liveFill tracks the store reads of one chat in progress; stale is set
// when the chat was written meanwhile.
type liveFill struct {
	n     int
	stale bool
}

func newLiveStore(s parley.Store) *liveStore {
	return &liveStore{
		Store:    s,
		chats:    map[string]*parley.Chat{},
		fills:    map[string]*liveFill{},
		groups:   map[int64]*parley.Group{},
		visitors: map[string]*parley.Visitor{},
		refs:     map[string]int{},
		tokens:   map[string]string{},
		pending:  map[string]*pendingAppends{},
	}
}

// Chat returns the chat from memory when it is active and cached, else
// from the store.
func (l *liveStore) Chat(ctx context.Context, id string) (*parley.Chat, error) {
	l.mu.Lock()
	if c, ok := l.chats[id]; ok {
		c = cloneChat(c) // under the lock: appends change LastSeq in place
		l.mu.Unlock()
		return c, nil
	}
	f := l.fills[id]
	if f == nil {
		f = &liveFill{}
		l.fills[id] = f
	}
	f.n++
	l.mu.Unlock()

	c, err := l.Store.Chat(ctx, id)

	l.mu.Lock()
	defer l.mu.Unlock()
	if f.n--; f.n == 0 {
		delete(l.fills, id)
	}
	if err != nil || f.stale || !c.Active() {
		return c, err
	}
	if _, ok := l.chats[id]; !ok {
		l.chats[id] = cloneChat(c)
		l.refs[c.VisitorID]++
	}
	return c, nil
}

// UpdateChat writes the chat and drops its entry: the next read loads
// what the store holds. The chat's queued appends complete first, so that
// the update's events follow them in the log and on the bus.
func (l *liveStore) UpdateChat(ctx context.Context, c *parley.Chat, events []parley.Event) ([]parley.Event, error) {
	if err := l.drain(ctx, c.ID); err != nil {
		return nil, err
	}
	stored, err := l.Store.UpdateChat(ctx, c, events)
	l.mu.Lock()
	l.dropChatLocked(c.ID)
	l.mu.Unlock()
	l.announce(cacheNotice{Chat: c.ID})
	return stored, err
}

// AppendEvents appends and moves a cached chat's LastSeq, after the chat's
// queued appends have completed (so its events are published after
// theirs).
func (l *liveStore) AppendEvents(ctx context.Context, chatID string, events []parley.Event) ([]parley.Event, error) {
	if err := l.drain(ctx, chatID); err != nil {
		return nil, err
	}
	stored, err := l.Store.AppendEvents(ctx, chatID, events)
	l.appended(chatID, stored, err)
	return stored, err
}

// appendAsync queues an append and calls done with its outcome once it is
// committed, after the chat's earlier appends. Callers hold the chat's
// lock while queueing, so a chat's appends complete in the order queued;
// done runs on the store's completer goroutine and must neither block nor
// take a chat's lock. Without an asynchronous store the append is made
// here and done called before appendAsync returns.
func (l *liveStore) appendAsync(ctx context.Context, chatID string, events []parley.Event, done func([]parley.Event, error)) {
	as, ok := l.Store.(asyncAppender)
	if !ok {
		stored, err := l.AppendEvents(ctx, chatID, events)
		done(stored, err)
		return
	}
	l.mu.Lock()
	p := l.pending[chatID]
	if p == nil {
		p = &pendingAppends{drained: make(chan struct{})}
		l.pending[chatID] = p
	}
	p.n++
	l.mu.Unlock()
	as.AppendEventsAsync(ctx, chatID, events, func(stored []parley.Event, err error) {
		l.appended(chatID, stored, err)
		done(stored, err)
		l.mu.Lock()
		if p.n--; p.n == 0 {
			delete(l.pending, chatID)
			close(p.drained)
		}
		l.mu.Unlock()
	})
}

// drain waits until the chat's queued appends have completed.
func (l *liveStore) drain(ctx context.Context, chatID string) error {
	for {
		l.mu.Lock()
		p := l.pending[chatID]
		l.mu.Unlock()
		if p == nil {
			return nil
		}
		select {
		case <-p.drained:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// appended moves a cached chat's LastSeq after an append, or drops the
// entry when the append failed (whether anything was stored is not known).
func (l *liveStore) appended(chatID string, stored []parley.Event, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.fills[chatID]; f != nil {
		f.stale = true
	}
	if c, ok := l.chats[chatID]; ok {
		if err != nil {
			l.dropChatLocked(chatID)
		} else {
			for _, e := range stored {
				c.LastSeq = max(c.LastSeq, e.Seq)
			}
		}
	}
}

func (l *liveStore) dropChatLocked(id string) {
	if f := l.fills[id]; f != nil {
		f.stale = true
	}
	c, ok := l.chats[id]
	if !ok {
		return
	}
	delete(l.chats, id)
	if l.refs[c.VisitorID]--; l.refs[c.VisitorID] <= 0 {
		delete(l.refs, c.VisitorID)
		l.dropVisitorLocked(c.VisitorID)
	}
}

// putVisitorLocked keeps v (a store read that started at epoch) if one
// of its chats is cached and no visitor or group was written since.
func (l *liveStore) putVisitorLocked(v *parley.Visitor, epoch uint64) {
	if l.epoch != epoch || l.refs[v.ID] == 0 {
		return
	}
	l.dropVisitorLocked(v.ID)
	l.visitors[v.ID] = cloneVisitor(v)
	if len(v.TokenHash) > 0 {
		l.tokens[string(v.TokenHash)] = v.ID
	}
}

func (l *liveStore) dropVisitorLocked(id string) {
	if v, ok := l.visitors[id]; ok {
		delete(l.tokens, string(v.TokenHash))
		delete(l.visitors, id)
	}
}

// Group returns the group from memory once read.
func (l *liveStore) Group(ctx context.Context, id int64) (*parley.Group, error) {
	l.mu.Lock()
	if g, ok := l.groups[id]; ok {
		g = cloneGroup(g)
		l.mu.Unlock()
		return g, nil
	}
	epoch := l.epoch
	l.mu.Unlock()
	g, err := l.Store.Group(ctx, id)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.epoch == epoch {
		l.groups[id] = cloneGroup(g)
	}
	l.mu.Unlock()
	return g, nil
}

// UpdateGroup writes the group and drops its entry.
func (l *liveStore) UpdateGroup(ctx context.Context, g *parley.Group) error {
	err := l.Store.UpdateGroup(ctx, g)
	l.dropGroup(g.ID)
	l.announce(cacheNotice{Group: g.ID})
	return err
}

// DeleteGroup deletes the group and forgets it here and on the other
// nodes.
func (l *liveStore) DeleteGroup(ctx context.Context, id int64) error {
	err := l.Store.DeleteGroup(ctx, id)
	l.dropGroup(id)
	l.announce(cacheNotice{Group: id})
	return err
}

// DeleteTenant deletes the tenant and forgets its groups here and on the
// other nodes.
func (l *liveStore) DeleteTenant(ctx context.Context, id int64) error {
	groups, err := l.Store.Groups(ctx, id)
	if err != nil {
		return err
	}
	err = l.Store.DeleteTenant(ctx, id)
	for _, g := range groups {
		l.dropGroup(g.ID)
		l.announce(cacheNotice{Group: g.ID})
	}
	return err
}

// Visitor returns the visitor from memory while one of its chats is
// cached.
func (l *liveStore) Visitor(ctx context.Context, id string) (*parley.Visitor, error) {
	l.mu.Lock()
	if v, ok := l.visitors[id]; ok {
		v = cloneVisitor(v)
		l.mu.Unlock()
		return v, nil
	}
	epoch := l.epoch
	l.mu.Unlock()
	v, err := l.Store.Visitor(ctx, id)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.putVisitorLocked(v, epoch)
	l.mu.Unlock()
	return v, nil
}

// VisitorByToken answers a visitor's credential from memory while one of
// its chats is cached: a session's open reads no visitor. A token never
// changes, so the hash finds the same visitor as the store would.
func (l *liveStore) VisitorByToken(ctx context.Context, tokenHash []byte) (*parley.Visitor, error) {
	l.mu.Lock()
	if id, ok := l.tokens[string(tokenHash)]; ok {
		if v := l.visitors[id]; v != nil && bytes.Equal(v.TokenHash, tokenHash) {
			v = cloneVisitor(v)
			l.mu.Unlock()
			return v, nil
		}
	}
	epoch := l.epoch
	l.mu.Unlock()
	v, err := l.Store.VisitorByToken(ctx, tokenHash)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.putVisitorLocked(v, epoch)
	l.mu.Unlock()
	return v, nil
}

// UpdateVisitor writes the visitor's details and drops its entry.
func (l *liveStore) UpdateVisitor(ctx context.Context, v *parley.Visitor) error {
	err := l.Store.UpdateVisitor(ctx, v)
	l.dropVisitorEntry(v.ID)
	l.announce(cacheNotice{Visitor: v.ID})
	return err
}

func (l *liveStore) announce(n cacheNotice) {
	if l.changed != nil {
		l.changed(n)
	}
}

// dropChat forgets a chat another node wrote.
func (l *liveStore) dropChat(id string) {
	l.mu.Lock()
	l.dropChatLocked(id)
	l.mu.Unlock()
}

// dropGroup forgets a group (written here or by another node).
func (l *liveStore) dropGroup(id int64) {
	l.mu.Lock()
	delete(l.groups, id)
	l.epoch++
	l.mu.Unlock()
}

// dropVisitorEntry forgets a visitor's details (written here or by
// another node).
func (l *liveStore) dropVisitorEntry(id string) {
	l.mu.Lock()
	l.dropVisitorLocked(id)
	l.epoch++
	l.mu.Unlock()
}

// dropAll forgets everything: notices of other nodes' writes may have
// been lost.
func (l *liveStore) dropAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range l.chats {
		l.dropChatLocked(id)
	}
	for _, f := range l.fills {
		f.stale = true
	}
	clear(l.groups)
	l.epoch++
}

func cloneChat(c *parley.Chat) *parley.Chat {
	out := *c
	out.Participants = slices.Clone(c.Participants)
	return &out
}

func cloneGroup(g *parley.Group) *parley.Group {
	out := *g
	for _, p := range []**int{&out.Limits.MaxMessageLength, &out.Limits.MaxAttachmentKB,
		&out.Limits.IdleTimeoutSeconds, &out.Limits.Capacity} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	out.Routing.Hours = slices.Clone(g.Routing.Hours)
	out.Routing.Holidays = slices.Clone(g.Routing.Holidays)
	return &out
}

func cloneVisitor(v *parley.Visitor) *parley.Visitor {
	out := *v
	out.TokenHash = bytes.Clone(v.TokenHash)
	return &out
}
