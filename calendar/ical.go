// Package calendar is the calendar presence source: it reads each agent's
// iCalendar feed (RFC 5545) and tells the conversation service whether
// the agent has a busy entry now, so that an available agent in a meeting
// is away with reason "meeting" and back when it ends.
//
// What is read of a feed: VEVENT components with DTSTART and DTEND or
// DURATION, as UTC times, times with a TZID (an IANA zone name), floating
// times (in Source's location) or dates (all-day); STATUS:CANCELLED and
// TRANSP:TRANSPARENT entries do not count; RRULE with FREQ=DAILY or
// FREQ=WEEKLY, INTERVAL, COUNT, UNTIL and BYDAY (plain weekdays); EXDATE;
// and RECURRENCE-ID, which moves one occurrence. Any other rule (monthly,
// yearly, BYMONTHDAY, BYSETPOS, …) counts as its first occurrence only.
package calendar

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event is one busy calendar entry, recurring or not.
type Event struct {
	UID   string
	Start time.Time
	// Days and Duration are the entry's length: whole days (all-day
	// entries keep their wall-clock ends across DST) plus a duration.
	Days     int
	Duration time.Duration
	rule     *rule
	// exdates are the excluded (or moved) occurrence starts, as Unix
	// seconds.
	exdates map[int64]bool
	// recurrenceID is set on an entry that replaces one occurrence.
	recurrenceID time.Time
}

// rule is a supported RRULE.
type rule struct {
	weekly   bool // else daily
	interval int
	count    int
	until    time.Time
	byDay    []time.Weekday
}

// maxSteps bounds the occurrences looked at for one question, so that a
// feed cannot make a check run long (about 270 years of daily entries).
const maxSteps = 100_000

// Busy reports whether any event is on at t.
func Busy(events []Event, t time.Time) bool {
	for i := range events {
		if events[i].On(t) {
			return true
		}
	}
	return false
}

// On reports whether an occurrence of e covers t.
func (e *Event) On(t time.Time) bool {
	on := false
	e.each(func(start time.Time) bool {
		if start.After(t) {
			return false
		}
		if !e.exdates[start.Unix()] && t.Before(e.end(start)) {
			on = true
			return false
		}
		return true
	})
	return on
}

func (e *Event) end(start time.Time) time.Time {
	return start.AddDate(0, 0, e.Days).Add(e.Duration)
}

// each calls yield with the occurrence starts in order until it returns
// false or the rule ends.
func (e *Event) each(yield func(time.Time) bool) {
	if e.rule == nil {
		yield(e.Start)
		return
	}
	r := e.rule
	y, m, d := e.Start.Date()
	hh, mm, ss := e.Start.Clock()
	loc := e.Start.Location()
	at := func(day int) time.Time { return time.Date(y, m, d+day, hh, mm, ss, 0, loc) }
	n := 0
	// emit reports whether to go on after the occurrence at start.
	emit := func(start time.Time) bool {
		if !r.until.IsZero() && start.After(r.until) {
			return false
		}
		n++
		if r.count > 0 && n > r.count {
			return false
		}
		return yield(start)
	}
	if !r.weekly {
		for k, steps := 0, 0; steps < maxSteps; k, steps = k+r.interval, steps+1 {
			s := at(k)
			if len(r.byDay) > 0 && !slices.Contains(r.byDay, s.Weekday()) {
				continue
			}
			if !emit(s) {
				return
			}
		}
		return
	}
	days := r.byDay
	if len(days) == 0 {
		days = []time.Weekday{e.Start.Weekday()}
	}
	// Weeks start on Monday (WKST=MO); offsets are days from DTSTART.
	monday := -((int(e.Start.Weekday()) + 6) % 7)
	for w, steps := 0, 0; steps < maxSteps; w, steps = w+r.interval, steps+1 {
		for _, wd := range days {
			off := monday + 7*w + (int(wd)+6)%7
			if off < 0 {
				continue // before DTSTART in its first week
			}
			if !emit(at(off)) {
				return
			}
		}
	}
}

// property is one content line: NAME;PARAM=…:VALUE.
type property struct {
	name   string
	params map[string]string
	value  string
}

