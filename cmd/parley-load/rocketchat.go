package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The Rocket.Chat scenarios: visitors speak DDP at /websocket as the
// Rocket.Chat widget's realtime client does.
//
//   rc-idle    like idle, with DDP visitors: connect, livechat:registerGuest,
//              sendMessageLivechat (which requests the chat), and a
//              subscription to stream-room-messages; then they stay
//              connected, answering the server's DDP pings. Compare its
//              memory per visitor with idle's.
//   rc-active  -chats DDP visitors whose chats -agents agents auto-accept
//              send sendMessageLivechat at -rate in total; each message's
//              time to its result ("ack") and to its copy on the visitor's
//              own stream-room-messages ("echo", through the store and the
//              bus) is recorded.

// ddpConn is one DDP visitor connection.
type ddpConn struct {
	conn  *websocket.Conn
	token string
	rid   string
	wmu   sync.Mutex
	next  atomic.Int64
}

func (d *ddpConn) write(ctx context.Context, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	return d.conn.Write(ctx, websocket.MessageText, data)
}

// ddpFrame is the part of a server frame the scenarios read.
type ddpFrame struct {
	Msg        string          `json:"msg"`
	ID         string          `json:"id"`
	Subs       []string        `json:"subs"`
	Result     json.RawMessage `json:"result"`
	Error      json.RawMessage `json:"error"`
	Collection string          `json:"collection"`
	Fields     struct {
		EventName string `json:"eventName"`
		Args      []struct {
			ID  string `json:"_id"`
			Msg string `json:"msg"`
		} `json:"args"`
	} `json:"fields"`
}

// read returns the next frame, answering pings on the way.
func (d *ddpConn) read(ctx context.Context) (ddpFrame, error) {
	for {
		_, data, err := d.conn.Read(ctx)
		if err != nil {
			return ddpFrame{}, err
		}
		var f ddpFrame
		if err := json.Unmarshal(data, &f); err != nil {
			return f, fmt.Errorf("bad DDP frame: %w", err)
		}
		if f.Msg == "ping" {
			if err := d.write(ctx, map[string]any{"msg": "pong"}); err != nil {
				return f, err
			}
			continue
		}
		return f, nil
	}
}

// call runs a method while nothing else reads the connection.
func (d *ddpConn) call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	id := strconv.FormatInt(d.next.Add(1), 10)
	if err := d.write(ctx, map[string]any{"msg": "method", "id": id, "method": method, "params": params}); err != nil {
		return nil, err
	}
	for {
		f, err := d.read(ctx)
		if err != nil {
			return nil, err
		}
		if f.Msg == "result" && f.ID == id {
			if len(f.Error) > 0 {
				return nil, fmt.Errorf("%s: %s", method, f.Error)
			}
			return f.Result, nil
		}
	}
}

// rcURL is the DDP endpoint of the server.
func rcURL(base string) string {
	u := strings.TrimRight(base, "/")
	u = strings.Replace(u, "https://", "wss://", 1)
	return strings.Replace(u, "http://", "ws://", 1) + "/websocket"
}

// openDDPVisitor connects, registers a guest in the run's group, sends
// its first message (the chat request) and subscribes to its room's
// messages. It returns the time all that took.
func (r *rig) openDDPVisitor(ctx context.Context) (*ddpConn, time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, rcURL(r.cfg.url), &websocket.DialOptions{HTTPClient: r.cl.pick()})
	if err != nil {
		return nil, 0, err
	}
	conn.SetReadLimit(1 << 20)
	d := &ddpConn{conn: conn, token: "load-" + strings.ToLower(rand.Text())}
	fail := func(err error) (*ddpConn, time.Duration, error) { conn.CloseNow(); return nil, 0, err }
	if err := d.write(ctx, map[string]any{"msg": "connect", "version": "1", "support": []string{"1"}}); err != nil {
		return fail(err)
	}
	if f, err := d.read(ctx); err != nil || f.Msg != "connected" {
		return fail(fmt.Errorf("connect: %q %v", f.Msg, err))
	}
	dep := strconv.FormatInt(r.groupID, 10)
	if _, err := d.call(ctx, "livechat:registerGuest", map[string]any{"token": d.token, "name": "load visitor", "department": dep}); err != nil {
		return fail(err)
	}
	res, err := d.call(ctx, "sendMessageLivechat", map[string]any{"_id": "first-" + d.token, "rid": "", "msg": "hello", "token": d.token})
	if err != nil {
		return fail(err)
	}
	var m struct {
		RID string `json:"rid"`
	}
	if err := json.Unmarshal(res, &m); err != nil || m.RID == "" {
		return fail(errors.New("sendMessageLivechat: no rid"))
	}
	d.rid = m.RID
	extra := map[string]any{"useCollection": false, "args": []any{map[string]any{"token": d.token, "visitorToken": d.token}}}
	if err := d.write(ctx, map[string]any{"msg": "sub", "id": "s1", "name": "stream-room-messages", "params": []any{d.rid, extra}}); err != nil {
		return fail(err)
	}
	for {
		f, err := d.read(ctx)
		if err != nil {
			return fail(err)
		}
		if f.Msg == "ready" {
			return d, time.Since(start), nil
		}
		if f.Msg == "nosub" {
			return fail(fmt.Errorf("subscription refused: %s", f.Error))
		}
	}
}

