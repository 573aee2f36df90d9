// Command parley-load is a load generator for Parley's native API. It
// opens visitor and agent sessions over WebSocket and long-poll, stamps
// the send time into every message, and reports latency percentiles from
// a log-bucket histogram, throughput, errors and the server's memory and
// CPU, as text or JSON.
//
// Run "parley-load -h" for the scenarios and flags.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"
)

const usageText = `parley-load drives a Parley server through its native API (REST,
WebSocket, long-poll) and measures it.

Usage:
  parley-load -scenario NAME -url http://127.0.0.1:8080 -login admin -password PW [flags]
  parley-load baseline [-addr 127.0.0.1:18090]

The admin credentials are used to create a fresh group and agents for the run
(names start with "load-"); the password may also come from PARLEY_LOAD_PASSWORD.
Every visitor comes from this machine's address, so start the server with its
chat-request limit off (PARLEY_LIMIT_CHAT_REQUESTS=0 or --limit-chat-requests 0);
otherwise requests past the limit fail with HTTP 429.

Scenarios:
  idle     Idle visitors. Each visitor requests a chat (REST), opens a WebSocket,
           says hello and receives its chat's snapshot (the subscription), then
           stays connected answering the server's keep-alive pings. The ramp
           stops at -base visitors and at -visitors; after -settle the server's
           RSS is sampled at each, giving the memory per visitor as the RSS slope.
           The visitors are then held for -hold; the server's CPU during the hold
           and every unexpected close are reported. A logged-in agent who is not
           ready keeps the group open, so the chats stay queued. With -bare the
           connections are plain WebSockets to -url's root with nothing said,
           for the same measurement of the naive baseline (parley-load baseline).
  active   Active chats. -agents agents (ready, auto-accept) take -chats chats;
           visitors (and with -agent-share also agents) send messages at -rate
           messages per second in total for -duration after -warmup. Each message
           carries its send time; the receiver records send → receive latency
           ("v2a" visitor → agent, "a2v" agent → visitor) and the sender the
           time to the server's ack, which follows the durable write. Messages
           still not received 10 s after the last send count as not_received. -transport
           ws sends and receives over WebSockets; -transport lp sends with
           POST /chats/{id}/messages and reads with long-polls of
           GET /chats/{id}/events on both sides.
  churn    Session churn. A pool of -pool visitors with queued chats opens
           sessions (connect, hello with the last sequence number seen,
           subscribe) at -rate per second for -duration; each session stays
           open for -life and then closes normally. Reports open-to-ready latency ("open") and the rate reached
           (opens completed divided by the time until the last one finished);
           opens due while -max-inflight are in progress are skipped and counted.
  gms      Genesys GMS clients (cmd/parley-load/gms.go). -chats visitors chat with
           agents, -visitors more wait in the queue; every one posts a GMS refresh
           every -interval. Measures the server's CPU per refresh while they only
           poll (-duration), then per message with -rate messages per second in
           the chats (half from visitors by GMS send, half from agents), and the
           refresh latency; derives the polling visitors one core holds. Runs in
           the default tenant (the GMS service is the run's group by name).
  rc-idle  idle with Rocket.Chat DDP visitors (/websocket): connect, registerGuest,
           sendMessageLivechat (the chat request), subscribe stream-room-messages,
           then hold, answering the server's DDP pings (see rocketchat.go).
  rc-active
           -chats DDP visitors, auto-accepted by -agents agents, send
           sendMessageLivechat at -rate; "ack" is send → result, "echo" send →
           the message on the visitor's own stream-room-messages.
  startup  Starts -server-cmd -repeat times and measures the time from start to
           the first accepted TCP connection on -url, and the server's RSS
           -settle later with no connections; then stops it with SIGINT.

The baseline subcommand runs the naive WebSocket echo server (one goroutine
per connection, coder/websocket) that Parley's figures are compared against
in the same run; "parley-load baseline -h" says more.

Server measurements: with -server-pid the server's VmRSS and CPU time come
from /proc/PID; otherwise from process_resident_memory_bytes and
process_cpu_seconds_total of GET /metrics. Kernel TCP memory comes from
/proc/net/sockstat. The server's CPU time per message (active) and per open
(churn) is reported too: on a shared machine it says more than the rates.

One process may hold at most as many sockets as its open-file limit allows:
-procs N runs N copies of this program, each with its share of the visitors,
chats and rate, and merges their results. Connections to a loopback server
are spread over -sources local addresses 127.0.0.1 … 127.0.0.N.

A cluster: -url http://127.0.0.1:8080,http://127.0.0.2:8080,… (idle, active and
churn) spreads the visitors and agents over the nodes in turn; a visitor's chat
request, socket and polls go to one node, an agent's log-in and socket to one
node. The set-up uses the first. Without -server-pid the server's RSS and CPU
are the sums over every node's GET /metrics.

Flags:
`

