package httpapi

import "time"

// TickKeepAlive turns the keep-alive wheel once round at time now, and
// sets how long a ping waits for its pong.
func (s *Server) TickKeepAlive(now time.Time, pongWait time.Duration) {
	s.keepalive.mu.Lock()
	s.keepalive.pongWait = pongWait
	s.keepalive.mu.Unlock()
	for range wheelSlots {
		s.keepalive.tick(now)
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
		if sent := c.pingSent.Load(); sent != 0 && c.heard.Load() < sent {
			n++
		}
	}
	return n
}
