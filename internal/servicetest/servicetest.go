// Package servicetest runs a test's own PostgreSQL and NATS servers, on
// free loopback ports, that the test may stop and start again: the
// machine's shared servers (PARLEY_TEST_POSTGRES, PARLEY_TEST_NATS) serve
// other tests and must never be restarted.
//
// The servers are the installed binaries (postgres from
// /usr/lib/postgresql/<version>/bin or the PATH, nats-server from the
// PATH or /usr/sbin). Without them a test is skipped, except in CI
// (CI=true), where it fails. Each server is a child process of the test,
// killed when the test ends (and, on Linux, when the test process dies).
//
// Tests only.
package servicetest

import (
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// missing skips the test, or fails it in CI, for lack of a binary.
func missing(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed; CI needs it: %v", what, err)
	}
	t.Skipf("%s is not installed: skipping (%v)", what, err)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort polls until the port accepts connections or exited reports the
// process gone, with a deadline.
func waitPort(port int, within time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(within)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("the server exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s within %s: %v", addr, within, err)
		}
		time.Sleep(20 * time.Millisecond) // the poll's interval
	}
}
