package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// holder keeps idle sessions open, reading (and so answering pings) until
// stopped. A session that ends before that is an unexpected close.
type holder struct {
	rec      *recorder
	mu       sync.Mutex
	conns    []*websocket.Conn
	open     atomic.Int64
	stopping atomic.Bool
	wg       sync.WaitGroup
}

func (h *holder) keep(ctx context.Context, c *websocket.Conn) {
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()
	h.open.Add(1)
	h.wg.Go(func() {
		defer h.open.Add(-1)
		for {
			if _, _, err := c.Read(ctx); err != nil {
				if !h.stopping.Load() && ctx.Err() == nil {
					h.rec.add("unexpected_closes", 1)
					h.rec.fail(errKind("unexpected close", err))
				}
				return
			}
			h.rec.add("frames_while_idle", 1)
		}
	})
}

// closeAll closes every session normally.
func (h *holder) closeAll() {
	h.stopping.Store(true)
	h.mu.Lock()
	conns := h.conns
	h.conns = nil
	h.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, c := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if c.Close(websocket.StatusNormalClosure, "") != nil {
				c.CloseNow()
			}
		})
	}
	wg.Wait()
	h.wg.Wait()
}

// runIdle ramps idle visitors to -base and -visitors, samples the server
// at both, and holds them.
func runIdle(ctx context.Context, cfg *config, stderr io.Writer, b barrier) (*Result, error) {
	rec := newRecorder()
	open, err := idleOpener(ctx, cfg, rec)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	total := share(cfg.visitors, cfg.procs, cfg.child)
	base := min(share(cfg.base, cfg.procs, cfg.child), total)
	h := &holder{rec: rec}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer h.closeAll()
	ramp := func(n int) error {
		var wg sync.WaitGroup
		var failed atomic.Int64
		sem := make(chan struct{}, cfg.conc)
		for range n {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				conn, took, err := open(ctx)
				if err != nil {
					failed.Add(1)
					return
				}
				rec.hist("open").Record(took)
				rec.add("opened", 1)
				h.keep(hctx, conn)
			})
		}
		wg.Wait()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if f := failed.Load(); f > 0 {
			progress(stderr, "%d of %d visitors failed to open", f, n)
		}
		return nil
	}
	sample := func(name string, settle bool) error {
		return b(ctx, name, h.open.Load(), settle)
	}
	if err := sample("empty", false); err != nil {
		return nil, err
	}
	if base > 0 {
		if err := ramp(base); err != nil {
			return nil, err
		}
		if err := sample("base", true); err != nil {
			return nil, err
		}
	}
	rampStart := time.Now()
	if err := ramp(total - base); err != nil {
		return nil, err
	}
	if el := time.Since(rampStart).Seconds(); el > 0 {
		progress(stderr, "ramped %d visitors in %.1f s", total-base, el)
	}
	if err := sample("full", true); err != nil {
		return nil, err
	}
	if err := sample("hold-start", false); err != nil {
		return nil, err
	}
	holdStart := time.Now()
	if err := waitWithContext(ctx, cfg.hold); err != nil {
		return nil, err
	}
	held := time.Since(holdStart)
	if err := sample("hold-end", false); err != nil {
		return nil, err
	}
	rec.add("open_at_end", h.open.Load())
	h.closeAll()
	res := rec.result(cfg)
	res.Start = start
	res.Seconds = held.Seconds()
	return res, nil
}

