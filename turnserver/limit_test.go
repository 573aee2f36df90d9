package turnserver

import (
	"net"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(1000, func() time.Time { return now })
	if !l.take(600) || !l.take(400) {
		t.Fatal("a full second's budget was refused")
	}
	if l.take(1) {
		t.Fatal("a byte over the budget passed")
	}
	now = now.Add(500 * time.Millisecond)
	if !l.take(500) || l.take(1) {
		t.Fatal("half a second later half the budget should pass, and no more")
	}
	now = now.Add(time.Hour)
	if l.take(1001) {
		t.Fatal("the bucket holds more than a second of traffic")
	}
	if !newLimiter(0, time.Now).take(1 << 30) {
		t.Fatal("no limit refused a packet")
	}
}

func TestPermit(t *testing.T) {
	s := &Server{cfg: Config{PublicIP: net.ParseIP("203.0.113.7")}}
	for ip, want := range map[string]bool{
		"203.0.113.7": true, "198.51.100.2": true, "192.168.1.20": true,
		"127.0.0.1": false, "::1": false, "169.254.169.254": false, "0.0.0.0": false, "224.0.0.1": false,
	} {
		if got := s.permit(nil, net.ParseIP(ip)); got != want {
			t.Errorf("permit(%s) = %v; want %v", ip, got, want)
		}
	}
}
