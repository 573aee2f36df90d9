package servicetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Postgres is a PostgreSQL server of the test's own: a cluster made by
// initdb in a temporary directory, trust authentication, listening on
// 127.0.0.1 on a fixed port for its whole life.
//
// It runs with fsync off: a test restarts the server, it never cuts the
// machine's power, and a fast or immediate shutdown keeps every committed
// transaction either way.
type Postgres struct {
	// URL is the address of its database "postgres" as the superuser
	// "postgres".
	URL string

	t    testing.TB
	bin  string // the directory of postgres and initdb
	dir  string // the socket directory; the data is in dir/data
	cred *syscall.Credential
	port int
	run  *child
}

// StartPostgres makes a new cluster, starts it and removes it when t
// ends. Running as root, the server runs as the user "postgres" (it
// refuses to run as root). Without the binaries t is skipped, or fails in
// CI.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin, err := postgresBin()
	if err != nil {
		missing(t, "PostgreSQL (postgres, initdb)", err)
	}
	p := &Postgres{t: t, bin: bin, port: freePort(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			missing(t, `the user "postgres" (PostgreSQL does not run as root)`, err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// Not t.TempDir: its parents are closed to other users.
	p.dir, err = os.MkdirTemp("", "parley-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.run != nil {
			p.run.stop(t, syscall.SIGQUIT, 10*time.Second) // immediate shutdown
		}
		_ = os.RemoveAll(p.dir)
	})
	if p.cred != nil {
		if err := os.Chown(p.dir, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(p.dir, "data"),
		"-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	logs := &syncBuffer{}
	run, err := spawn(initdb, p.cred, logs)
	if err != nil {
		t.Fatalf("servicetest: initdb: %v", err)
	}
	<-run.exited
	if !initdb.ProcessState.Success() {
		t.Fatalf("servicetest: initdb: %v\n%s", initdb.ProcessState, logs)
	}
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	p.Start()
	return p
}

// postgresBin finds the directory of the server's binaries: the newest
// Debian-style /usr/lib/postgresql/<version>/bin, else the PATH's.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return n
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", errors.New("no /usr/lib/postgresql/*/bin/initdb and no initdb in PATH")
	}
	return filepath.Dir(initdb), nil
}

// Start starts the server (again, after Stop) on the same port and waits
// until it accepts queries.
func (p *Postgres) Start() {
	p.t.Helper()
	if p.run != nil {
		p.t.Fatal("servicetest: PostgreSQL is running already")
	}
	cmd := exec.Command(filepath.Join(p.bin, "postgres"), "-D", filepath.Join(p.dir, "data"),
		"-p", strconv.Itoa(p.port), "-k", p.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	run, err := spawn(cmd, p.cred, &syncBuffer{})
	if err != nil {
		p.t.Fatalf("servicetest: start postgres: %v", err)
	}
	p.run = run
	if err := p.waitReady(30 * time.Second); err != nil {
		p.t.Fatalf("servicetest: postgres: %v\n%s", err, run.logs)
	}
}

// waitReady polls until the server answers a query (it accepts
// connections before it has finished starting up), with a deadline.
func (p *Postgres) waitReady(within time.Duration) error {
	if err := waitPort(p.port, within, p.run.exited); err != nil {
		return err
	}
	db, err := sql.Open("pgx", p.URL)
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.run.exited:
			return fmt.Errorf("the server exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %s: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond) // the poll's interval
	}
}

// Stop shuts the server down the fast way (SIGINT: open transactions are
// rolled back, clients disconnected) and waits until it is gone.
func (p *Postgres) Stop() {
	p.t.Helper()
	if p.run == nil {
		return
	}
	p.run.stop(p.t, syscall.SIGINT, 30*time.Second)
	p.run = nil
}

// Logs returns what the server printed since it last started.
func (p *Postgres) Logs() string {
	if p.run == nil {
		return ""
	}
	return strings.TrimSpace(p.run.logs.String())
}
