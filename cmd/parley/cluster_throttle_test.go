package main

import (
	"testing"
)

// TestClusterLoginThrottle: the login throttle counts every node's
// failures. Five wrong passwords for one account on one node lock the
// account there; the other node refuses the account (429) before it has
// counted five failures of its own, however the attempts are spread.
func TestClusterLoginThrottle(t *testing.T) {
	c := newTestCluster(t)
	a, b := c.node(), c.node()
	login := func(p *proc, password string) int {
		return p.call("POST", "/api/v1/auth/login", "", map[string]string{"login": "agent2", "password": password}, nil)
	}
	for i := range 5 {
		if code := login(a, "wrong"); code != 401 {
			t.Fatalf("wrong password %d on A: %d; want 401", i+1, code)
		}
	}
	if code := login(a, "wrong"); code != 429 {
		t.Fatalf("a sixth wrong password on A: %d; want 429 (locked)", code)
	}
	// Each wrong attempt B lets through counts there too; on its own B
	// would lock only after five.
	own := 0
	for {
		code := login(b, "wrong")
		if code == 429 {
			break
		}
		if code != 401 {
			t.Fatalf("wrong password on B: %d", code)
		}
		own++
		if own == 5 {
			t.Fatal("B let five wrong passwords through: it did not count A's failures")
		}
	}
	t.Logf("B refused the account after %d failures of its own", own)
	// The right password waits too, on both nodes.
	for _, p := range []*proc{a, b} {
		if code := login(p, b.password); code != 429 {
			t.Errorf("the right password while locked: %d; want 429", code)
		}
	}
	a.stop()
	b.stop()
}
