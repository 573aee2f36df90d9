package conversation

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

// chatTimers is the timing state of one active chat on this node: the
// visitor idle timeout and the disconnect grace. Guarded by Service.tmu.
type chatTimers struct {
	idleTimeout time.Duration // 0: no idle timer (not handling)
	idleGen     uint64        // bumped by every reset; stale callbacks compare it
	idle        Timer

	conns    int   // live visitor connections
	poll     Timer // fires PollGrace after the last long-poll
	away     bool  // the visitor is gone and the grace runs
	awayTold bool  // agents were told a message waits
	graceGen uint64
	grace    Timer
}

func (t *chatTimers) stopAll() {
	for _, tm := range []Timer{t.idle, t.poll, t.grace} {
		if tm != nil {
			tm.Stop()
		}
	}
}

// timersLocked returns the chat's timers, creating them. s.tmu is held.
func (s *Service) timersLocked(chatID string) *chatTimers {
	t := s.timers[chatID]
	if t == nil {
		t = &chatTimers{}
		s.timers[chatID] = t
	}
	return t
}

// after runs fn after d unless the service has closed, and lets Close wait
// for it.
func (s *Service) after(d time.Duration, fn func()) Timer {
	return s.clock.AfterFunc(d, func() {
		s.tmu.Lock()
		if s.ctx.Err() != nil {
			s.tmu.Unlock()
			return
		}
		s.wg.Add(1)
		s.tmu.Unlock()
		defer s.wg.Done()
		fn()
	})
}

// dropTimers forgets an ended chat's timers.
func (s *Service) dropTimers(chatID string) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if t := s.timers[chatID]; t != nil {
		t.stopAll()
		delete(s.timers, chatID)
	}
}

// armIdle starts the visitor idle timer of a chat that an agent handles.
func (s *Service) armIdle(chatID string, timeout time.Duration) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	t := s.timersLocked(chatID)
	t.idleTimeout = timeout
	s.resetIdleLocked(chatID, t)
}

// stopIdle stops the idle timer while nobody handles the chat.
func (s *Service) stopIdle(chatID string) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if t := s.timers[chatID]; t != nil {
		t.idleTimeout = 0
		s.resetIdleLocked(chatID, t)
	}
}

// visitorActive restarts the idle timer after visitor activity.
func (s *Service) visitorActive(chatID string) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if t := s.timers[chatID]; t != nil && t.idleTimeout > 0 {
		s.resetIdleLocked(chatID, t)
	}
}

func (s *Service) resetIdleLocked(chatID string, t *chatTimers) {
	if t.idle != nil {
		t.idle.Stop()
		t.idle = nil
	}
	t.idleGen++
	if t.idleTimeout <= 0 {
		return
	}
	gen, warn := t.idleGen, s.cfg.IdleWarning
	if warn > 0 && warn < t.idleTimeout {
		t.idle = s.after(t.idleTimeout-warn, func() { s.idleWarning(chatID, gen, warn) })
	} else {
		t.idle = s.after(t.idleTimeout, func() { s.idleExpired(chatID, gen) })
	}
}

func (s *Service) idleCurrent(chatID string, gen uint64) bool {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	t := s.timers[chatID]
	return t != nil && t.idleGen == gen
}

func (s *Service) idleWarning(chatID string, gen uint64, left time.Duration) {
	s.tmu.Lock()
	t := s.timers[chatID]
	if t == nil || t.idleGen != gen {
		s.tmu.Unlock()
		return
	}
	t.idle = s.after(left, func() { s.idleExpired(chatID, gen) })
	s.tmu.Unlock()
	secs := int(left / time.Second)
	s.appendSystem(s.ctx, chatID, func() bool { return s.idleCurrent(chatID, gen) }, parley.Event{
		Type: parley.EventNotice, From: system, Notice: parley.NoticeIdleWarning,
		Text: fmt.Sprintf("This chat will close in %d seconds unless you send a message.", secs),
		Args: []string{strconv.Itoa(secs)},
	})
}

