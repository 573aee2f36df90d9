package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// A WebSocket may be opened from the server's own pages and from allowed
// origins, exact or by pattern; other origins get 403.
func TestWebSocketOrigins(t *testing.T) {
	s := newServer(t, conversation.Config{}, 3, httpapi.Options{PingInterval: time.Minute,
		AllowedOrigins: []string{"https://shop.example", "https://*.partner.example", "*.legacy.example"}})
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/v1/ws"
	for origin, want := range map[string]bool{
		"":                              true,
		s.URL:                           true,
		"https://shop.example":          true,
		"https://eu.partner.example":    true,
		"http://eu.partner.example":     false,
		"https://old.legacy.example":    true,
		"https://evil.example":          false,
		"https://shop.example.evil.net": false,
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
		cancel()
		if got := err == nil; got != want {
			t.Errorf("origin %q: opened %v; want %v (%v)", origin, got, want, err)
		}
		if err == nil {
			c.CloseNow()
		} else if resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q refused with %d; want 403", origin, resp.StatusCode)
		}
	}
}
