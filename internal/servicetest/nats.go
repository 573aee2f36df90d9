package servicetest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// NATS is a nats-server of the test's own, on a fixed loopback port for
// its whole life, so clients reconnect to the same address after Start.
type NATS struct {
	// URL is the server's address, nats://127.0.0.1:<port>.
	URL string

	t    testing.TB
	bin  string
	port int
	run  *child
}

// StartNATS starts a nats-server (core NATS, no JetStream) and stops it
// when t ends. Without nats-server installed t is skipped, or fails in CI.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		bin = "/usr/sbin/nats-server"
		if _, serr := os.Stat(bin); serr != nil {
			missing(t, "nats-server", err)
		}
	}
	n := &NATS{t: t, bin: bin, port: freePort(t)}
	n.URL = fmt.Sprintf("nats://127.0.0.1:%d", n.port)
	t.Cleanup(func() {
		if n.run != nil {
			n.run.stop(t, syscall.SIGKILL, 10*time.Second)
		}
	})
	n.Start()
	return n
}

// Start starts the server again after Stop, on the same port, and waits
// until it accepts connections.
func (n *NATS) Start() {
	n.t.Helper()
	if n.run != nil {
		n.t.Fatal("servicetest: NATS is running already")
	}
	cmd := exec.Command(n.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(n.port))
	run, err := spawn(cmd, nil, &syncBuffer{})
	if err != nil {
		n.t.Fatalf("servicetest: start nats-server: %v", err)
	}
	n.run = run
	if err := waitPort(n.port, 15*time.Second, run.exited); err != nil {
		n.t.Fatalf("servicetest: nats-server: %v\n%s", err, run.logs)
	}
}

// Stop kills the server (SIGKILL: its clients lose their connections
// without a goodbye) and waits until it is gone.
func (n *NATS) Stop() {
	n.t.Helper()
	if n.run == nil {
		return
	}
	n.run.stop(n.t, syscall.SIGKILL, 10*time.Second)
	n.run = nil
}
