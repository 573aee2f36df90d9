package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// leaderAndFollower waits until one of two nodes leads and returns them
// as (leader, follower).
func leaderAndFollower(t *testing.T, a, b *proc) (*proc, *proc) {
	t.Helper()
	eventually(t, 15*time.Second, "one leader and one follower", func() bool {
		ra, rb := a.role(), b.role()
		return (ra == "leader" && rb == "follower") || (ra == "follower" && rb == "leader")
	})
	if a.role() == "leader" {
		return a, b
	}
	return b, a
}

// micc calls a MiCC Chat service method on the node. It returns an error
// when the node does not answer whole (a node that died mid-response).
func (p *proc) micc(method string, req, out any) (int, error) {
	data, _ := json.Marshal(map[string]any{"request": req})
	resp, err := http.Post(p.url+"/ChatService/"+method, "application/json", bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		return 0, err
	}
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(body.Bytes(), out); err != nil {
			return 0, fmt.Errorf("%s: %w: %s", method, err, body.Bytes())
		}
	}
	return resp.StatusCode, nil
}

// TestClusterMiCCResume: a MiCC client knows its chat by the ChatID alone,
// so where its GetEvents calls left off is kept by the server. Its polls
// alternate between two nodes (as behind a balancer without sticky
// sessions), then the node it polls half the time is killed with -9 and
// the polls go on to the other: the agent's messages, sent at a steady
// rate meanwhile, all arrive once and in order.
func TestClusterMiCCResume(t *testing.T) {
	c := newTestCluster(t)
	a, b := c.node(), c.node()
	a.password = b.password
	leader, follower := leaderAndFollower(t, a, b)

	agent := leader.login("agent1")
	var me parley.Agent
	leader.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "ready"}, &me)
	var started struct {
		ChatID  *string
		Message string
	}
	code, err := follower.micc("RequestChat", map[string]any{"ServiceGroupID": 1, "CustomerName": "Mia"}, &started)
	if err != nil || code != 200 || started.ChatID == nil {
		t.Fatalf("RequestChat on the follower = %d %v %+v", code, err, started)
	}
	chatID := *started.ChatID
	id, _, _ := bytes.Cut([]byte(chatID), []byte("."))
	eventually(t, 10*time.Second, "the chat offered to the agent", func() bool {
		return chatOn(leader, string(id), agent).OfferedTo == me.ID
	})
	leader.must(200, "POST", "/api/v1/chats/"+string(id)+"/accept", agent, nil, nil)

	const total = 60
	var sent sync.WaitGroup
	sent.Add(1)
	go func() {
		defer sent.Done()
		for i := range total {
			if code := leader.call("POST", "/api/v1/chats/"+string(id)+"/messages", agent, map[string]string{"text": fmt.Sprintf("m%02d", i)}, nil); code != 201 {
				t.Errorf("agent's message %d: %d", i, code)
				return
			}
			time.Sleep(15 * time.Millisecond) // a steady rate, not a synchronization
		}
	}()

	var got []string
	var joined, polls, onFollower, failed int
	killed := false
	nodes := []*proc{follower, leader}
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < total && time.Now().Before(deadline) {
		n := nodes[polls%len(nodes)]
		polls++
		if n == follower && !killed && len(got) >= total/3 {
			// Kill the node while (or just before) this poll reaches it.
			killed = true
			nodes = []*proc{leader}
			go func() { _ = follower.cmd.Process.Signal(syscall.SIGKILL) }()
		}
		var res struct {
			Events []struct {
				EventType int
				Data      json.RawMessage
			}
		}
		code, err := n.micc("GetEvents", map[string]any{"ChatID": chatID, "Timeout": 2000}, &res)
		if err != nil || code != 200 {
			failed++ // the balancer sends the retry to a live node
			continue
		}
		if n == follower {
			onFollower++
		}
		for _, e := range res.Events {
			var d struct {
				Name, Message string
				System        bool
			}
			_ = json.Unmarshal(e.Data, &d)
			switch {
			case e.EventType == 0 && !d.System:
				got = append(got, d.Message)
			case e.EventType == 1:
				joined++
			}
		}
	}
	sent.Wait()
	want := make([]string, total)
	for i := range want {
		want[i] = fmt.Sprintf("m%02d", i)
	}
	t.Logf("%d polls (%d answered by the killed node, %d failed with it), %d messages", polls, onFollower, failed, len(got))
	if !slices.Equal(got, want) {
		t.Fatalf("the agent's messages through GetEvents on two nodes:\n got %v\nwant %v", got, want)
	}
	if joined != 1 {
		t.Errorf("AgentJoined delivered %d times; want once", joined)
	}
	if !killed || onFollower == 0 {
		t.Errorf("the follower answered %d polls before it was killed (killed: %v); want some", onFollower, killed)
	}
	<-follower.exited
	leader.stop()
}