// config holds the flags.
type config struct {
	scenario    string
	url         string
	login       string
	password    string
	tenant      int64
	sources     int
	procs       int
	child       int
	runID       string
	jsonOut     bool
	outFile     string
	serverPID   int
	conc        int
	settle      time.Duration
	visitors    int
	base        int
	hold        time.Duration
	bare        bool
	transport   string
	chats       int
	agents      int
	rate        float64
	duration    time.Duration
	warmup      time.Duration
	agentShare  float64
	pool        int
	life        time.Duration
	maxInflight int
	serverCmd   string
	repeat      int
	msgSize     int
	interval    time.Duration
	rawArgs     []string
	procsOfRoot int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{rawArgs: args}
	fs := flag.NewFlagSet("parley-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.scenario, "scenario", "", "idle, active, churn, gms, startup, rc-idle or rc-active")
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "server address; for idle, active and churn also a comma-separated list of a cluster's nodes, over which the sessions are spread")
	fs.StringVar(&c.login, "login", "admin", "admin login used to create the run's group and agents")
	fs.StringVar(&c.password, "password", os.Getenv("PARLEY_LOAD_PASSWORD"), "admin password (env PARLEY_LOAD_PASSWORD)")
	fs.Int64Var(&c.tenant, "tenant", 0, "tenant ID (0: the default tenant)")
	fs.IntVar(&c.sources, "sources", 8, "local source addresses 127.0.0.1…N for a loopback server")
	fs.IntVar(&c.procs, "procs", 1, "generator processes; each gets its share of the load")
	fs.IntVar(&c.child, "child", -1, "internal: index of this child process")
	fs.StringVar(&c.runID, "run-id", "", "internal: name prefix shared by the processes of one run")
	fs.BoolVar(&c.jsonOut, "json", false, "print the result as JSON instead of text")
	fs.StringVar(&c.outFile, "out", "", "also write the result as JSON to this file")
	fs.IntVar(&c.serverPID, "server-pid", 0, "server process ID for RSS and CPU from /proc (0: read GET /metrics)")
	fs.IntVar(&c.conc, "conc", 64, "concurrent session opens while ramping (idle, active setup)")
	fs.DurationVar(&c.settle, "settle", 60*time.Second, "wait before sampling the server's RSS after a ramp step")
	fs.IntVar(&c.visitors, "visitors", 1000, "idle: visitors to hold")
	fs.IntVar(&c.base, "base", 1000, "idle: first ramp step (the lower point of the RSS slope)")
	fs.DurationVar(&c.hold, "hold", time.Minute, "idle: how long to hold the visitors")
	fs.BoolVar(&c.bare, "bare", false, "idle: plain WebSockets to -url's root (the baseline server) instead of visitors")
	fs.StringVar(&c.transport, "transport", "ws", "active: ws or lp (long-poll)")
	fs.IntVar(&c.chats, "chats", 100, "active: concurrent chats")
	fs.IntVar(&c.agents, "agents", 10, "active: agents (capacity is shared out, at most 50 chats each)")
	fs.Float64Var(&c.rate, "rate", 100, "active: messages per second; churn: session opens per second")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "active, churn: measured time")
	fs.DurationVar(&c.warmup, "warmup", 3*time.Second, "active: load before the measured time, not recorded")
	fs.Float64Var(&c.agentShare, "agent-share", 0, "active: share of messages sent by agents (0..1)")
	fs.IntVar(&c.msgSize, "msg-size", 64, "active: message text length in bytes (at least 24)")
	fs.DurationVar(&c.interval, "interval", 3*time.Second, "gms: how often each visitor posts refresh")
	fs.IntVar(&c.pool, "pool", 200, "churn: visitors whose sessions open and close")
	fs.DurationVar(&c.life, "life", 200*time.Millisecond, "churn: how long each session stays open")
	fs.IntVar(&c.maxInflight, "max-inflight", 1000, "churn: opens in progress at most; opens due beyond it are skipped and counted")
	fs.StringVar(&c.serverCmd, "server-cmd", "", "startup: server command line (split at spaces)")
	fs.IntVar(&c.repeat, "repeat", 3, "startup: number of starts")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	switch {
	case c.scenario == "":
		return nil, errors.New("-scenario is required (idle, active, churn or startup)")
	case c.scenario != "idle" && c.scenario != "active" && c.scenario != "churn" && c.scenario != "gms" && c.scenario != "startup" && c.scenario != "rc-idle" && c.scenario != "rc-active":
		return nil, fmt.Errorf("unknown scenario %q (idle, active, churn, gms, startup, rc-idle or rc-active)", c.scenario)
	case c.interval < 100*time.Millisecond:
		return nil, errors.New("-interval must be at least 100ms")
	case c.transport != "ws" && c.transport != "lp":
		return nil, fmt.Errorf("-transport must be ws or lp, not %q", c.transport)
	case c.procs < 1 || c.procs > 64:
		return nil, errors.New("-procs must be between 1 and 64")
	case c.sources < 1 || c.sources > 254:
		return nil, errors.New("-sources must be between 1 and 254")
	case c.conc < 1 || c.maxInflight < 1:
		return nil, errors.New("-conc and -max-inflight must be at least 1")
	case c.visitors < 1 || c.base < 0 || c.chats < 1 || c.agents < 1 || c.pool < 1 || c.repeat < 1:
		return nil, errors.New("-visitors, -chats, -agents, -pool and -repeat must be at least 1, -base at least 0")
	case c.rate <= 0:
		return nil, errors.New("-rate must be positive")
	case c.agentShare < 0 || c.agentShare > 1:
		return nil, errors.New("-agent-share must be between 0 and 1")
	case c.msgSize < 24 || c.msgSize > 1000:
		return nil, errors.New("-msg-size must be between 24 and 1000")
	case len(c.urls()) > 1 && c.scenario != "idle" && c.scenario != "active" && c.scenario != "churn":
		return nil, errors.New("several -url addresses are for the idle, active and churn scenarios")
	case len(c.urls()) > 1 && c.bare:
		return nil, errors.New("-bare takes one -url")
	case c.scenario == "startup" && c.serverCmd == "":
		return nil, errors.New("startup needs -server-cmd")
	case c.scenario == "active" && c.agents*50 < c.chats:
		return nil, errors.New("-agents can take at most 50 chats each; raise -agents")
	case c.bare && c.scenario != "idle":
		return nil, errors.New("-bare is for the idle scenario")
	case c.scenario != "startup" && !c.bare && c.password == "":
		return nil, errors.New("-password (or PARLEY_LOAD_PASSWORD) is required to create the run's group and agents")
	}
	if c.runID == "" {
		c.runID = strings.ToLower(rand.Text()[:8])
	}
	return c, nil
}