// Parse reads the busy events of an iCalendar feed. Floating times and
// dates are in loc. Lines it does not understand are skipped; a feed with
// no VCALENDAR is an error.
func Parse(r io.Reader, loc *time.Location) ([]Event, error) {
	lines, err := unfold(r)
	if err != nil {
		return nil, err
	}
	var (
		events  []Event
		seenCal bool
		depth   int // components inside the current VEVENT (VALARM)
		inEvent bool
		props   []property
		moved   = map[string][]int64{} // UID → starts replaced by RECURRENCE-ID entries
	)
	for _, line := range lines {
		p, ok := parseLine(line)
		if !ok {
			continue
		}
		switch {
		case p.name == "BEGIN" && strings.EqualFold(p.value, "VCALENDAR"):
			seenCal = true
		case p.name == "BEGIN" && strings.EqualFold(p.value, "VEVENT") && !inEvent:
			inEvent, depth, props = true, 0, nil
		case p.name == "BEGIN" && inEvent:
			depth++
		case p.name == "END" && inEvent && depth > 0:
			depth--
		case p.name == "END" && inEvent && strings.EqualFold(p.value, "VEVENT"):
			inEvent = false
			e, busy, err := event(props, loc)
			if err != nil {
				continue // an entry with unreadable times is left out
			}
			if !e.recurrenceID.IsZero() {
				moved[e.UID] = append(moved[e.UID], e.recurrenceID.Unix())
			}
			if busy {
				events = append(events, e)
			}
		case inEvent && depth == 0:
			props = append(props, p)
		}
	}
	if !seenCal {
		return nil, fmt.Errorf("calendar: not an iCalendar feed (no BEGIN:VCALENDAR)")
	}
	for i := range events {
		e := &events[i]
		if e.recurrenceID.IsZero() && e.rule != nil {
			for _, s := range moved[e.UID] {
				e.exdates[s] = true
			}
		}
	}
	return events, nil
}

// unfold joins folded lines (a line break followed by a space or tab).
func unfold(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var lines []string
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(lines) > 0 {
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("calendar: reading the feed: %w", err)
	}
	return lines, nil
}

// parseLine splits NAME;P=V;P="V":VALUE; the value starts at the first
// colon outside quotes.
func parseLine(l string) (property, bool) {
	quoted := false
	colon := -1
	for i := 0; i < len(l); i++ {
		if l[i] == '"' {
			quoted = !quoted
		} else if l[i] == ':' && !quoted {
			colon = i
			break
		}
	}
	if colon <= 0 {
		return property{}, false
	}
	head := strings.Split(l[:colon], ";")
	p := property{name: strings.ToUpper(head[0]), value: l[colon+1:], params: map[string]string{}}
	for _, kv := range head[1:] {
		k, v, _ := strings.Cut(kv, "=")
		p.params[strings.ToUpper(k)] = strings.Trim(v, `"`)
	}
	return p, true
}

// event builds an Event from a VEVENT's properties; busy is false for
// cancelled and transparent entries.
func event(props []property, loc *time.Location) (e Event, busy bool, err error) {
	var (
		start, end   time.Time
		startAllDay  bool
		hasEnd       bool
		dur          time.Duration
		durDays      int
		hasDur       bool
		rrule        string
		cancelled    bool
		transparent  bool
		exdateValues []property
	)
	e.exdates = map[int64]bool{}
	for _, p := range props {
		switch p.name {
		case "UID":
			e.UID = p.value
		case "DTSTART":
			if start, startAllDay, err = parseTime(p, loc); err != nil {
				return e, false, err
			}
		case "DTEND":
			if end, _, err = parseTime(p, loc); err != nil {
				return e, false, err
			}
			hasEnd = true
		case "DURATION":
			if durDays, dur, err = parseDuration(p.value); err != nil {
				return e, false, err
			}
			hasDur = true
		case "RRULE":
			rrule = p.value
		case "EXDATE":
			exdateValues = append(exdateValues, p)
		case "RECURRENCE-ID":
			if e.recurrenceID, _, err = parseTime(p, loc); err != nil {
				return e, false, err
			}
		case "STATUS":
			cancelled = strings.EqualFold(p.value, "CANCELLED")
		case "TRANSP":
			transparent = strings.EqualFold(p.value, "TRANSPARENT")
		}
	}
	if start.IsZero() {
		return e, false, fmt.Errorf("calendar: VEVENT without DTSTART")
	}
	e.Start = start
	switch {
	case hasEnd && startAllDay:
		e.Days = int(civilDays(start, end))
	case hasEnd:
		e.Duration = end.Sub(start)
	case hasDur:
		e.Days, e.Duration = durDays, dur
	case startAllDay:
		e.Days = 1
	}
	if rrule != "" {
		e.rule = parseRule(rrule, loc, start.Location())
	}
	for _, p := range exdateValues {
		for _, v := range strings.Split(p.value, ",") {
			q := p
			q.value = v
			if t, _, err := parseTime(q, start.Location()); err == nil {
				e.exdates[t.Unix()] = true
			}
		}
	}
	return e, !cancelled && !transparent && (e.Days > 0 || e.Duration > 0), nil
}

