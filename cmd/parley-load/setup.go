package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// rig is the group and agents of one process's run.
type rig struct {
	cl      *client   // the first node: the run's set-up
	nodes   []*client // every node of -url, one per address
	next    atomic.Uint64
	cfg     *config
	admin   string // admin token
	groupID int64
	prefix  string
	agents  []*agentRig
}

type agentRig struct {
	id    int64
	login string
	token string
	cl    *client // the node the agent works on
}

// newRig logs the admin in and creates the run's group.
func newRig(ctx context.Context, cfg *config, autoAccept bool) (*rig, error) {
	var nodes []*client
	for _, u := range cfg.urls() {
		cl, err := newClient(u, cfg.sources)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, cl)
	}
	cl := nodes[0]
	r := &rig{cl: cl, nodes: nodes, cfg: cfg, prefix: "load-" + cfg.runID}
	if cfg.child >= 0 {
		r.prefix = fmt.Sprintf("%s-%d", r.prefix, cfg.child)
	}
	var login struct {
		Token string `json:"token"`
	}
	if err := cl.call(ctx, nil, "POST", "/api/v1/auth/login", "", map[string]any{"login": cfg.login, "password": cfg.password, "tenant_id": cfg.tenant}, &login); err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	r.admin = login.Token
	routing := map[string]any{"strategy": "least_busy"}
	if autoAccept {
		routing["auto_accept"] = true
	}
	var g struct {
		ID int64 `json:"id"`
	}
	if err := cl.call(ctx, nil, "POST", "/api/v1/admin/groups", r.admin, map[string]any{
		"tenant_id": cfg.tenant, "name": r.prefix, "routing": routing,
	}, &g); err != nil {
		return nil, fmt.Errorf("create group: %w", err)
	}
	r.groupID = g.ID
	return r, nil
}

// addAgents creates n agents of the group with the given capacity, logs
// them in and sets their presence and status.
func (r *rig) addAgents(ctx context.Context, n, capacity int, status string) error {
	password := rand.Text()
	for i := range n {
		login := fmt.Sprintf("%s-a%d", r.prefix, i)
		var a struct {
			ID int64 `json:"id"`
		}
		if err := r.cl.call(ctx, nil, "POST", "/api/v1/admin/agents", r.admin, map[string]any{
			"tenant_id": r.cfg.tenant, "login": login, "password": password, "display_name": login,
			"role": "agent", "capacity": capacity, "groups": []map[string]any{{"group_id": r.groupID}},
		}, &a); err != nil {
			return fmt.Errorf("create agent: %w", err)
		}
		var lr struct {
			Token string `json:"token"`
		}
		cl := r.nodes[i%len(r.nodes)]
		if err := cl.call(ctx, nil, "POST", "/api/v1/auth/login", "", map[string]any{"login": login, "password": password, "tenant_id": r.cfg.tenant}, &lr); err != nil {
			return fmt.Errorf("agent login: %w", err)
		}
		if err := cl.call(ctx, nil, "PUT", "/api/v1/me/presence", lr.Token, map[string]any{"presence": "available", "status": status}, nil); err != nil {
			return fmt.Errorf("agent presence: %w", err)
		}
		r.agents = append(r.agents, &agentRig{id: a.ID, login: login, token: lr.Token, cl: cl})
	}
	return nil
}

// visitorChat is a visitor with a requested chat.
type visitorChat struct {
	chatID  string
	token   string
	lastSeq *atomic.Int64 // the last event seen (churn)
	cl      *client       // the node the visitor uses
}

// requestChat starts a chat in the run's group as a new visitor, on the
// next node of -url.
func (r *rig) requestChat(ctx context.Context) (visitorChat, error) {
	cl := r.nodes[r.next.Add(1)%uint64(len(r.nodes))]
	var out struct {
		Chat struct {
			ID string `json:"id"`
		} `json:"chat"`
		VisitorToken string `json:"visitor_token"`
	}
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	err := cl.call(ctx, nil, "POST", "/api/v1/chats", "", map[string]any{
		"tenant_id": r.cfg.tenant, "group_id": r.groupID, "name": "load visitor",
	}, &out)
	return visitorChat{chatID: out.Chat.ID, token: out.VisitorToken, lastSeq: &atomic.Int64{}, cl: cl}, err
}

// requestChats starts n chats with -conc requests at a time.
func (r *rig) requestChats(ctx context.Context, n int, rec *recorder) ([]visitorChat, error) {
	out := make([]visitorChat, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.cfg.conc)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			v, err := r.requestChat(ctx)
			if err != nil {
				rec.fail(errKind("request chat", err))
				errs <- err
				return
			}
			out[i] = v
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("request chat: %w", err)
	}
	return out, nil
}

// waitWithContext sleeps d unless ctx ends first.
func waitWithContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func progress(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "parley-load: "+format+"\n", args...)
}
