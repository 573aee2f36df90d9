package routing

import (
	"reflect"
	"testing"
	"time"

	"github.com/parleychat/parley"
	_ "time/tzdata" // the tests need Europe/Berlin wherever they run
)

func utcAt(year int, month time.Month, day, hour, min int) time.Time {
	return time.Date(year, month, day, hour, min, 0, 0, time.UTC)
}

// weekdays returns the same opening hours from Monday to Friday.
func weekdays(open, close string) []parley.OpeningHours {
	var h []parley.OpeningHours
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		h = append(h, parley.OpeningHours{Day: d, Open: open, Close: close})
	}
	return h
}

func hours(day, open, close string) parley.OpeningHours {
	return parley.OpeningHours{Day: day, Open: open, Close: close}
}

func TestScheduleOpen(t *testing.T) {
	const berlin = "Europe/Berlin"
	office := parley.GroupRouting{TimeZone: berlin, Hours: weekdays("09:00", "17:00")}
	officeUTC := parley.GroupRouting{Hours: weekdays("09:00", "17:00")}
	mondayNight := []parley.OpeningHours{hours("mon", "00:00", "01:00")}
	earlySunday := parley.GroupRouting{TimeZone: berlin, Hours: []parley.OpeningHours{hours("sun", "01:00", "04:00")}}
	twoToThree := parley.GroupRouting{TimeZone: berlin, Hours: []parley.OpeningHours{hours("sun", "02:00", "03:00")}}
	evening := parley.GroupRouting{Hours: []parley.OpeningHours{hours("fri", "18:00", "24:00")}}
	allDay := parley.GroupRouting{Hours: []parley.OpeningHours{hours("mon", "00:00", "24:00")}}
	split := parley.GroupRouting{Hours: []parley.OpeningHours{hours("mon", "13:00", "17:00"), hours("mon", "08:00", "12:00")}}
	christmasEve := parley.GroupRouting{TimeZone: berlin, Hours: weekdays("09:00", "17:00"), Holidays: []string{"2026-12-24"}}
	christmas := parley.GroupRouting{TimeZone: berlin, Holidays: []string{"2026-12-25"}}
	christmasUTC := parley.GroupRouting{Holidays: []string{"2026-12-25"}}

	cases := []struct {
		name string
		r    parley.GroupRouting
		at   time.Time
		want bool
	}{
		{"Berlin in winter: 09:00 CET is 08:00 UTC", office, utcAt(2026, 3, 2, 8, 0), true},
		{"Berlin in winter: 08:59 CET", office, utcAt(2026, 3, 2, 7, 59), false},
		{"Berlin in winter: 16:59 CET", office, utcAt(2026, 3, 2, 15, 59), true},
		{"the closing minute is closed", office, utcAt(2026, 3, 2, 16, 0), false},
		{"UTC: 08:00 is before opening", officeUTC, utcAt(2026, 3, 2, 8, 0), false},
		{"UTC: 16:30 is open", officeUTC, utcAt(2026, 3, 2, 16, 30), true},
		{"Berlin in summer: 09:00 CEST is 07:00 UTC", office, utcAt(2026, 6, 1, 7, 0), true},
		{"Berlin in summer: 06:59 UTC", office, utcAt(2026, 6, 1, 6, 59), false},
		{"Berlin in summer: 17:00 CEST is 15:00 UTC", office, utcAt(2026, 6, 1, 15, 0), false},
		{"Saturday is closed", office, utcAt(2026, 3, 7, 10, 0), false},
		{"the weekday is the zone's: Sunday 23:30 UTC is Monday in Berlin",
			parley.GroupRouting{TimeZone: berlin, Hours: mondayNight}, utcAt(2026, 3, 1, 23, 30), true},
		{"the same instant is Sunday in UTC", parley.GroupRouting{Hours: mondayNight}, utcAt(2026, 3, 1, 23, 30), false},
		{"spring forward: 01:30 CET", earlySunday, utcAt(2026, 3, 29, 0, 30), true},
		{"spring forward: 03:00 CEST follows 01:59 CET", earlySunday, utcAt(2026, 3, 29, 1, 0), true},
		{"spring forward: 04:00 CEST", earlySunday, utcAt(2026, 3, 29, 2, 0), false},
		{"spring forward: the skipped hour, just before", twoToThree, utcAt(2026, 3, 29, 0, 59), false},
		{"spring forward: the skipped hour, just after", twoToThree, utcAt(2026, 3, 29, 1, 0), false},
		{"fall back: 01:59 CEST", twoToThree, utcAt(2026, 10, 24, 23, 59), false},
		{"fall back: 02:30 CEST", twoToThree, utcAt(2026, 10, 25, 0, 30), true},
		{"fall back: 02:30 CET, the hour again", twoToThree, utcAt(2026, 10, 25, 1, 30), true},
		{"fall back: 03:00 CET", twoToThree, utcAt(2026, 10, 25, 2, 0), false},
		{"24:00: open at 23:59", evening, utcAt(2026, 3, 6, 23, 59), true},
		{"24:00: closed at midnight", evening, utcAt(2026, 3, 7, 0, 0), false},
		{"00:00 to 24:00: open at midnight", allDay, utcAt(2026, 3, 2, 0, 0), true},
		{"00:00 to 24:00: open at 23:59", allDay, utcAt(2026, 3, 2, 23, 59), true},
		{"00:00 to 24:00: closed the next day", allDay, utcAt(2026, 3, 3, 0, 0), false},
		{"two spans: the morning", split, utcAt(2026, 3, 2, 11, 59), true},
		{"two spans: lunch", split, utcAt(2026, 3, 2, 12, 0), false},
		{"two spans: end of lunch", split, utcAt(2026, 3, 2, 12, 59), false},
		{"two spans: the afternoon", split, utcAt(2026, 3, 2, 13, 0), true},
		{"two spans: the evening", split, utcAt(2026, 3, 2, 17, 0), false},
		{"a holiday closes a working day", christmasEve, utcAt(2026, 12, 24, 9, 0), false},
		{"the day before the holiday is open", christmasEve, utcAt(2026, 12, 23, 9, 0), true},
		{"the holiday is the zone's date: 23:30 UTC on the 24th", christmas, utcAt(2026, 12, 24, 23, 30), false},
		{"holidays only: open on other days", christmas, utcAt(2026, 12, 24, 22, 59), true},
		{"holidays only: closed all the holiday", christmas, utcAt(2026, 12, 25, 22, 59), false},
		{"a UTC holiday starts at midnight UTC", christmasUTC, utcAt(2026, 12, 24, 23, 30), true},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSchedule(tt.r)
			if err != nil || s == nil {
				t.Fatalf("NewSchedule(%+v) = %v, %v", tt.r, s, err)
			}
			if got := s.Open(tt.at); got != tt.want {
				t.Errorf("Open(%v) = %v; want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestScheduleAlwaysOpen(t *testing.T) {
	for _, r := range []parley.GroupRouting{{}, {TimeZone: "Europe/Berlin", Strategy: parley.StrategyManual, WrapUpSeconds: 30}} {
		s, err := NewSchedule(r)
		if err != nil || s != nil {
			t.Errorf("NewSchedule(%+v) = %v, %v; want nil, nil (always open)", r, s, err)
		}
	}
	var s *Schedule
	for _, at := range []time.Time{utcAt(2026, 3, 7, 3, 0), utcAt(2026, 12, 25, 12, 0), {}} {
		if !s.Open(at) {
			t.Errorf("a nil schedule is closed at %v", at)
		}
	}
}

func TestScheduleInvalid(t *testing.T) {
	mon := func(open, close string) []parley.OpeningHours {
		return []parley.OpeningHours{hours("mon", open, close)}
	}
	cases := []struct {
		name string
		r    parley.GroupRouting
	}{
		{"unknown time zone", parley.GroupRouting{TimeZone: "Europe/Atlantis", Hours: mon("09:00", "17:00")}},
		{"unknown day", parley.GroupRouting{Hours: []parley.OpeningHours{hours("monday", "09:00", "17:00")}}},
		{"empty day", parley.GroupRouting{Hours: []parley.OpeningHours{hours("", "09:00", "17:00")}}},
		{"closing at opening", parley.GroupRouting{Hours: mon("09:00", "09:00")}},
		{"closing before opening", parley.GroupRouting{Hours: mon("18:00", "09:00")}},
		{"hour 25", parley.GroupRouting{Hours: mon("09:00", "25:00")}},
		{"after 24:00", parley.GroupRouting{Hours: mon("09:00", "24:01")}},
		{"minute 60", parley.GroupRouting{Hours: mon("09:60", "17:00")}},
		{"one-digit hour", parley.GroupRouting{Hours: mon("9:00", "17:00")}},
		{"not a time", parley.GroupRouting{Hours: mon("09:00", "5 pm")}},
		{"holiday month 13", parley.GroupRouting{Holidays: []string{"2026-13-01"}}},
		{"holiday not ISO", parley.GroupRouting{Holidays: []string{"24.12.2026"}}},
		{"holiday with a bad zone", parley.GroupRouting{TimeZone: "Nowhere", Holidays: []string{"2026-12-24"}}},
		{"unknown strategy", parley.GroupRouting{Strategy: "random", Hours: mon("09:00", "17:00")}},
		{"wrap-up too long", parley.GroupRouting{WrapUpSeconds: 3601, Hours: mon("09:00", "17:00")}},
		{"offer timeout too short", parley.GroupRouting{OfferTimeoutSeconds: 4, Hours: mon("09:00", "17:00")}},
		{"offer timeout too long", parley.GroupRouting{OfferTimeoutSeconds: 3601, Hours: mon("09:00", "17:00")}},
		{"negative offer timeout", parley.GroupRouting{OfferTimeoutSeconds: -1, Hours: mon("09:00", "17:00")}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSchedule(tt.r)
			if parley.ErrorCode(err) != parley.EINVALID || s != nil {
				t.Errorf("NewSchedule(%+v) = %v, %v; want an invalid error", tt.r, s, err)
			}
		})
	}
}

// TestBusinessHours: a group outside its hours is closed for routing.
// Group 1 opens Monday to Friday 09:00 to 17:00 UTC; group 2 always.
func TestBusinessHours(t *testing.T) {
	s, err := NewSchedule(parley.GroupRouting{Hours: weekdays("09:00", "17:00")})
	if err != nil {
		t.Fatal(err)
	}
	holiday, err := NewSchedule(parley.GroupRouting{Hours: weekdays("09:00", "17:00"), Holidays: []string{"2026-03-02"}})
	if err != nil {
		t.Fatal(err)
	}
	early, open := utcAt(2026, 3, 2, 8, 0), utcAt(2026, 3, 2, 10, 0) // a Monday
	busy := withPresence(member(21, 1, 2), parley.PresenceBusy)
	cases := []struct {
		name     string
		schedule *Schedule
		agents   []Agent
		at       time.Time
		groups   []int64
		want     Decision
	}{
		{"within the hours", s, []Agent{member(11, 1, 1)}, open, []int64{1}, Offer{"c", 11, 1}},
		{"before the hours: closed", s, []Agent{member(11, 1, 1)}, early, []int64{1}, Closed{"c", 1}},
		{"a holiday: closed", holiday, []Agent{member(11, 1, 1)}, open, []int64{1}, Closed{"c", 1}},
		{"a closed group is skipped for the next", s, []Agent{member(11, 1, 1), member(21, 1, 2)}, early, []int64{1, 2},
			Offer{"c", 21, 2}},
		{"a closed group is no place to wait", s, []Agent{member(11, 1, 1), busy}, early, []int64{1, 2}, Queued{"c", 2, 1, -1}},
		{"an open first group is still first to wait", s, []Agent{withPresence(member(11, 1, 1), parley.PresenceBusy), busy},
			open, []int64{1, 2}, Queued{"c", 1, 1, -1}},
		{"only closed groups: closed", s, []Agent{member(11, 1, 1)}, early, []int64{1, 3}, Closed{"c", 1}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEngine(Options{})
			e.Handle(GroupChanged{Group{ID: 1, Schedule: tt.schedule}})
			for _, a := range tt.agents {
				e.Handle(AgentChanged{Agent: a, At: tt.at})
			}
			got := routed(e.Handle(ChatQueued{ChatID: "c", Groups: tt.groups, At: tt.at}))
			if want := []Decision{tt.want}; !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v\nwant %#v", got, want)
			}
		})
	}
	t.Run("queries", func(t *testing.T) {
		e := NewEngine(Options{})
		e.Handle(GroupChanged{Group{ID: 1, Schedule: s}})
		e.Handle(AgentChanged{Agent: member(11, 1, 1, 2), At: early})
		for _, q := range []struct {
			at   time.Time
			want bool
		}{{early, false}, {open, true}, {utcAt(2026, 3, 2, 17, 0), false}, {utcAt(2026, 3, 7, 10, 0), false}} {
			if got := e.GroupOpen(1, q.at); got != q.want {
				t.Errorf("GroupOpen(1, %v) = %v; want %v", q.at, got, q.want)
			}
		}
		if g, ok := e.FirstOpen([]int64{1, 2}, early); !ok || g != 2 {
			t.Errorf("FirstOpen([1 2]) before the hours = %d, %v; want 2, true", g, ok)
		}
		if g, ok := e.FirstOpen([]int64{1, 2}, open); !ok || g != 1 {
			t.Errorf("FirstOpen([1 2]) within the hours = %d, %v; want 1, true", g, ok)
		}
	})
}

func TestPreferredAgentRespectsOpeningHours(t *testing.T) {
	s, err := NewSchedule(parley.GroupRouting{Hours: weekdays("09:00", "17:00")})
	if err != nil {
		t.Fatal(err)
	}
	early := utcAt(2026, 3, 2, 8, 0)
	e := NewEngine(Options{})
	e.Handle(GroupChanged{Group{ID: 1, Schedule: s}})
	e.Handle(AgentChanged{Agent: member(11, 1, 1), At: early})
	got := routed(e.Handle(ChatQueued{ChatID: "p", Groups: []int64{1}, At: early, Preferred: 11}))
	if want := []Decision{Closed{"p", 1}}; !reflect.DeepEqual(got, want) {
		t.Errorf("a request before the hours with a preferred agent: got %#v\nwant %#v", got, want)
	}
}