// runRCIdle is the idle scenario with DDP visitors.
func runRCIdle(ctx context.Context, cfg *config, stderr io.Writer, b barrier) (*Result, error) {
	rec := newRecorder()
	r, err := newRig(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	if err := r.addAgents(ctx, 1, 1, "not_ready"); err != nil {
		return nil, err
	}
	start := time.Now()
	total := share(cfg.visitors, cfg.procs, cfg.child)
	base := min(share(cfg.base, cfg.procs, cfg.child), total)
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		conns    []*ddpConn
		open     atomic.Int64
		stopping atomic.Bool
		readers  sync.WaitGroup
	)
	closeAll := func() {
		stopping.Store(true)
		mu.Lock()
		cs := conns
		conns = nil
		mu.Unlock()
		for _, d := range cs {
			if d.conn.Close(websocket.StatusNormalClosure, "") != nil {
				d.conn.CloseNow()
			}
		}
		readers.Wait()
	}
	defer closeAll()
	keep := func(d *ddpConn) {
		mu.Lock()
		conns = append(conns, d)
		mu.Unlock()
		open.Add(1)
		readers.Go(func() {
			defer open.Add(-1)
			for {
				if _, err := d.read(hctx); err != nil {
					if !stopping.Load() && hctx.Err() == nil {
						rec.add("unexpected_closes", 1)
						rec.fail(errKind("unexpected close", err))
					}
					return
				}
				rec.add("frames_while_idle", 1)
			}
		})
	}
	ramp := func(n int) error {
		var wg sync.WaitGroup
		sem := make(chan struct{}, cfg.conc)
		for range n {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				d, took, err := r.openDDPVisitor(ctx)
				if err != nil {
					rec.fail(errKind("open", err))
					return
				}
				rec.hist("open").Record(took)
				rec.add("opened", 1)
				keep(d)
			})
		}
		wg.Wait()
		return ctx.Err()
	}
	sample := func(name string, settle bool) error { return b(ctx, name, open.Load(), settle) }
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
	progress(stderr, "ramped %d DDP visitors in %.1f s", total-base, time.Since(rampStart).Seconds())
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
	rec.add("open_at_end", open.Load())
	closeAll()
	res := rec.result(cfg)
	res.Start = start
	res.Seconds = held.Seconds()
	return res, nil
}

// runRCActive is the active scenario with DDP visitors sending.
func runRCActive(ctx context.Context, cfg *config, stderr io.Writer, b barrier) (*Result, error) {
	rec := newRecorder()
	r, err := newRig(ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	nChats := share(cfg.chats, cfg.procs, cfg.child)
	nAgents := min(max(share(cfg.agents, cfg.procs, cfg.child), 1), nChats)
	capacity := min((nChats+nAgents-1)/nAgents, 50)
	if err := r.addAgents(ctx, nAgents, capacity, "ready"); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readers sync.WaitGroup
	defer readers.Wait()
	defer cancel()
	var measure atomic.Int64
	measure.Store(1 << 62)
	pending := sync.Map{} // message _id → send time
	visitors := make([]*ddpConn, 0, nChats)
	for range nChats {
		d, took, err := r.openDDPVisitor(ctx)
		if err != nil {
			return nil, fmt.Errorf("DDP visitor: %w", err)
		}
		defer d.conn.CloseNow()
		rec.hist("open").Record(took)
		visitors = append(visitors, d)
		readers.Go(func() {
			for {
				f, err := d.read(rctx)
				if err != nil {
					return
				}
				now := time.Now()
				switch {
				case f.Msg == "result":
					if v, ok := pending.Load("ack:" + f.ID + ":" + d.token); ok {
						pending.Delete("ack:" + f.ID + ":" + d.token)
						if sent := v.(time.Time); sent.UnixNano() >= measure.Load() {
							rec.hist("ack").Record(now.Sub(sent))
						}
					}
				case f.Msg == "changed" && f.Collection == "stream-room-messages":
					for _, m := range f.Fields.Args {
						if sent, ok := parseStamp(m.Msg); ok {
							rec.add("received", 1)
							if sent.UnixNano() >= measure.Load() {
								rec.hist("echo").Record(now.Sub(sent))
							}
						}
					}
				}
			}
		})
	}
	progress(stderr, "%d DDP chats with %d agents ready", nChats, nAgents)
	if err := b(ctx, "messages-start", int64(nChats), false); err != nil {
		return nil, err
	}
	rate := cfg.rate / float64(cfg.procs)
	start := time.Now()
	measure.Store(start.Add(cfg.warmup).UnixNano())
	end := cfg.warmup + cfg.duration
	n := 0
	tick := time.NewTicker(time.Millisecond)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		el := time.Since(start)
		if el >= end {
			break
		}
		for due := int(el.Seconds() * rate); n < due; n++ {
			d := visitors[n%len(visitors)]
			now := time.Now()
			id := strconv.FormatInt(d.next.Add(1), 10)
			pending.Store("ack:"+id+":"+d.token, now)
			err := d.write(rctx, map[string]any{"msg": "method", "id": id, "method": "sendMessageLivechat",
				"params": []any{map[string]any{"_id": d.token + "-" + id, "rid": d.rid, "msg": stampText(now, cfg.msgSize), "token": d.token}}})
			if err != nil {
				rec.fail(errKind("send", err))
			}
		}
	}
	tick.Stop()
	elapsed := time.Since(start) - cfg.warmup
	drain := time.Now().Add(10 * time.Second)
	for rec.count("received") < int64(n) && time.Now().Before(drain) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	rec.add("sent", int64(n))
	rec.add("not_received", int64(n)-rec.count("received"))
	if err := b(ctx, "messages-end", int64(nChats), false); err != nil {
		return nil, err
	}
	cancel()
	res := rec.result(cfg)
	res.Start = start
	res.Seconds = elapsed.Seconds()
	return res, nil
}