// gmsEnvelope is the part of a GMS answer the cluster tests read.
type gmsEnvelope struct {
	StatusCode   int    `json:"statusCode"`
	ChatID       string `json:"chatId"`
	SecureKey    string `json:"secureKey"`
	ChatEnded    bool   `json:"chatEnded"`
	NextPosition int64  `json:"nextPosition"`
	Messages     []struct {
		Index int64  `json:"index"`
		Type  string `json:"type"`
		Text  string `json:"text"`
		From  struct {
			Type string `json:"type"`
		} `json:"from"`
	} `json:"messages"`
}

// agentTexts appends the agent's messages of env to texts.
func (env *gmsEnvelope) agentTexts(texts []string) []string {
	for _, m := range env.Messages {
		if m.Type == "Message" && m.From.Type == "Agent" {
			texts = append(texts, m.Text)
		}
	}
	return texts
}

// gms posts a form to a GMS endpoint of the node.
func (p *proc) gms(path string, form url.Values) (gmsEnvelope, error) {
	var env gmsEnvelope
	resp, err := http.Post(p.url+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return env, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return env, err
	}
	if err := json.Unmarshal(data, &env); err != nil || resp.StatusCode != 200 || env.StatusCode != 0 {
		return env, fmt.Errorf("POST %s = %d %s", path, resp.StatusCode, data)
	}
	return env, nil
}

// sendAgentMessages has the agent send n numbered messages at a steady
// rate through node p; wait waits for the last.
func sendAgentMessages(t *testing.T, p *proc, token, chatID string, n int) (wait func(), want []string) {
	var wg sync.WaitGroup
	wg.Add(1)
	for i := range n {
		want = append(want, fmt.Sprintf("m%02d", i))
	}
	go func() {
		defer wg.Done()
		for _, text := range want {
			if code := p.call("POST", "/api/v1/chats/"+chatID+"/messages", token, map[string]string{"text": text}, nil); code != 201 {
				t.Errorf("agent's message %s: %d", text, code)
				return
			}
			time.Sleep(15 * time.Millisecond) // a steady rate, not a synchronization
		}
	}()
	return wg.Wait, want
}

// acceptOn waits for the chat's offer to the agent and accepts it.
func acceptOn(t *testing.T, p *proc, token string, agentID int64, chatID string) {
	t.Helper()
	eventually(t, 10*time.Second, "the chat offered to the agent", func() bool {
		return chatOn(p, chatID, token).OfferedTo == agentID
	})
	p.must(200, "POST", "/api/v1/chats/"+chatID+"/accept", token, nil, nil)
}