// urls returns the addresses of -url: one server, or a cluster's nodes.
func (c *config) urls() []string {
	var out []string
	for u := range strings.SplitSeq(c.url, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		out = []string{c.url}
	}
	return out
}

// lockedWriter serializes writes: progress lines come from many
// goroutines and child processes.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// run is main without the exit; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stderr = &lockedWriter{w: stderr}
	if len(args) > 0 && args[0] == "baseline" {
		err := runBaseline(ctx, args[1:], stdout, stderr)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return 0
		case err != nil:
			fmt.Fprintln(stderr, "parley-load baseline:", err)
			return 1
		}
		return 0
	}
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley-load:", err)
		return 2
	}
	var res *Result
	switch {
	case cfg.procs > 1 && cfg.child < 0 && cfg.scenario != "startup":
		res, err = runParent(ctx, cfg, stderr)
	case cfg.child >= 0:
		res, err = runChild(ctx, cfg, os.Stdin, stdout, stderr)
		if err == nil {
			err = writeChildResult(stdout, res)
		}
		if err != nil {
			fmt.Fprintln(stderr, "parley-load:", err)
			return 1
		}
		return 0
	default:
		res, err = runLocal(ctx, cfg, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley-load:", err)
		return 1
	}
	derive(res)
	if cfg.jsonOut {
		err = writeJSON(stdout, res)
	} else {
		err = writeText(stdout, res)
	}
	if err == nil && cfg.outFile != "" {
		var f *os.File
		if f, err = os.Create(cfg.outFile); err == nil {
			err = errors.Join(writeJSON(f, res), f.Close())
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley-load:", err)
		return 1
	}
	return 0
}
