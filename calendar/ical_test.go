package calendar

import (
	"strings"
	"testing"
	"time"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s is not installed: %v", name, err)
	}
	return loc
}

func parse(t *testing.T, body string) []Event {
	t.Helper()
	feed := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + strings.ReplaceAll(strings.TrimSpace(body), "\n", "\r\n") + "\r\nEND:VCALENDAR\r\n"
	events, err := Parse(strings.NewReader(feed), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// check asserts Busy at each time.
func check(t *testing.T, events []Event, want map[string]bool) {
	t.Helper()
	for at, busy := range want {
		tm, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		if got := Busy(events, tm); got != busy {
			t.Errorf("busy at %s = %v, want %v", at, got, busy)
		}
	}
}

func TestParseTimes(t *testing.T) {
	mustLoad(t, "Europe/Berlin")
	events := parse(t, `
BEGIN:VEVENT
UID:utc
DTSTART:20310505T090000Z
DTEND:20310505T100000Z
SUMMARY:Team meeting
END:VEVENT
BEGIN:VEVENT
UID:zoned
DTSTART;TZID=Europe/Berlin:20310506T140000
DTEND;TZID="Europe/Berlin":20310506T143000
END:VEVENT
BEGIN:VEVENT
UID:floating
DTSTART:20310507T080000
DURATION:PT1H30M
END:VEVENT
BEGIN:VEVENT
UID:allday
DTSTART;VALUE=DATE:20310510
DTEND;VALUE=DATE:20310512
END:VEVENT
BEGIN:VEVENT
UID:folded
DTSTART:20310513T0
 70000Z
DTEND:20310513T080000Z
BEGIN:VALARM
TRIGGER:-PT15M
DTSTART:20310101T000000Z
END:VALARM
END:VEVENT`)
	if len(events) != 5 {
		t.Fatalf("%d events, want 5", len(events))
	}
	check(t, events, map[string]bool{
		"2031-05-05T08:59:59Z": false,
		"2031-05-05T09:00:00Z": true,
		"2031-05-05T09:59:59Z": true,
		"2031-05-05T10:00:00Z": false, // DTEND is not part of the entry
		// 14:00 in Berlin (summer time) is 12:00 UTC.
		"2031-05-06T11:59:00Z": false,
		"2031-05-06T12:15:00Z": true,
		"2031-05-06T12:30:00Z": false,
		// Floating times are in the given location (UTC here).
		"2031-05-07T09:29:00Z": true,
		"2031-05-07T09:30:00Z": false,
		// Two whole days.
		"2031-05-09T23:59:59Z": false,
		"2031-05-10T00:00:00Z": true,
		"2031-05-11T23:59:59Z": true,
		"2031-05-12T00:00:00Z": false,
		// A folded line is one line; the alarm's DTSTART is not the event's.
		"2031-05-13T07:30:00Z": true,
		"2031-01-01T00:30:00Z": false,
	})
}

func TestParseSkipsFreeEntries(t *testing.T) {
	events := parse(t, `
BEGIN:VEVENT
UID:cancelled
DTSTART:20310505T090000Z
DTEND:20310505T100000Z
STATUS:CANCELLED
END:VEVENT
BEGIN:VEVENT
UID:free
DTSTART:20310505T090000Z
DTEND:20310505T100000Z
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VEVENT
UID:no-start
DTEND:20310505T100000Z
END:VEVENT
BEGIN:VEVENT
UID:bad-time
DTSTART:2031-05-05 09:00
DTEND:20310505T100000Z
END:VEVENT`)
	if len(events) != 0 {
		t.Errorf("cancelled, free and unreadable entries gave %d events, want none", len(events))
	}
	if _, err := Parse(strings.NewReader("<html>not a calendar</html>"), time.UTC); err == nil {
		t.Error("a page that is not a feed parsed without error")
	}
}

func TestRecurrence(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	events := parse(t, `
BEGIN:VEVENT
UID:standup
DTSTART;TZID=Europe/Berlin:20310303T093000
DTEND;TZID=Europe/Berlin:20310303T094500
RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20310404T000000Z
EXDATE;TZID=Europe/Berlin:20310305T093000
END:VEVENT
BEGIN:VEVENT
UID:weekly
DTSTART:20310303T140000Z
DTEND:20310303T150000Z
RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH,MO;COUNT=4
END:VEVENT
BEGIN:VEVENT
UID:weekly
RECURRENCE-ID:20310317T140000Z
DTSTART:20310317T160000Z
DTEND:20310317T170000Z
END:VEVENT
BEGIN:VEVENT
UID:monthly
DTSTART:20310310T120000Z
DTEND:20310310T130000Z
RRULE:FREQ=MONTHLY;BYMONTHDAY=10
END:VEVENT`)
	in := func(y int, m time.Month, d, hh, mm int) string {
		return time.Date(y, m, d, hh, mm, 0, 0, berlin).UTC().Format(time.RFC3339)
	}
	check(t, events, map[string]bool{
		// Daily on weekdays at 09:30 Berlin time, across the switch to
		// summer time on 30 March: the wall-clock time stays.
		in(2031, 3, 3, 9, 40):  true,
		in(2031, 3, 4, 9, 40):  true,
		in(2031, 3, 5, 9, 40):  false, // EXDATE
		in(2031, 3, 8, 9, 40):  false, // Saturday
		in(2031, 3, 31, 9, 40): true,  // summer time
		in(2031, 3, 31, 9, 50): false,
		in(2031, 4, 3, 9, 40):  true,
		in(2031, 4, 7, 9, 40):  false, // after UNTIL
		// Every other week on Monday and Thursday, four times: 3 Mar (Mon),
		// 6 Mar (Thu), 17 Mar (Mon, moved to 16:00), 20 Mar (Thu).
		"2031-03-03T14:30:00Z": true,
		"2031-03-06T14:30:00Z": true,
		"2031-03-10T14:30:00Z": false, // the week in between
		"2031-03-17T14:30:00Z": false, // moved by RECURRENCE-ID…
		"2031-03-17T16:30:00Z": true,  // …to here
		"2031-03-20T14:30:00Z": true,
		"2031-03-31T14:30:00Z": false, // after COUNT
		// A monthly rule is not supported: its first occurrence counts.
		"2031-03-10T12:30:00Z": true,
		"2031-04-10T12:30:00Z": false,
	})
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]struct {
		days int
		d    time.Duration
	}{
		"P1D": {1, 0}, "PT1H30M": {0, 90 * time.Minute}, "P2W": {14, 0}, "P1DT2H": {1, 2 * time.Hour}, "PT45S": {0, 45 * time.Second},
	} {
		days, d, err := parseDuration(in)
		if err != nil || days != want.days || d != want.d {
			t.Errorf("parseDuration(%q) = %d, %v, %v; want %d, %v", in, days, d, err, want.days, want.d)
		}
	}
	for _, bad := range []string{"", "1H", "PT", "P1H", "-PT1H", "PT1X"} {
		if _, _, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) accepted", bad)
		}
	}
}
