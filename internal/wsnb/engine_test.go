package wsnb

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
)

// echoOnce answers the first message with "pong"; a "bye" makes the
// server close the connection from another goroutine, as the keep-alive
// wheel and a sign-out do.
type echoOnce struct{ c *Conn }

func (h *echoOnce) OnOpen() {}
func (h *echoOnce) OnMessage(_ bool, data []byte) {
	if string(data) == "bye" {
		go h.c.Close(1000, "bye")
		return
	}
	_ = h.c.WriteText([]byte("pong"))
}
func (h *echoOnce) OnPong()  {}
func (h *echoOnce) OnClose() {}

// Connections opened while others close, from the client's side and from
// goroutines of the server's, each get their answer: a descriptor closed
// outside the event loop and reused by a new socket used to let the old
// socket's hang-up close the new one (about one in 3,000 opens).
func TestChurnDropsNoNewConnection(t *testing.T) {
	e := NewEngine("churn", 1<<10)
	defer e.Stop()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, status, why := CheckHandshake(r)
		if status != 0 {
			http.Error(w, why, status)
			return
		}
		if err := e.Accept(w, key, func(c *Conn) Handler { return &echoOnce{c: c} }); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	cycles := 1500
	if testing.Short() {
		cycles = 200
	}
	const clients = 4
	var dropped, opened atomic.Int64
	var wg sync.WaitGroup
	ctx := context.Background()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range cycles {
				conn, _, err := websocket.Dial(ctx, url, nil)
				if err != nil {
					t.Error(err)
					return
				}
				opened.Add(1)
				if err := conn.Write(ctx, websocket.MessageText, []byte("ping")); err != nil {
					t.Error(err)
					return
				}
				_, data, err := conn.Read(ctx)
				switch {
				case errors.Is(err, io.EOF) || websocket.CloseStatus(err) != -1:
					dropped.Add(1)
				case err != nil:
					t.Error(err)
					return
				case string(data) != "pong":
					t.Errorf("answer %q", data)
				}
				if (i+w)%2 == 0 {
					conn.Close(websocket.StatusNormalClosure, "")
					continue
				}
				// The server closes: the client reads its close frame.
				_ = conn.Write(ctx, websocket.MessageText, []byte("bye"))
				if _, _, err := conn.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
					t.Errorf("after bye: %v", err)
				}
				conn.CloseNow()
			}
		}()
	}
	wg.Wait()
	if n := dropped.Load(); n > 0 {
		t.Fatalf("%d of %d new connections were closed before their answer", n, opened.Load())
	}
	t.Logf("%d connections, none dropped", opened.Load())
}