func (s *Service) idleExpired(chatID string, gen uint64) {
	err := s.terminate(s.ctx, chatID, parley.CauseIdleTimeout, func(*parley.Chat) error {
		if !s.idleCurrent(chatID, gen) {
			return errStale
		}
		return nil
	})
	s.timerDone(chatID, err, "idle timeout")
}

var errStale = parley.Errorf(parley.ECONFLICT, "timer is stale")

// timerDone handles the result of a timeout's termination. A chat that had
// ended already (on another node, or in a race) leaves no timers behind.
func (s *Service) timerDone(chatID string, err error, what string) {
	switch {
	case err == nil, err == errStale:
	case isCode(err, parley.ECLOSED):
		s.dropTimers(chatID)
	default:
		s.log.Error(what, "chat", chatID, "err", err)
	}
}

// The visitor of a chat is present while it has a live connection (a
// WebSocket, a long-poll in progress) or while its lease runs: PollGrace
// after the last connection or long-poll ended, after the chat was
// requested, or after a restart. Presence is kept in memory: only when
// neither holds does the disconnect grace start and a "visitor left"
// notice get stored, so reconnects within the lease write nothing.

// VisitorConnected records a live visitor connection to an active chat,
// such as a WebSocket. A visitor who was away is back. Call release when
// the connection closes; the visitor stays present for PollGrace after
// the last connection closes.
func (s *Service) VisitorConnected(ctx context.Context, chatID string) (release func()) {
	return s.visitorConnect(ctx, chatID, false)
}

// VisitorPolled records a long-poll of the visitor: the visitor is present
// while the poll lasts and for PollGrace after release.
func (s *Service) VisitorPolled(ctx context.Context, chatID string) (release func()) {
	return s.visitorConnect(ctx, chatID, true)
}

func (s *Service) visitorConnect(ctx context.Context, chatID string, lease bool) func() {
	s.tmu.Lock()
	t := s.timers[chatID]
	if t == nil && s.cluster != nil {
		// The chat was requested on another node: its visitor's
		// presence is timed where the visitor is connected.
		t = s.timersLocked(chatID)
	}
	if t == nil {
		// Not an active chat on this node: nothing to time.
		s.tmu.Unlock()
		return func() {}
	}
	t.conns++
	if t.poll != nil {
		// A live connection supersedes the lease.
		t.poll.Stop()
		t.poll = nil
	}
	back, told := t.away, t.awayTold
	if back {
		t.away = false
		t.graceGen++
		if t.grace != nil {
			t.grace.Stop()
			t.grace = nil
		}
	}
	s.tmu.Unlock()
	s.connectionsChanged()
	if back {
		text := "The visitor is back."
		if told {
			text = "The visitor is back and now sees your messages."
		}
		s.appendSystem(ctx, chatID, nil, parley.Event{
			Type: parley.EventNotice, From: system, Audience: parley.AudienceAgents,
			Notice: parley.NoticeVisitorBack, Text: text,
		})
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.tmu.Lock()
			t.conns--
			if lease || t.conns == 0 {
				// The visitor counts as present for PollGrace more: a
				// page change or a reconnect within it writes nothing.
				s.leaseLocked(chatID, t)
			}
			gone := t.conns == 0 && t.poll == nil
			s.tmu.Unlock()
			s.connectionsChanged()
			if gone {
				s.visitorGone(chatID)
			}
		})
	}
}

// visitorSeen gives a visitor without a connection a lease (after a chat
// request, or after a restart).
func (s *Service) visitorSeen(chatID string) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	t := s.timersLocked(chatID)
	if t.conns == 0 && !t.away {
		s.leaseLocked(chatID, t)
	}
}

// leaseLocked (re)starts the presence lease. s.tmu is held.
func (s *Service) leaseLocked(chatID string, t *chatTimers) {
	if t.poll != nil {
		t.poll.Stop()
	}
	var lease Timer
	lease = s.after(s.cfg.PollGrace, func() {
		s.tmu.Lock()
		if t.poll != lease {
			s.tmu.Unlock()
			return // replaced by a newer lease
		}
		t.poll = nil
		gone := t.conns == 0
		s.tmu.Unlock()
		if gone {
			s.visitorGone(chatID)
		}
	})
	t.poll = lease
}

