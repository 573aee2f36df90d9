package httpapi

import (
	"time"

	"github.com/parleychat/parley/internal/wsnb"
)

// TickKeepAlive turns the keep-alive wheel once round at time now, and
// sets how long a ping waits for its pong.
func (s *Server) TickKeepAlive(now time.Time, pongWait time.Duration) {
	s.keepalive.SetPongWait(pongWait)
	for range wsnb.WheelSlots {
		s.keepalive.Tick(now)
	}
}

// Sessions returns how many WebSocket sessions are open.
func (s *Server) Sessions() int {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	return len(s.conns)
}

// AwaitingPong returns how many sessions wait for the answer to a ping.
func (s *Server) AwaitingPong() int {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	n := 0
	for c := range s.conns {
		if c.AwaitingPong() {
			n++
		}
	}
	return n
}
