package servicetest

import (
	"context"
	"database/sql"
	"net"
	"strings"
	"testing"
	"time"
)

// TestPostgresRestart: a committed row outlives a fast shutdown and a
// start on the same port, and the server refuses connections meanwhile.
func TestPostgresRestart(t *testing.T) {
	p := StartPostgres(t)
	db, err := sql.Open("pgx", p.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before')`); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("the stopped server answered")
	}
	p.Start()
	var v string
	if err := db.QueryRowContext(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != "before" {
		t.Fatalf("after the restart: %q, %v", v, err)
	}
}

// TestNATSRestart: the server listens on the same address after a stop and
// a start, and not in between.
func TestNATSRestart(t *testing.T) {
	n := StartNATS(t)
	addr := strings.TrimPrefix(n.URL, "nats://")
	if c, err := net.Dial("tcp", addr); err != nil {
		t.Fatal(err)
	} else {
		c.Close()
	}
	n.Stop()
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("the stopped server accepted a connection")
	}
	n.Start()
	if c, err := net.Dial("tcp", addr); err != nil {
		t.Fatal(err)
	} else {
		c.Close()
	}
}
