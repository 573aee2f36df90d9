package routing

import (
	"slices"
	"time"

	"github.com/parleychat/parley"
)

// Schedule is when a group is open: weekly opening hours and holidays in
// the group's time zone. A nil *Schedule is always open.
type Schedule struct {
	loc      *time.Location
	week     [7][]span // by time.Weekday; no entries on any day means always open
	always   bool
	holidays map[string]bool // YYYY-MM-DD
}

type span struct{ from, to int } // minutes after midnight, [from, to)

// NewSchedule builds the schedule of a group's routing settings; it returns
// nil when the group has no hours and no holidays (always open).
func NewSchedule(r parley.GroupRouting) (*Schedule, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if len(r.Hours) == 0 && len(r.Holidays) == 0 {
		return nil, nil
	}
	loc, err := r.Location()
	if err != nil {
		return nil, err
	}
	s := &Schedule{loc: loc, always: len(r.Hours) == 0, holidays: make(map[string]bool, len(r.Holidays))}
	for _, h := range r.Hours {
		day := slices.Index(parley.Weekdays[:], h.Day)
		from, _ := parley.Minutes(h.Open)
		to, _ := parley.Minutes(h.Close)
		s.week[day] = append(s.week[day], span{from, to})
	}
	for _, d := range r.Holidays {
		s.holidays[d] = true
	}
	return s, nil
}

// Open reports whether the schedule is open at t.
func (s *Schedule) Open(t time.Time) bool {
	if s == nil {
		return true
	}
	local := t.In(s.loc)
	if s.holidays[local.Format(time.DateOnly)] {
		return false
	}
	if s.always {
		return true
	}
	m := local.Hour()*60 + local.Minute()
	for _, sp := range s.week[local.Weekday()] {
		if sp.from <= m && m < sp.to {
			return true
		}
	}
	return false
}