// visitorGone starts the disconnect grace and tells the agents.
func (s *Service) visitorGone(chatID string) {
	if s.cluster != nil && s.cluster.chatConns(chatID) > 0 {
		return // connected to another node, which times its presence
	}
	s.tmu.Lock()
	t := s.timers[chatID]
	if t == nil || t.away || t.conns > 0 || t.poll != nil || s.draining {
		s.tmu.Unlock()
		return
	}
	t.away, t.awayTold = true, false
	t.graceGen++
	gen := t.graceGen
	// The visitor has been gone for PollGrace already (the lease ran out):
	// the chat ends DisconnectTimeout after the visitor went, as configured.
	grace, warn := max(s.cfg.DisconnectTimeout-s.cfg.PollGrace, time.Second), s.cfg.DisconnectWarning
	if warn > 0 && warn < grace {
		t.grace = s.after(grace-warn, func() { s.graceWarning(chatID, gen, warn) })
	} else {
		t.grace = s.after(grace, func() { s.graceExpired(chatID, gen) })
	}
	s.tmu.Unlock()
	s.appendSystem(s.ctx, chatID, func() bool { return s.graceCurrent(chatID, gen) }, parley.Event{
		Type: parley.EventNotice, From: system, Audience: parley.AudienceAgents, Notice: parley.NoticeVisitorLeft,
		Text: fmt.Sprintf("The visitor left the page. The chat ends in %d seconds unless they come back.", int(grace/time.Second)),
		Args: []string{strconv.Itoa(int(grace / time.Second))},
	})
}

func (s *Service) graceCurrent(chatID string, gen uint64) bool {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	t := s.timers[chatID]
	return t != nil && t.away && t.graceGen == gen
}

func (s *Service) graceWarning(chatID string, gen uint64, left time.Duration) {
	s.tmu.Lock()
	t := s.timers[chatID]
	if t == nil || t.graceGen != gen || !t.away {
		s.tmu.Unlock()
		return
	}
	t.grace = s.after(left, func() { s.graceExpired(chatID, gen) })
	s.tmu.Unlock()
	secs := int(left / time.Second)
	s.appendSystem(s.ctx, chatID, func() bool { return s.graceCurrent(chatID, gen) }, parley.Event{
		Type: parley.EventNotice, From: system, Audience: parley.AudienceAgents, Notice: parley.NoticeVisitorClosing,
		Text: fmt.Sprintf("The visitor has not come back. The chat ends in %d seconds.", secs),
		Args: []string{strconv.Itoa(secs)},
	})
}

func (s *Service) graceExpired(chatID string, gen uint64) {
	err := s.terminate(s.ctx, chatID, parley.CauseDisconnectTimeout, func(*parley.Chat) error {
		if !s.graceCurrent(chatID, gen) {
			return errStale
		}
		return nil
	})
	s.timerDone(chatID, err, "disconnect timeout")
}

// awayNotice returns, once per absence, the notice that tells agents their
// message waits for the visitor.
func (s *Service) awayNotice(chatID string) (parley.Event, bool) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	t := s.timers[chatID]
	if t == nil || !t.away || t.awayTold {
		return parley.Event{}, false
	}
	t.awayTold = true
	return parley.Event{
		Type: parley.EventNotice, From: system, Audience: parley.AudienceAgents, Notice: parley.NoticeMessageWaiting,
		Text: "The visitor has left the page; your message will be shown when they come back.",
	}, true
}

// appendSystem appends system events to an active chat if still is nil or
// returns true under the chat's lock.
func (s *Service) appendSystem(ctx context.Context, chatID string, still func() bool, events ...parley.Event) {
	unlock := s.lockChat(chatID)
	c, err := s.store.Chat(ctx, chatID)
	if err != nil || !c.Active() || (still != nil && !still()) {
		unlock()
		if err != nil {
			s.log.Error("system event: load chat", "chat", chatID, "err", err)
		}
		return
	}
	stamp(chatID, s.now().UTC(), events)
	stored, err := s.store.AppendEvents(ctx, chatID, events)
	unlock()
	if err != nil {
		s.log.Error("system event", "chat", chatID, "err", err)
		return
	}
	s.publish(ctx, stored...)
}
