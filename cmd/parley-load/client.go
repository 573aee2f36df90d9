package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// client talks to one Parley server, spreading its connections over
// several local source addresses: one (source address → server) pair has
// only 28k ephemeral ports.
type client struct {
	base    string // http://host:port
	wsURL   string
	clients []*http.Client // one per source address
	next    atomic.Uint64
}

func newClient(base string, sources int) (*client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-url must be an http:// or https:// server address, not %q", base)
	}
	ws := *u
	ws.Scheme = "ws"
	if u.Scheme == "https" {
		ws.Scheme = "wss"
	}
	ws.Path = "/api/v1/ws"
	c := &client{base: u.String(), wsURL: ws.String()}
	var addrs []net.IP
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() && ip.To4() != nil && sources > 0 {
		for i := range sources {
			addrs = append(addrs, net.IPv4(127, 0, 0, byte(1+i)))
		}
	} else {
		addrs = []net.IP{nil} // not loopback: let the kernel choose
	}
	for _, ip := range addrs {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
		if ip != nil {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		}
		tr := &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: 100000,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}
		c.clients = append(c.clients, &http.Client{Transport: tr})
	}
	return c, nil
}

// pick returns the HTTP client of the next source address.
func (c *client) pick() *http.Client {
	return c.clients[c.next.Add(1)%uint64(len(c.clients))]
}

// apiError is a failed API call; Code is the error code of the body.
type apiError struct {
	Status int
	Code   string
	Msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Msg)
}

// call makes one JSON request with hc (nil: the next client) and decodes
// the answer into out.
func (c *client) call(ctx context.Context, hc *http.Client, method, path, token string, body, out any) error {
	if hc == nil {
		hc = c.pick()
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Msg: e.Error.Message}
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// errKind names an error for the error counts.
func errKind(prefix string, err error) string {
	if ae, ok := err.(*apiError); ok {
		return fmt.Sprintf("%s: HTTP %d %s", prefix, ae.Status, ae.Code)
	}
	if code := websocket.CloseStatus(err); code != -1 {
		return fmt.Sprintf("%s: close %d", prefix, code)
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "too many open files"):
		return prefix + ": too many open files"
	case strings.Contains(s, "connection refused"):
		return prefix + ": connection refused"
	case strings.Contains(s, "connection reset"):
		return prefix + ": connection reset"
	case strings.Contains(s, "cannot assign requested address"):
		return prefix + ": no free local port"
	case strings.Contains(s, "deadline exceeded") || strings.Contains(s, "timeout"):
		return prefix + ": timeout"
	case strings.Contains(s, "EOF"):
		return prefix + ": EOF"
	}
	return prefix + ": other"
}

// openTimeout bounds one session open (connect, hello, snapshot).
const openTimeout = 30 * time.Second

// serverFrame is the part of a server WebSocket frame the generator reads.
type serverFrame struct {
	Type   string     `json:"type"`
	Ref    string     `json:"ref"`
	ChatID string     `json:"chat_id"`
	Chat   *chatView  `json:"chat"`
	Event  *eventView `json:"event"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type chatView struct {
	ID        string `json:"id"`
	State     string `json:"state"`
	OfferedTo int64  `json:"offered_to"`
	Agent     *struct {
		AgentID int64 `json:"agent_id"`
	} `json:"agent"`
}

type eventView struct {
	ChatID string `json:"chat_id"`
	Seq    int64  `json:"seq"`
	Type   string `json:"type"`
	Text   string `json:"text"`
	From   *struct {
		Kind string `json:"kind"`
	} `json:"from"`
}

// dialWS opens a WebSocket and says hello with token. It returns once the
// server answered ready.
func (c *client) dialWS(ctx context.Context, token string, resume map[string]int64) (*websocket.Conn, error) {
	conn, _, err := websocket.Dial(ctx, c.wsURL, &websocket.DialOptions{HTTPClient: c.pick()})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	hello, _ := json.Marshal(map[string]any{"type": "hello", "token": token, "chats": resume})
	if err := conn.Write(ctx, websocket.MessageText, hello); err != nil {
		conn.CloseNow()
		return nil, err
	}
	f, err := readFrame(ctx, conn)
	if err != nil {
		conn.CloseNow()
		return nil, err
	}
	if f.Type != "ready" {
		conn.CloseNow()
		return nil, fmt.Errorf("first frame is %q, not ready", f.Type)
	}
	return conn, nil
}

func readFrame(ctx context.Context, conn *websocket.Conn) (serverFrame, error) {
	var f serverFrame
	_, data, err := conn.Read(ctx)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("bad frame: %w", err)
	}
	if f.Type == "error" && f.Error != nil {
		return f, &apiError{Code: f.Error.Code, Msg: f.Error.Message}
	}
	return f, nil
}

// openVisitor opens a visitor session: connect, hello, and the snapshot of
// its chat (the subscription). It returns the time that took. resume, when
// not nil, maps the chat to the last sequence number the visitor has, as a
// reconnecting client sends it.
func (c *client) openVisitor(ctx context.Context, token string, resume map[string]int64) (*websocket.Conn, time.Duration, error) {
	start := time.Now()
	// A session that never gets its snapshot (the chat ended meanwhile)
	// must not hold a ramp worker forever.
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	conn, err := c.dialWS(ctx, token, resume)
	if err != nil {
		return nil, 0, err
	}
	for {
		f, err := readFrame(ctx, conn)
		if err != nil {
			conn.CloseNow()
			return nil, 0, err
		}
		if f.Type == "chat" {
			return conn, time.Since(start), nil
		}
	}
}
