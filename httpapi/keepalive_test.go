package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// peer is a visitor's WebSocket that counts the server's pings and
// answers them unless it plays dead.
type peer struct {
	conn   *websocket.Conn
	pings  atomic.Int64
	frames chan httpapi.ServerFrame
}

func (s *server) peer(token, chatID string, dead bool) *peer {
	s.t.Helper()
	p := &peer{frames: make(chan httpapi.ServerFrame, 100)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/v1/ws", &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool {
			p.pings.Add(1)
			return !dead
		},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	p.conn = conn
	s.t.Cleanup(func() { conn.CloseNow() })
	go func() {
		defer close(p.frames)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var f httpapi.ServerFrame
			if json.Unmarshal(data, &f) == nil {
				select {
				case p.frames <- f:
				default:
				}
			}
		}
	}()
	p.write(s.t, map[string]any{"type": "hello", "token": token, "chats": map[string]int64{chatID: 0}})
	p.expect(s.t, "chat")
	return p
}

func (p *peer) write(t *testing.T, v any) {
	t.Helper()
	data, _ := json.Marshal(v)
	if err := p.conn.Write(context.Background(), websocket.MessageText, data); err != nil {
		t.Fatal(err)
	}
}

func (p *peer) expect(t *testing.T, typ string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				t.Fatalf("closed while waiting for %s", typ)
			}
			if f.Type == typ {
				return
			}
		case <-deadline:
			t.Fatalf("no %s within 10 s", typ)
		}
	}
}

// The keep-alive pings a peer that has been silent, not one that has just
// sent a frame; a peer that does not answer its ping is dropped.
func TestKeepAlivePingsOnlySilentPeers(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	const interval = time.Hour // the wheel's own ticks never come in the test
	s := newServer(t, conversation.Config{}, 3, httpapi.Options{PingInterval: interval, Now: now})
	tok := s.login("agent1")
	s.presence(tok, "available") // keeps the group open
	var peers []*peer
	for i, name := range []string{"silent", "chatty", "dead"} {
		res := s.requestChat(1, name)
		peers = append(peers, s.peer(res.VisitorToken, res.Chat.ID, i == 2))
	}
	silent, chatty, dead := peers[0], peers[1], peers[2]

	// Nobody has been silent for half an interval yet.
	s.api.TickKeepAlive(now(), time.Second)
	for i, p := range peers {
		if n := p.pings.Load(); n != 0 {
			t.Fatalf("peer %d was pinged %d times right after connecting", i, n)
		}
	}

	clock.Add(int64(interval))
	chatty.write(t, map[string]any{"type": "ping", "ref": "p1"})
	chatty.expect(t, "pong") // the server has read the frame
	s.api.TickKeepAlive(now(), time.Minute)

	// The silent and the dead peer get a ping; the silent one answers.
	waitFor(t, "the pings and the silent peer's pong", func() bool {
		return silent.pings.Load() == 1 && dead.pings.Load() == 1 && s.api.AwaitingPong() == 1
	})
	if n := chatty.pings.Load(); n != 0 {
		t.Errorf("the peer that had just sent a frame was pinged %d times", n)
	}

	// At the next round the dead peer, which never answered, is dropped.
	clock.Add(int64(time.Minute))
	s.api.TickKeepAlive(now(), time.Minute)
	waitFor(t, "the dead peer dropped", func() bool { return s.api.Sessions() == 2 })
	for range dead.frames {
		// The server has closed the dead peer's socket.
	}
	// The silent peer answered and stays.
	silent.write(t, map[string]any{"type": "ping", "ref": "p2"})
	silent.expect(t, "pong")
}