// TestClusterGMSRefreshResume: a GMS REST client refreshes with its
// transcriptPosition on either node (the node that has no session for the
// chat builds one from the store), then the node it used half the time is
// killed with -9 and it refreshes on the other: the agent's messages
// arrive once and in order.
func TestClusterGMSRefreshResume(t *testing.T) {
	c := newTestCluster(t)
	a, b := c.node("--gms-services", "customer-support=Support"), c.node("--gms-services", "customer-support=Support")
	a.password = b.password
	leader, follower := leaderAndFollower(t, a, b)
	agent := leader.login("agent1")
	var me parley.Agent
	leader.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "ready"}, &me)

	const base = "/genesys/2/chat/customer-support"
	env, err := follower.gms(base, url.Values{"nickname": {"Gil"}})
	if err != nil {
		t.Fatal(err)
	}
	chatID, key, pos := env.ChatID, env.SecureKey, env.NextPosition
	acceptOn(t, leader, agent, me.ID, chatID)
	wait, want := sendAgentMessages(t, leader, agent, chatID, 60)

	var got []string
	var refreshes, onFollower, failed int
	killed := false
	nodes := []*proc{follower, leader}
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		n := nodes[refreshes%len(nodes)]
		refreshes++
		if n == follower && !killed && len(got) >= len(want)/3 {
			killed = true
			nodes = []*proc{leader}
			go func() { _ = follower.cmd.Process.Signal(syscall.SIGKILL) }()
		}
		env, err := n.gms(base+"/"+chatID+"/refresh", url.Values{"secureKey": {key}, "transcriptPosition": {strconv.FormatInt(pos, 10)}})
		if err != nil {
			failed++
			continue
		}
		if n == follower {
			onFollower++
		}
		got = env.agentTexts(got)
		pos = env.NextPosition
		time.Sleep(20 * time.Millisecond) // the client's refresh interval
	}
	wait()
	t.Logf("%d refreshes (%d answered by the killed node, %d failed with it), %d messages", refreshes, onFollower, failed, len(got))
	if !slices.Equal(got, want) {
		t.Fatalf("the agent's messages through refreshes on two nodes:\n got %v\nwant %v", got, want)
	}
	if onFollower == 0 {
		t.Error("the follower answered no refresh before it was killed")
	}
	<-follower.exited
	leader.stop()
}

// cometClient is a GMS CometD client that keeps the chat's nextPosition
// and, when a node does not know it (402) or does not answer, handshakes
// with the node it is sent to next and asks for the notifications from
// that position (requestNotifications), as GMS documents.
type cometClient struct {
	t        *testing.T
	id       string
	chatID   string
	key      string
	pos      int64
	recovers int
}

const cometChannel = "/service/chatV2/customer-support"

type cometReply struct {
	Channel    string          `json:"channel"`
	ClientID   string          `json:"clientId"`
	Successful *bool           `json:"successful"`
	Error      string          `json:"error"`
	Data       json.RawMessage `json:"data"`
}