// civilDays counts the calendar days from a to b.
func civilDays(a, b time.Time) int64 {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return (time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC).Unix() - time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC).Unix()) / 86400
}

// parseTime reads a DATE or DATE-TIME value: UTC (trailing Z), with a
// TZID parameter, or floating (in loc). allDay is true for a DATE.
func parseTime(p property, loc *time.Location) (t time.Time, allDay bool, err error) {
	v := strings.TrimSpace(p.value)
	if tzid := p.params["TZID"]; tzid != "" {
		if l, err := time.LoadLocation(tzid); err == nil {
			loc = l
		}
	}
	switch {
	case len(v) == 8 || strings.EqualFold(p.params["VALUE"], "DATE"):
		t, err = time.ParseInLocation("20060102", v, loc)
		return t, true, err
	case strings.HasSuffix(v, "Z"):
		t, err = time.Parse("20060102T150405Z", v)
		return t, false, err
	}
	t, err = time.ParseInLocation("20060102T150405", v, loc)
	return t, false, err
}

// parseDuration reads an RFC 5545 duration (P1D, PT1H30M, P2W); days
// are kept apart so all-day lengths follow the calendar.
func parseDuration(v string) (days int, d time.Duration, err error) {
	bad := fmt.Errorf("calendar: bad duration %q", v)
	v = strings.TrimPrefix(strings.TrimSpace(v), "+")
	if !strings.HasPrefix(v, "P") || strings.HasPrefix(v, "-") {
		return 0, 0, bad
	}
	v = v[1:]
	inTime, parts := false, 0
	num := ""
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
			num += string(c)
			continue
		case c == 'T':
			inTime = true
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n > 100000 {
			return 0, 0, bad
		}
		num = ""
		parts++
		switch {
		case c == 'W' && !inTime:
			days += 7 * n
		case c == 'D' && !inTime:
			days += n
		case c == 'H' && inTime:
			d += time.Duration(n) * time.Hour
		case c == 'M' && inTime:
			d += time.Duration(n) * time.Minute
		case c == 'S' && inTime:
			d += time.Duration(n) * time.Second
		default:
			return 0, 0, bad
		}
	}
	if num != "" || parts == 0 {
		return 0, 0, bad
	}
	return days, d, nil
}

var weekdays = map[string]time.Weekday{"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday,
	"WE": time.Wednesday, "TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday}

// parseRule reads a DAILY or WEEKLY RRULE; any other rule, or one with
// parts it does not support, is nil (the entry counts once).
func parseRule(v string, floating, startLoc *time.Location) *rule {
	r := &rule{interval: 1}
	for _, part := range strings.Split(v, ";") {
		k, val, _ := strings.Cut(part, "=")
		switch strings.ToUpper(k) {
		case "FREQ":
			switch strings.ToUpper(val) {
			case "DAILY":
			case "WEEKLY":
				r.weekly = true
			default:
				return nil
			}
		case "INTERVAL":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 1000 {
				return nil
			}
			r.interval = n
		case "COUNT":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return nil
			}
			r.count = n
		case "UNTIL":
			loc := floating
			if !strings.HasSuffix(val, "Z") {
				loc = startLoc
			}
			t, allDay, err := parseTime(property{value: val}, loc)
			if err != nil {
				return nil
			}
			if allDay {
				t = t.AddDate(0, 0, 1).Add(-time.Second) // the whole last day
			}
			r.until = t
		case "BYDAY":
			for _, d := range strings.Split(val, ",") {
				wd, ok := weekdays[strings.ToUpper(d)]
				if !ok {
					return nil // 1MO, -1FR and the like: monthly forms
				}
				r.byDay = append(r.byDay, wd)
			}
			// Monday first, the week order of WKST=MO.
			slices.SortFunc(r.byDay, func(a, b time.Weekday) int { return (int(a)+6)%7 - (int(b)+6)%7 })
		case "WKST", "":
		default:
			return nil
		}
	}
	return r
}
