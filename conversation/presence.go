package conversation

import (
	"sync"

	"github.com/parleychat/parley"
)

// An agent's presence follows its connections: the console's WebSocket and
// its long-poll fallback. When the last one is gone for longer than
// Config.AgentGrace, the agent is set away, so routing withdraws its
// offers and stops counting it as ready. A reconnect within the grace
// (a page reload, a network hiccup) changes nothing. Counts are per node;
// in a cluster the grace ends in nothing while another node reports a
// connection of the agent, and the leader starts it for the agents of a
// node that died (cluster.nodeGone).

// agentLink is one agent's live connections on this node. Guarded by
// Service.tmu.
type agentLink struct {
	conns int
	gen   uint64 // bumped by every change; a stale grace compares it
	grace Timer  // runs while conns is 0 and the agent counts as present
}

// AgentConnected records a live connection of an agent (a console
// WebSocket, or a long-poll of the agent's notices) and returns the call
// that records its end. An agentID of 0 (a visitor) records nothing.
func (s *Service) AgentConnected(agentID int64) (release func()) {
	if agentID == 0 {
		return func() {}
	}
	s.tmu.Lock()
	l := s.agentLinkLocked(agentID)
	l.conns++
	l.stopGraceLocked()
	s.tmu.Unlock()
	s.connectionsChanged()
	var once sync.Once
	return func() { once.Do(func() { s.agentDisconnected(agentID, l) }) }
}

func (s *Service) agentDisconnected(agentID int64, l *agentLink) {
	s.tmu.Lock()
	l.conns--
	if l.conns == 0 && !s.draining {
		s.startGraceLocked(agentID, l)
	}
	s.tmu.Unlock()
	s.connectionsChanged()
}

// connectionsChanged makes a cluster node report its connections soon.
func (s *Service) connectionsChanged() {
	if s.cluster != nil {
		s.cluster.connectionsChanged()
	}
}

// agentSeen starts the grace of an agent that counts as present without a
// connection (after a restart): it is away unless a console connects.
func (s *Service) agentSeen(agentID int64) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if l := s.agentLinkLocked(agentID); l.conns == 0 && l.grace == nil {
		s.startGraceLocked(agentID, l)
	}
}

// agentLinkLocked returns the agent's link, creating it. s.tmu is held.
func (s *Service) agentLinkLocked(agentID int64) *agentLink {
	if s.agentLinks == nil {
		s.agentLinks = make(map[int64]*agentLink)
	}
	l := s.agentLinks[agentID]
	if l == nil {
		l = &agentLink{}
		s.agentLinks[agentID] = l
	}
	return l
}

func (l *agentLink) stopGraceLocked() {
	l.gen++
	if l.grace != nil {
		l.grace.Stop()
		l.grace = nil
	}
}

func (s *Service) startGraceLocked(agentID int64, l *agentLink) {
	l.stopGraceLocked()
	gen := l.gen
	l.grace = s.after(s.cfg.AgentGrace, func() { s.agentGone(agentID, gen) })
}

// agentUnreachable reports whether the agent has no connection on this node
// and the grace that started with generation gen still stands.
func (s *Service) agentUnreachable(agentID int64, gen uint64) bool {
	s.tmu.Lock()
	l := s.agentLinks[agentID]
	here := l != nil && l.conns == 0 && l.gen == gen
	s.tmu.Unlock()
	return here && (s.cluster == nil || s.cluster.agentConns(agentID) == 0)
}

// agentGone sets an agent whose last connection ended a grace ago away.
// The check and the change happen under the routing lock, so a console
// that reconnects meanwhile either wins or finds the agent away.
func (s *Service) agentGone(agentID int64, gen uint64) {
	_, err := s.changeAgent(s.ctx, agentID, func(a *parley.Agent) error {
		// An agent a presence source holds away is set away for good: it
		// must not come back when the meeting or call ends.
		if !s.agentUnreachable(agentID, gen) || a.Presence == parley.PresenceOffline ||
			(a.Presence == parley.PresenceAway && a.PresenceReason == "") {
			return errStale
		}
		combinePresence(a, parley.PresenceAway)
		return nil
	})
	switch {
	case err == nil:
		s.log.Info("agent away: no console connected", "agent", agentID, "grace", s.cfg.AgentGrace)
	case err == errStale, isCode(err, parley.ENOTFOUND), s.ctx.Err() != nil:
	default:
		s.log.Error("agent away", "agent", agentID, "err", err)
	}
	s.tmu.Lock()
	if l := s.agentLinks[agentID]; l != nil && l.gen == gen && l.conns == 0 {
		delete(s.agentLinks, agentID)
	}
	s.tmu.Unlock()
}

// stopAgentGracesLocked stops every agent grace (the service closes).
// s.tmu is held.
func (s *Service) stopAgentGracesLocked() {
	for _, l := range s.agentLinks {
		l.stopGraceLocked()
	}
}
