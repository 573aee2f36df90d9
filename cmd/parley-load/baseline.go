package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

const baselineUsage = `Usage:
  parley-load baseline [-addr 127.0.0.1:18090]

Runs the naive baseline the performance goals are compared against: a
WebSocket echo server with one goroutine per connection (coder/websocket,
the library Parley uses), which sends every text or binary message back.
It has no store, bus or protocol, so it is the floor a Parley server
cannot go below on the same machine. Run it pinned like the server
(taskset -c 0) and measure its RSS and CPU in /proc while clients hold
connections; stop it with Ctrl-C.

Flags:
`

// runBaseline runs the echo server until ctx ends.
func runBaseline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parley-load baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, baselineUsage)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:18090", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(echo)}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(stdout, "baseline echo server listening on ws://%s/\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// echo is the whole baseline: accept, then read and write back until the
// connection ends.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}
