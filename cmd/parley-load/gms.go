package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The gms scenario: Genesys GMS Chat API v2 clients that poll refresh.
//
// -chats visitors have chats with agents (ready, auto-accept, exactly the
// capacity for them) and -visitors more wait in the queue; every visitor
// posts refresh with its transcriptPosition every -interval, with a random
// start. Two measured phases of -duration each, after -warmup:
//
//   - polling only: the server's CPU per refresh ("poll-start", "poll-end");
//   - polling and messages at -rate per second in the active chats, half
//     sent by visitors (GMS send), half by agents (native REST): the CPU per
//     message once the refreshes' share is taken off ("gms-msg-start",
//     "gms-msg-end").
//
// Latencies: "refresh" (every refresh), "send" (a visitor's GMS send to its
// answer). The visitors a core holds at -interval is 1000 ms × interval ÷
// the CPU per refresh.

// gmsVisitor is one polling GMS client.
type gmsVisitor struct {
	chatID string
	key    string
	next   int64
	hc     *http.Client
}

// gmsRun is the gms scenario in one process.
type gmsRun struct {
	cfg       *config
	rig       *rig
	rec       *recorder
	base      string // …/genesys/2/chat/{service}
	refreshes atomic.Int64
	messages  atomic.Int64
}

// post posts a GMS form and decodes the envelope; a non-zero statusCode
// is an error.
func (g *gmsRun) post(ctx context.Context, hc *http.Client, path string, form url.Values, out any) error {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", g.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		StatusCode int `json:"statusCode"`
		Errors     []struct {
			Code int `json:"code"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("HTTP %d: not an envelope", resp.StatusCode)
	}
	if env.StatusCode != 0 {
		code := 0
		if len(env.Errors) > 0 {
			code = env.Errors[0].Code
		}
		return &apiError{Status: resp.StatusCode, Code: "gms-" + strconv.Itoa(code)}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// request starts a chat as a GMS client.
func (g *gmsRun) request(ctx context.Context, i int) (*gmsVisitor, error) {
	v := &gmsVisitor{hc: g.rig.cl.clients[i%len(g.rig.cl.clients)]}
	var env struct {
		ChatID       string `json:"chatId"`
		SecureKey    string `json:"secureKey"`
		NextPosition int64  `json:"nextPosition"`
	}
	err := g.post(ctx, v.hc, "", url.Values{"nickname": {"load visitor"}, "subject": {"load"}}, &env)
	v.chatID, v.key, v.next = env.ChatID, env.SecureKey, env.NextPosition
	return v, err
}

// requestAll starts n chats with -conc requests at a time.
func (g *gmsRun) requestAll(ctx context.Context, n, offset int) ([]*gmsVisitor, error) {
	out := make([]*gmsVisitor, n)
	var wg sync.WaitGroup
	var first atomic.Value
	sem := make(chan struct{}, g.cfg.conc)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			v, err := g.request(ctx, offset+i)
			if err != nil {
				g.rec.fail(errKind("gms requestChat", err))
				first.CompareAndSwap(nil, err)
				return
			}
			out[i] = v
		})
	}
	wg.Wait()
	if err, _ := first.Load().(error); err != nil {
		return nil, fmt.Errorf("gms requestChat: %w", err)
	}
	return out, nil
}

// poll refreshes v every interval until ctx ends.
func (g *gmsRun) poll(ctx context.Context, v *gmsVisitor, rng *rand.Rand) {
	interval := g.cfg.interval
	if err := waitWithContext(ctx, time.Duration(rng.Int64N(int64(interval)))); err != nil {
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		var env struct {
			NextPosition int64 `json:"nextPosition"`
		}
		t0 := time.Now()
		err := g.post(ctx, v.hc, "/"+v.chatID+"/refresh", url.Values{
			"secureKey": {v.key}, "transcriptPosition": {strconv.FormatInt(v.next, 10)},
		}, &env)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			g.rec.fail(errKind("gms refresh", err))
		default:
			g.rec.hist("refresh").Record(time.Since(t0))
			g.refreshes.Add(1)
			if env.NextPosition > 0 {
				v.next = env.NextPosition
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sendVisitor sends a message as the GMS client.
func (g *gmsRun) sendVisitor(ctx context.Context, v *gmsVisitor) {
	t0 := time.Now()
	err := g.post(ctx, v.hc, "/"+v.chatID+"/send", url.Values{"secureKey": {v.key}, "message": {stampText(t0, g.cfg.msgSize)}}, nil)
	if err != nil {
		g.rec.fail(errKind("gms send", err))
		return
	}
	g.rec.hist("send").Record(time.Since(t0))
	g.messages.Add(1)
}

// sendAgent sends a message as the chat's agent (native REST).
func (g *gmsRun) sendAgent(ctx context.Context, chatID, token string) {
	t0 := time.Now()
	err := g.rig.cl.call(ctx, nil, "POST", "/api/v1/chats/"+chatID+"/messages", token, map[string]any{"text": stampText(t0, g.cfg.msgSize)}, nil)
	if err != nil {
		g.rec.fail(errKind("agent send", err))
		return
	}
	g.rec.hist("agent_send").Record(time.Since(t0))
	g.messages.Add(1)
}

func runGMS(ctx context.Context, cfg *config, stderr io.Writer, b barrier) (*Result, error) {
	if cfg.tenant != 0 {
		return nil, fmt.Errorf("the gms scenario runs in the default tenant (its service is the run's group by name)")
	}
	rec := newRecorder()
	r, err := newRig(ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	g := &gmsRun{cfg: cfg, rig: r, rec: rec, base: strings.TrimRight(cfg.url, "/") + "/genesys/2/chat/" + url.PathEscape(r.prefix)}
	nChats := share(cfg.chats, cfg.procs, cfg.child)
	nQueued := share(cfg.visitors, cfg.procs, cfg.child)
	nAgents := max(min(share(cfg.agents, cfg.procs, cfg.child), nChats), 1)
	capacity := max((nChats+nAgents-1)/nAgents, 1)
	if capacity > 50 {
		return nil, fmt.Errorf("%d agents cannot take %d chats", nAgents, nChats)
	}
	if err := r.addAgents(ctx, nAgents, capacity, "ready"); err != nil {
		return nil, err
	}
	active, err := g.requestAll(ctx, nChats, 0)
	if err != nil {
		return nil, err
	}
	// Wait until routing has given every active chat to an agent; the
	// queued visitors come after, when the agents are full.
	owner := map[string]string{} // chat → agent token
	deadline := time.Now().Add(60 * time.Second)
	for len(owner) < nChats {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d chats were assigned within 60 s", len(owner), nChats)
		}
		for _, ag := range r.agents {
			var chats []chatView
			if err := r.cl.call(ctx, nil, "GET", "/api/v1/me/chats", ag.token, nil, &chats); err != nil {
				return nil, fmt.Errorf("agent chats: %w", err)
			}
			for _, c := range chats {
				if c.Agent != nil && c.Agent.AgentID == ag.id {
					owner[c.ID] = ag.token
				}
			}
		}
		if len(owner) < nChats {
			if err := waitWithContext(ctx, 50*time.Millisecond); err != nil {
				return nil, err
			}
		}
	}
	queued, err := g.requestAll(ctx, nQueued, nChats)
	if err != nil {
		return nil, err
	}
	all := append(append([]*gmsVisitor{}, active...), queued...)
	progress(stderr, "%d GMS visitors polling every %s, %d of them in chats with %d agents", len(all), cfg.interval, nChats, nAgents)

	pctx, cancel := context.WithCancel(ctx)
	var pollers sync.WaitGroup
	defer pollers.Wait()
	defer cancel()
	for i, v := range all {
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
		pollers.Go(func() { g.poll(pctx, v, rng) })
	}
	// Every visitor has polled at least once before measuring.
	if err := waitWithContext(ctx, cfg.interval+cfg.warmup); err != nil {
		return nil, err
	}
	conns := int64(len(all))
	if err := b(ctx, "poll-start", conns, false); err != nil {
		return nil, err
	}
	r0 := g.refreshes.Load()
	start := time.Now()
	if err := waitWithContext(ctx, cfg.duration); err != nil {
		return nil, err
	}
	rec.add("poll_refreshes", g.refreshes.Load()-r0)
	if err := b(ctx, "poll-end", conns, false); err != nil {
		return nil, err
	}

	if nChats > 0 {
		if err := b(ctx, "gms-msg-start", conns, false); err != nil {
			return nil, err
		}
		r1, m1 := g.refreshes.Load(), g.messages.Load()
		rate := cfg.rate / float64(cfg.procs)
		var senders sync.WaitGroup
		mstart := time.Now()
		tick := time.NewTicker(time.Millisecond)
		n := 0
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-tick.C:
			}
			el := time.Since(mstart)
			if el >= cfg.duration {
				break
			}
			for due := int(el.Seconds() * rate); n < due; n++ {
				v := active[n%len(active)]
				if n%2 == 0 {
					senders.Go(func() { g.sendVisitor(pctx, v) })
				} else {
					tok := owner[v.chatID]
					senders.Go(func() { g.sendAgent(pctx, v.chatID, tok) })
				}
			}
		}
		tick.Stop()
		senders.Wait()
		rec.add("msg_refreshes", g.refreshes.Load()-r1)
		rec.add("messages", g.messages.Load()-m1)
		if err := b(ctx, "gms-msg-end", conns, false); err != nil {
			return nil, err
		}
	}
	cancel()
	pollers.Wait()
	rec.add("visitors", conns)
	rec.add("interval_ms", cfg.interval.Milliseconds())
	res := rec.result(cfg)
	res.Start = start
	res.Seconds = cfg.duration.Seconds()
	return res, nil
}

// deriveGMS adds the gms scenario's figures: the server's CPU per
// refresh (polling phase), per message (the messages phase less its
// refreshes), and the polling visitors one core holds at the interval.
func deriveGMS(res *Result, sample func(string) (Sample, bool)) {
	a, ok1 := sample("poll-start")
	b, ok2 := sample("poll-end")
	if !ok1 || !ok2 || b.At <= a.At || res.Counts["poll_refreshes"] == 0 {
		return
	}
	perRefresh := 1000 * (b.CPUSeconds - a.CPUSeconds) / float64(res.Counts["poll_refreshes"])
	res.Derived["server_cpu_ms_per_refresh"] = perRefresh
	res.Derived["poll_cpu_percent_of_core"] = 100 * (b.CPUSeconds - a.CPUSeconds) / (b.At - a.At)
	res.Derived["refreshes_per_second"] = float64(res.Counts["poll_refreshes"]) / (b.At - a.At)
	// visitors (the total of all processes; each counted its own)
	if iv := res.Counts["interval_ms"]; iv > 0 && perRefresh > 0 {
		perProc := float64(iv) / float64(max(res.Procs, 1))
		res.Derived["visitors_per_core"] = perProc / perRefresh
	}
	c, ok1 := sample("gms-msg-start")
	d, ok2 := sample("gms-msg-end")
	if ok1 && ok2 && d.At > c.At && res.Counts["messages"] > 0 {
		cpu := 1000*(d.CPUSeconds-c.CPUSeconds) - perRefresh*float64(res.Counts["msg_refreshes"])
		res.Derived["server_cpu_ms_per_message"] = cpu / float64(res.Counts["messages"])
	}
}
