// Package natsbus carries Parley's notifications over NATS: chat events to
// every node that has a listener for the chat, offers to agents' consoles.
//
// By default it runs a NATS server inside the process with no TCP port and
// talks to it in-process. Given a URL it connects to an external NATS
// cluster instead, and the rest of Parley does not notice the difference.
//
// The bus is a doorbell, not the record: events are stored before they are
// published, and a subscriber that sees a gap reads the store.
package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Options configure Open.
type Options struct {
	// URL of an external NATS server or cluster (comma-separated). Empty
	// runs an embedded server without a TCP port.
	URL string
	// Name identifies this node's connection in NATS monitoring.
	Name string
	// Prefix, when set, is put before every subject (Prefix + "." +
	// subject) and taken off what is received, so that several Parley
	// clusters (or tests) can share one NATS cluster.
	Prefix string
	// Logger receives connection state changes; nil discards them.
	Logger *slog.Logger
}

// Bus is a connection to NATS, with the embedded server when it owns one.
type Bus struct {
	server *server.Server // nil with an external URL
	conn   *nats.Conn
	log    *slog.Logger
	prefix string // with its trailing dot; "" without a prefix

	mu   sync.Mutex
	lost map[*nats.Subscription]func() // loss handlers of the subscriptions

	// Handlers hold handling for reading while they run; Close takes it
	// for writing, so no handler runs after Close returns.
	handling sync.RWMutex
	closing  bool
}

// Open starts the embedded server (when opts.URL is empty) and connects.
func Open(ctx context.Context, opts Options) (*Bus, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{log: log, lost: map[*nats.Subscription]func(){}}
	if opts.Prefix != "" {
		b.prefix = opts.Prefix + "."
	}
	name := opts.Name
	if name == "" {
		name = "parley"
	}
	copts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("nats reconnected", "url", c.ConnectedUrlRedacted())
			// What was published while disconnected never arrives.
			b.lostAll()
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			// A slow listener loses notifications and resyncs from the
			// store; say so, since it means the node is overloaded.
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Warn("nats", "subject", subject, "err", err)
			if sub != nil && errors.Is(err, nats.ErrSlowConsumer) {
				b.mu.Lock()
				fn := b.lost[sub]
				b.mu.Unlock()
				if fn != nil {
					fn()
				}
			}
		}),
	}
	url := opts.URL
	if url == "" {
		ns, err := server.NewServer(&server.Options{
			ServerName: name,
			DontListen: true,
			NoSigs:     true,
			NoLog:      true,
			// Chat events are small; a larger payload means a bug.
			MaxPayload: 1 << 20,
		})
		if err != nil {
			return nil, fmt.Errorf("natsbus: embedded server: %w", err)
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			ns.Shutdown()
			return nil, errors.New("natsbus: embedded server did not start")
		}
		b.server = ns
		copts = append(copts, nats.InProcessServer(ns))
	}
	conn, err := nats.Connect(url, copts...)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("natsbus: connect: %w", err)
	}
	b.conn = conn
	if err := ctx.Err(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Publish sends data on subject. It returns once NATS has taken the
// message; delivery to subscribers is asynchronous.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.conn.Publish(b.prefix+subject, data); err != nil {
		return fmt.Errorf("natsbus: publish %s: %w", subject, err)
	}
	return nil
}

// Subscribe calls fn with every message published on a subject matching
// pattern (NATS wildcards allowed) from now on, one at a time and in
// order, until the returned function is called. lost is called when
// messages were dropped: the subscriber fell behind, or the connection
// was lost and came back.
func (b *Bus) Subscribe(pattern string, fn func(subject string, data []byte), lost func()) (unsubscribe func() error, err error) {
	sub, err := b.conn.Subscribe(b.prefix+pattern, func(m *nats.Msg) {
		b.handling.RLock()
		defer b.handling.RUnlock()
		if !b.closing {
			fn(strings.TrimPrefix(m.Subject, b.prefix), m.Data)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: subscribe %s: %w", pattern, err)
	}
	// A slow subscriber must not stall NATS for everyone; its pending
	// limit is generous because listeners resync from the store on loss.
	if err := sub.SetPendingLimits(1<<20, 256<<20); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("natsbus: subscribe %s: %w", pattern, err)
	}
	if lost != nil {
		b.mu.Lock()
		b.lost[sub] = lost
		b.mu.Unlock()
	}
	return func() error {
		b.mu.Lock()
		delete(b.lost, sub)
		b.mu.Unlock()
		return sub.Unsubscribe()
	}, nil
}

// Request sends data on subject and returns the first reply. With
// nobody serving the subject it fails at once (nats.ErrNoResponders).
func (b *Bus) Request(ctx context.Context, subject string, data []byte) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	m, err := b.conn.RequestWithContext(ctx, b.prefix+subject, data)
	if err != nil {
		return nil, fmt.Errorf("natsbus: request %s: %w", subject, err)
	}
	return m.Data, nil
}

// Handle answers the requests sent on subject with what fn returns, one
// at a time, until the returned function is called.
func (b *Bus) Handle(subject string, fn func(data []byte) []byte) (unsubscribe func() error, err error) {
	sub, err := b.conn.Subscribe(b.prefix+subject, func(m *nats.Msg) {
		b.handling.RLock()
		defer b.handling.RUnlock()
		if b.closing || m.Reply == "" {
			return
		}
		if err := m.Respond(fn(m.Data)); err != nil {
			b.log.Warn("nats respond", "subject", subject, "err", err)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("natsbus: handle %s: %w", subject, err)
	}
	// The caller is told the interest is in effect only once NATS has it.
	if err := b.Flush(context.Background()); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	return sub.Unsubscribe, nil
}

// Connected reports whether the bus is connected now.
func (b *Bus) Connected() bool { return b.conn.IsConnected() }

// lostAll tells every subscriber that messages were dropped.
func (b *Bus) lostAll() {
	b.mu.Lock()
	fns := make([]func(), 0, len(b.lost))
	for _, fn := range b.lost {
		fns = append(fns, fn)
	}
	b.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// Flush waits until NATS has processed everything published so far, so a
// subscription made before Flush sees every later message.
func (b *Bus) Flush(ctx context.Context) error {
	// NATS needs a deadline; bound an open-ended wait.
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	return b.conn.FlushWithContext(ctx)
}

// Ping reports whether the bus is connected.
func (b *Bus) Ping(ctx context.Context) error {
	if !b.conn.IsConnected() {
		return errors.New("natsbus: not connected")
	}
	return b.Flush(ctx)
}

// Close flushes what was published, waits for running handlers, closes
// the connection and stops the embedded server. No handler runs after it.
//
// It does not use the client's Drain: Drain and FlushTimeout take timers
// from a pool shared by the whole process, which mixes timers of
// testing/synctest bubbles with others; FlushWithContext uses none.
func (b *Bus) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err := b.conn.FlushWithContext(ctx)
	cancel()
	if errors.Is(err, nats.ErrConnectionClosed) {
		err = nil
	}
	b.handling.Lock()
	b.closing = true
	b.handling.Unlock()
	b.conn.Close()
	b.shutdownServer()
	return err
}

func (b *Bus) shutdownServer() {
	if b.server != nil {
		b.server.Shutdown()
		b.server.WaitForShutdown()
	}
}

// Conn is the bus's NATS connection, for packages that use NATS beyond
// publish and request (storebus sends replies in several messages).
// Subjects on it must be given the prefix: see Subject.
func (b *Bus) Conn() *nats.Conn { return b.conn }

// Subject returns subject under the bus's prefix.
func (b *Bus) Subject(subject string) string { return b.prefix + subject }