func (c *cometClient) post(p *proc, msgs ...map[string]any) ([]cometReply, error) {
	data, _ := json.Marshal(msgs)
	resp, err := http.Post(p.url+"/genesys/cometd", "application/json", bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out []cometReply
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != 200 {
		return nil, fmt.Errorf("cometd = %d %s", resp.StatusCode, body)
	}
	return out, nil
}

// handshake makes the client known to p and subscribes it.
func (c *cometClient) handshake(p *proc) error {
	out, err := c.post(p, map[string]any{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": []string{"long-polling"}})
	if err != nil {
		return err
	}
	if len(out) != 1 || out[0].ClientID == "" {
		return fmt.Errorf("handshake: %+v", out)
	}
	c.id = out[0].ClientID
	_, err = c.post(p, map[string]any{"channel": "/meta/subscribe", "clientId": c.id, "subscription": cometChannel})
	return err
}

func (c *cometClient) publish(p *proc, data map[string]any) error {
	out, err := c.post(p, map[string]any{"channel": cometChannel, "clientId": c.id, "data": data})
	if err == nil && (len(out) != 1 || out[0].Successful == nil || !*out[0].Successful) {
		err = fmt.Errorf("publish %v: %+v", data, out)
	}
	return err
}

// recover handshakes with p and asks for the pushes from the position.
func (c *cometClient) recover(p *proc) error {
	c.recovers++
	if err := c.handshake(p); err != nil {
		return err
	}
	return c.publish(p, map[string]any{"operation": "requestNotifications", "chatId": c.chatID, "secureKey": c.key,
		"transcriptPosition": c.pos})
}

// connect waits for pushes on p and returns their envelopes; it recovers
// on p when p does not know the client.
func (c *cometClient) connect(p *proc) ([]gmsEnvelope, error) {
	out, err := c.post(p, map[string]any{"channel": "/meta/connect", "clientId": c.id, "connectionType": "long-polling"})
	if err != nil {
		return nil, err
	}
	var envs []gmsEnvelope
	for _, r := range out {
		switch {
		case r.Channel == "/meta/connect" && strings.HasPrefix(r.Error, "402"):
			return nil, c.recover(p)
		case r.Channel == cometChannel && len(r.Data) > 0:
			var env gmsEnvelope
			if err := json.Unmarshal(r.Data, &env); err != nil {
				return nil, err
			}
			if env.StatusCode != 0 {
				return nil, fmt.Errorf("pushed error: %s", r.Data)
			}
			if env.SecureKey != "" {
				c.chatID, c.key = env.ChatID, env.SecureKey
			}
			if env.NextPosition > 0 {
				c.pos = env.NextPosition
			}
			envs = append(envs, env)
		}
	}
	return envs, nil
}

// TestClusterGMSCometResume: a GMS CometD client starts its chat on one
// node; the balancer then sends its connect to the other node, which does
// not know it (402): it handshakes there and asks for the pushes from its
// nextPosition. It is moved back, and the node it is on is then killed
// with -9 mid-connect: it recovers the same way on the survivor. The
// agent's messages, sent at a steady rate all along, arrive once and in
// order.
func TestClusterGMSCometResume(t *testing.T) {
	c := newTestCluster(t)
	a, b := c.node("--gms-services", "customer-support=Support"), c.node("--gms-services", "customer-support=Support")
	a.password = b.password
	leader, follower := leaderAndFollower(t, a, b)
	agent := leader.login("agent1")
	var me parley.Agent
	leader.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "ready"}, &me)

	cl := &cometClient{t: t}
	if err := cl.handshake(follower); err != nil {
		t.Fatal(err)
	}
	if err := cl.publish(follower, map[string]any{"operation": "requestChat", "nickname": "Cora"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.connect(follower); err != nil || cl.key == "" {
		t.Fatalf("the requestChat answer: %v, key %q", err, cl.key)
	}
	acceptOn(t, leader, agent, me.ID, cl.chatID)
	wait, want := sendAgentMessages(t, leader, agent, cl.chatID, 60)

	var got []string
	var failed int
	on, moves, killed := follower, 0, false
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		switch {
		case moves == 0 && len(got) >= 15, moves == 1 && len(got) >= 30:
			// The balancer sends the next connect to the other node.
			moves++
			if on == follower {
				on = leader
			} else {
				on = follower
			}
		case moves == 2 && len(got) >= 40 && !killed:
			killed = true
			go func() { _ = follower.cmd.Process.Signal(syscall.SIGKILL) }()
		}
		envs, err := cl.connect(on)
		if err != nil {
			// The node died: the balancer sends the client to the other.
			failed++
			on = leader
			if err := cl.recover(on); err != nil {
				t.Fatalf("recover on the leader: %v", err)
			}
			continue
		}
		for _, env := range envs {
			got = env.agentTexts(got)
		}
	}
	wait()
	t.Logf("%d recoveries (%d after a failed connect), %d messages", cl.recovers, failed, len(got))
	if !slices.Equal(got, want) {
		t.Fatalf("the agent's messages through CometD on two nodes:\n got %v\nwant %v", got, want)
	}
	if cl.recovers < 3 {
		t.Errorf("the client recovered %d times; want at least 3 (two moves and the kill)", cl.recovers)
	}
	<-follower.exited
	leader.stop()
}
