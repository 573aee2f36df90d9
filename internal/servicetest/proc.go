package servicetest

import (
	"bytes"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// child is one run of a server process.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{}
	logs   *syncBuffer
}

// syncBuffer is the output of a child, written by its process's pipes
// and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// spawn starts cmd as a child that dies with the test process. cred, when
// set, runs it as that user (PostgreSQL refuses to run as root).
func spawn(cmd *exec.Cmd, cred *syscall.Credential, logs *syncBuffer) (*child, error) {
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = sysProcAttr(cred)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, exited: make(chan struct{}), logs: logs}
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// stop sends sig and waits for the process to exit, killing it after
// grace.
func (c *child) stop(t testing.TB, sig syscall.Signal, grace time.Duration) {
	t.Helper()
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.exited:
	case <-time.After(grace):
		t.Errorf("%s did not exit within %s of %v; killed", c.cmd.Path, grace, sig)
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}
