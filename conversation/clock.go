package conversation

import "time"

// Clock is the service's source of time: the wall clock by default
// (Config.Clock nil). Every timestamp the service writes and every timer
// it sets (idle, disconnect and agent graces, poll leases) go through it.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f on a goroutine of its own after d, unless the
	// returned timer is stopped first.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer set with Clock.AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not happened yet, and reports
	// whether it did.
	Stop() bool
}

// wallClock is the real time.
type wallClock struct{}

func (wallClock) Now() time.Time                            { return time.Now() }
func (wallClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// now is the service clock's current time.
func (s *Service) now() time.Time { return s.clock.Now() }
