package throttle

import (
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{
		"": {}, "0": {}, "0/1h": {}, "10/1h": {N: 10, Per: time.Hour}, " 3 / 10m ": {N: 3, Per: 10 * time.Minute},
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"10", "x/1h", "-1/1h", "10/0s", "10/1ms", "10/1000h", "10/soon"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) took it", bad)
		}
	}
	if s := (Rate{N: 60, Per: time.Hour}).String(); s != "60/1h0m0s" {
		t.Errorf("String = %q", s)
	}
}

// TestMeterBurstAndRefill: a key takes N at once, is then refused with the
// wait until the next one, and regains one per Per/N; other keys are
// counted apart; a returned action can be taken again.
func TestMeterBurstAndRefill(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	m := NewMeter(Rate{N: 3, Per: 30 * time.Minute}, clk.now)
	for i := range 3 {
		if w := m.Take("a"); w != 0 {
			t.Fatalf("take %d within the burst: wait %v", i+1, w)
		}
	}
	if w := m.Take("a"); w != 10*time.Minute {
		t.Fatalf("over the burst: wait %v, want 10m (one step)", w)
	}
	if w := m.Take("b"); w != 0 {
		t.Fatalf("another key: wait %v", w)
	}
	clk.t = clk.t.Add(4 * time.Minute)
	if w := m.Take("a"); w != 6*time.Minute {
		t.Fatalf("4 minutes later: wait %v, want 6m", w)
	}
	clk.t = clk.t.Add(6 * time.Minute)
	if w := m.Take("a"); w != 0 {
		t.Fatalf("a step later: wait %v, want one more allowed", w)
	}
	if w := m.Take("a"); w == 0 {
		t.Fatal("two allowed after one step")
	}
	m.Return("a")
	if w := m.Take("a"); w != 0 {
		t.Fatalf("a returned action: wait %v", w)
	}
	if m.Allowed() != 5 || m.Refused() != 3 {
		t.Errorf("allowed %d refused %d; want 5 and 3 (a returned action is not counted)", m.Allowed(), m.Refused())
	}
	clk.t = clk.t.Add(time.Hour)
	for i := range 3 {
		if w := m.Take("a"); w != 0 {
			t.Fatalf("after an hour, take %d: wait %v; the bucket should be full", i+1, w)
		}
	}
}

func TestMeterOffAndBounded(t *testing.T) {
	off := NewMeter(Rate{}, nil)
	for range 1000 {
		if off.Take("a") != 0 {
			t.Fatal("the zero rate refused")
		}
	}
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	m := NewMeter(Rate{N: 1, Per: time.Hour}, clk.now)
	m.maxKeys = 100
	for i := range 1000 {
		m.Take(string(rune(i)))
	}
	if n := len(m.full); n > 100 {
		t.Errorf("%d keys remembered; want at most 100", n)
	}
}
