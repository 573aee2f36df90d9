package storebus

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/parleychat/parley"
)

// Client is an edge node's store: every call is a request to a core
// node. It implements parley.Store, webhook.Store and
// conversation.IntegrationStore; the methods of the mail outbox and the
// webhook sender, which run on core nodes only, fail without a request.
// It appends synchronously: AppendEvents returns once a core replied
// that the events were committed.
type Client struct {
	conn   *nats.Conn
	prefix string
	inbox  string // <inbox>.<request> receives the replies
	sub    *nats.Subscription

	mu      sync.Mutex
	next    uint64
	pending map[string]*waiter
}

// waiter is a request waiting for its reply's parts.
type waiter struct {
	ch   chan *nats.Msg
	done chan struct{} // closed when the request stops waiting
}

// NewClient returns a client sending requests on conn under prefix (the
// bus prefix with its trailing dot, as natsbus.Bus.Subject gives it).
func NewClient(conn *nats.Conn, prefix string) (*Client, error) {
	c := &Client{conn: conn, prefix: prefix, inbox: conn.NewRespInbox(), pending: map[string]*waiter{}}
	sub, err := conn.Subscribe(c.inbox+".*", c.deliver)
	if err != nil {
		return nil, fmt.Errorf("storebus: subscribe: %w", err)
	}
	if err := sub.SetPendingLimits(-1, 256<<20); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("storebus: subscribe: %w", err)
	}
	c.sub = sub
	return c, nil
}

// Close stops receiving replies; the connection stays open.
func (c *Client) Close() error { return c.sub.Unsubscribe() }

// deliver hands a reply message to the request waiting for it.
func (c *Client) deliver(m *nats.Msg) {
	token := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	c.mu.Lock()
	w := c.pending[token]
	c.mu.Unlock()
	if w == nil {
		return // the request gave up
	}
	select {
	case w.ch <- m:
	case <-w.done:
	}
}

func refused(method string) error {
	return parley.Errorf(parley.EINTERNAL, "storebus: %s runs on core nodes only", method)
}

// call sends a request for method with args and decodes the results into
// outs (pointers); arguments that are pointers to structs are updated
// with what the store set in them.
func (c *Client) call(ctx context.Context, method string, args []any, outs ...any) error {
	req := request{Timeout: defaultTimeout}
	if dl, ok := ctx.Deadline(); ok {
		req.Timeout = time.Until(dl)
		if req.Timeout <= 0 {
			return context.DeadlineExceeded
		}
	}
	req.Fence, req.Fenced = parley.FenceOf(ctx)
	vals := make([]reflect.Value, len(args))
	for i, a := range args {
		vals[i] = reflect.ValueOf(a)
	}
	data, err := encode(&req, &req.Nil, vals)
	if err != nil {
		return fmt.Errorf("storebus: %s: %w", method, err)
	}
	if int64(len(data)) > c.conn.MaxPayload() {
		return parley.Errorf(parley.ETOOLARGE, "the request is larger than the bus carries (%d bytes)", c.conn.MaxPayload())
	}
	out, err := c.roundTrip(ctx, method, data, req.Timeout)
	if err != nil {
		return err
	}
	dec := gob.NewDecoder(bytes.NewReader(out))
	var rep reply
	if err := dec.Decode(&rep); err != nil {
		return fmt.Errorf("storebus: %s: bad reply: %w", method, err)
	}
	if rep.Err != nil {
		return rep.Err.err()
	}
	types := make([]reflect.Type, 0, len(outs)+len(args))
	for _, o := range outs {
		types = append(types, reflect.TypeOf(o).Elem())
	}
	var echo []reflect.Value
	for _, v := range vals {
		if echoed(v.Type()) {
			types = append(types, v.Type())
			echo = append(echo, v)
		}
	}
	got, err := decodeValues(dec, types, rep.Nil)
	if err != nil {
		return fmt.Errorf("storebus: %s: bad reply: %w", method, err)
	}
	for i, o := range outs {
		reflect.ValueOf(o).Elem().Set(got[i])
	}
	for i, v := range echo {
		if !v.IsNil() {
			copyExported(v, got[len(outs)+i])
		}
	}
	return nil
}

// roundTrip sends a request and gathers its reply's parts.
func (c *Client) roundTrip(ctx context.Context, method string, data []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w := &waiter{ch: make(chan *nats.Msg, 8), done: make(chan struct{})}
	ch := w.ch
	c.mu.Lock()
	c.next++
	token := strconv.FormatUint(c.next, 36)
	c.pending[token] = w
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, token)
		c.mu.Unlock()
		close(w.done) // a part sent meanwhile must not block the subscription
	}()
	err := c.conn.PublishMsg(&nats.Msg{Subject: c.prefix + subjectStore + method, Reply: c.inbox + "." + token, Data: data})
	if err != nil {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "the core nodes cannot be reached: %v", err)
	}
	var out []byte
	parts := 0
	for n := 0; parts == 0 || n < parts; n++ {
		var m *nats.Msg
		select {
		case m = <-ch:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, parley.Errorf(parley.EUNAVAILABLE, "no core node answered %s in time", method)
			}
			return nil, ctx.Err()
		}
		if n == 0 {
			if m.Header.Get("Status") == "503" {
				return nil, parley.Errorf(parley.EUNAVAILABLE, "no core node is answering")
			}
			parts, _ = strconv.Atoi(m.Header.Get(partsHeader))
			if parts < 1 {
				return nil, fmt.Errorf("storebus: %s: reply without its parts count", method)
			}
		}
		out = append(out, m.Data...)
	}
	return out, nil
}

// Events reads the chat's events after a seq, in pages of eventsPage, so
// that no reply holds a whole long log.
func (c *Client) Events(ctx context.Context, chatID string, after int64, limit int) ([]parley.Event, error) {
	var all []parley.Event
	for {
		n := eventsPage
		if limit > 0 {
			n = min(n, limit-len(all))
		}
		var page []parley.Event
		if err := c.call(ctx, "Events", []any{chatID, after, n}, &page); err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < n || (limit > 0 && len(all) >= limit) {
			return all, nil
		}
		after = page[len(page)-1].Seq
	}
}

// Lease is an edge node's view of the routing lease: it reads who holds
// it and never takes it.
type Lease struct{ c *Client }

// Lease returns the client's lease reader.
func (c *Client) Lease() Lease { return Lease{c} }

// TakeLease reads the lease; Held is always false. A lease never taken
// reads as no holder.
func (l Lease) TakeLease(ctx context.Context, name, _ string, _ time.Duration) (parley.LeaseState, error) {
	var st parley.LeaseState
	err := l.c.call(ctx, "LeaseState", []any{name}, &st)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		err = nil
	}
	st.Held = false
	return st, err
}

// ReleaseLease does nothing: an edge never holds the lease.
func (Lease) ReleaseLease(context.Context, string, string) error { return nil }