// idleOpener returns what opens one idle connection: a visitor with a
// chat of its own, or with -bare a plain WebSocket to the server's root.
// Failures are recorded.
func idleOpener(ctx context.Context, cfg *config, rec *recorder) (func(context.Context) (*websocket.Conn, time.Duration, error), error) {
	if cfg.bare {
		cl, err := newClient(cfg.url, cfg.sources)
		if err != nil {
			return nil, err
		}
		root := strings.TrimSuffix(cl.wsURL, "/api/v1/ws") + "/"
		return func(ctx context.Context) (*websocket.Conn, time.Duration, error) {
			t0 := time.Now()
			conn, _, err := websocket.Dial(ctx, root, &websocket.DialOptions{HTTPClient: cl.pick()})
			if err != nil {
				rec.fail(errKind("open", err))
				return nil, 0, err
			}
			return conn, time.Since(t0), nil
		}, nil
	}
	r, err := newRig(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	// One logged-in agent who is not ready keeps the group open; the
	// chats stay queued.
	if err := r.addAgents(ctx, 1, 1, "not_ready"); err != nil {
		return nil, err
	}
	return func(ctx context.Context) (*websocket.Conn, time.Duration, error) {
		v, err := r.requestChat(ctx)
		if err != nil {
			rec.fail(errKind("request chat", err))
			return nil, 0, err
		}
		conn, took, err := v.cl.openVisitor(ctx, v.token, nil)
		if err != nil {
			rec.fail(errKind("open", err))
		}
		return conn, took, err
	}, nil
}

// runChurn opens and closes visitor sessions at -rate per second.
func runChurn(ctx context.Context, cfg *config, stderr io.Writer, b barrier) (*Result, error) {
	rec := newRecorder()
	r, err := newRig(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	if err := r.addAgents(ctx, 1, 1, "not_ready"); err != nil {
		return nil, err
	}
	pool, err := r.requestChats(ctx, share(cfg.pool, cfg.procs, cfg.child), rec)
	if err != nil {
		return nil, err
	}
	rate := cfg.rate / float64(cfg.procs)
	if err := b(ctx, "churn-start", 0, false); err != nil {
		return nil, err
	}
	start := time.Now()
	var wg sync.WaitGroup
	var inflight atomic.Int64
	n := 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		el := time.Since(start)
		if el >= cfg.duration {
			break
		}
		due := int(el.Seconds() * rate)
		for ; n < due; n++ {
			v := &pool[n%len(pool)]
			if inflight.Load() >= int64(cfg.maxInflight) {
				// The server is behind: an unbounded backlog would only
				// measure the generator's queue.
				rec.add("skipped", 1)
				continue
			}
			inflight.Add(1)
			wg.Go(func() {
				defer inflight.Add(-1)
				// Resume after the last event seen, as a reconnecting
				// client does.
				conn, took, err := v.cl.openVisitor(ctx, v.token, map[string]int64{v.chatID: v.lastSeq.Load()})
				if err != nil {
					rec.fail(errKind("open", err))
					return
				}
				rec.hist("open").Record(took)
				rec.add("opened", 1)
				// Read while open, so a ping or an event is handled.
				lctx, cancel := context.WithTimeout(ctx, cfg.life)
				for {
					_, data, err := conn.Read(lctx)
					if err != nil {
						break
					}
					var f serverFrame
					if json.Unmarshal(data, &f) == nil && f.Event != nil && f.Event.Seq > v.lastSeq.Load() {
						v.lastSeq.Store(f.Event.Seq)
					}
				}
				cancel()
				if conn.Close(websocket.StatusNormalClosure, "") != nil {
					conn.CloseNow()
				}
				rec.add("closed", 1)
			})
		}
	}
	rec.add("attempted", int64(n)-rec.count("skipped"))
	wg.Wait()
	// The rate counts until the last open finished.
	elapsed := time.Since(start)
	if err := b(ctx, "churn-end", 0, false); err != nil {
		return nil, err
	}
	res := rec.result(cfg)
	res.Start = start
	res.Seconds = elapsed.Seconds()
	progress(stderr, "churn: %d opens attempted in %.1f s", n, elapsed.Seconds())
	return res, nil
}

// runStartup starts the server command -repeat times and measures the
// time to the first accepted connection and the idle RSS.
func runStartup(ctx context.Context, cfg *config, stderr io.Writer) (*Result, error) {
	rec := newRecorder()
	cl, err := newClient(cfg.url, 1)
	if err != nil {
		return nil, err
	}
	host := strings.TrimPrefix(strings.TrimPrefix(cl.base, "http://"), "https://")
	argv := strings.Fields(cfg.serverCmd)
	res := rec.result(cfg)
	res.Start = time.Now()
	res.LoadBefore = loadAvg()
	for i := range cfg.repeat {
		if c, err := net.DialTimeout("tcp", host, 100*time.Millisecond); err == nil {
			c.Close()
			return nil, fmt.Errorf("something already listens on %s", host)
		}
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		var listen time.Duration
		for {
			c, err := net.DialTimeout("tcp", host, 100*time.Millisecond)
			if err == nil {
				c.Close()
				listen = time.Since(t0)
				break
			}
			if time.Since(t0) > 30*time.Second || ctx.Err() != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				return nil, fmt.Errorf("the server did not listen on %s within 30 s", host)
			}
			time.Sleep(time.Millisecond)
		}
		if err := waitWithContext(ctx, cfg.settle); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, err
		}
		rss, _, err := procStat(cmd.Process.Pid)
		_ = cmd.Process.Signal(syscall.SIGINT)
		werr := cmd.Wait()
		if err != nil {
			return nil, err
		}
		var ee *exec.ExitError
		if werr != nil && !errors.As(werr, &ee) {
			return nil, werr
		}
		progress(stderr, "start %d: listening after %.1f ms, idle RSS %.1f MiB", i+1, float64(listen.Microseconds())/1000, float64(rss)/(1<<20))
		res.Startups = append(res.Startups, Startup{ListenMS: float64(listen.Microseconds()) / 1000, RSSBytes: rss})
	}
	res.LoadAfter = loadAvg()
	return res, nil
}
