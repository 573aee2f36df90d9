package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/testserver"
)

// TestMain lets the -procs test re-execute the test binary as a child
// process of the load generator.
func TestMain(m *testing.M) {
	if os.Getenv("PARLEY_LOAD_CHILD") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startServer runs the real API over SQLite and embedded NATS in this
// process and returns its URL and the admin's credentials.
func startServer(t *testing.T) (url, login, password string) {
	t.Helper()
	ts := testserver.Start(t, testserver.Options{})
	login, password, _, err := ts.Svc.EnsureAdmin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ts.URL, login, password
}

// load runs the generator with args against the server and returns its
// JSON result.
func load(t *testing.T, url, login, password string, args ...string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"-url", url, "-login", login, "-password", password, "-json",
		"-server-pid", strconv.Itoa(os.Getpid()), "-settle", "0", "-sources", "3"}, args...)
	var out, errOut bytes.Buffer
	if code := run(ctx, all, &out, &errOut); code != 0 {
		t.Fatalf("parley-load %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
	}
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("result is not JSON: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), password) || strings.Contains(errOut.String(), password) {
		t.Error("the output shows the password")
	}
	if len(res.Errors) > 0 {
		t.Errorf("errors: %v\n%s", res.Errors, errOut.String())
	}
	return &res
}

func sample(t *testing.T, res *Result, name string) Sample {
	t.Helper()
	for _, s := range res.Samples {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no sample %q in %+v", name, res.Samples)
	return Sample{}
}

func TestHelpDocumentsEveryScenario(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errOut); code != 0 {
		t.Fatalf("-h: exit %d", code)
	}
	help := errOut.String()
	for _, s := range []string{"idle", "active", "churn", "startup", "-transport", "-procs", "-sources", "-server-pid", "-rate"} {
		if !strings.Contains(help, s) {
			t.Errorf("-h does not mention %s", s)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-scenario", "nope", "-password", "x"},
		{"-scenario", "active", "-password", "x", "-transport", "smoke"},
		{"-scenario", "active", "-password", "x", "-chats", "200", "-agents", "1"},
		{"-scenario", "idle"},
		{"-scenario", "idle", "-password", "x", "-rate", "0"},
		{"-scenario", "idle", "-password", "x", "-url", "ftp://x"},
		{"-scenario", "gms", "-password", "x", "-url", "http://a,http://b"},
		{"-scenario", "idle", "-bare", "-url", "http://a,http://b"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, &out, &errOut)
		if code == 0 || !strings.Contains(errOut.String(), "parley-load") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}

func TestIdle(t *testing.T) {
	url, login, pw := startServer(t)
	res := load(t, url, login, pw, "-scenario", "idle", "-visitors", "30", "-base", "10", "-hold", "300ms", "-conc", "8")
	if res.Counts["opened"] != 30 || res.Counts["open_at_end"] != 30 || res.Counts["unexpected_closes"] != 0 {
		t.Errorf("counts %v, want 30 opened and held", res.Counts)
	}
	if got := res.Summary["open"].Count; got != 30 {
		t.Errorf("open latencies %d, want 30", got)
	}
	if b, f := sample(t, res, "base"), sample(t, res, "full"); b.Conns != 10 || f.Conns != 30 || f.RSSBytes <= 0 {
		t.Errorf("samples base %+v full %+v", b, f)
	}
	if _, ok := res.Derived["rss_slope_bytes_per_conn"]; !ok {
		t.Errorf("no RSS slope in %v", res.Derived)
	}
}

func TestActiveWebSocket(t *testing.T) {
	url, login, pw := startServer(t)
	res := load(t, url, login, pw, "-scenario", "active", "-transport", "ws", "-chats", "6", "-agents", "2",
		"-rate", "200", "-warmup", "200ms", "-duration", "500ms", "-agent-share", "0.3")
	checkActive(t, res)
}

func TestActiveLongPoll(t *testing.T) {
	url, login, pw := startServer(t)
	res := load(t, url, login, pw, "-scenario", "active", "-transport", "lp", "-chats", "4", "-agents", "2",
		"-rate", "100", "-warmup", "200ms", "-duration", "500ms", "-agent-share", "0.3")
	checkActive(t, res)
}

// TestActiveSpreadsOverURLs: with a list of addresses the parties of the
// chats use every one. The two addresses name one server here, told apart
// by the Host of the requests.
func TestActiveSpreadsOverURLs(t *testing.T) {
	var mu sync.Mutex
	hosts := map[string]int{}
	ts := testserver.Start(t, testserver.Options{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hosts[r.Host]++
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}})
	login, pw, _, err := ts.Svc.EnsureAdmin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	second := strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)
	res := load(t, ts.URL+", "+second+"/", login, pw, "-scenario", "active", "-transport", "ws", "-chats", "6", "-agents", "2",
		"-rate", "200", "-warmup", "200ms", "-duration", "500ms", "-agent-share", "0.3")
	checkActive(t, res)
	mu.Lock()
	defer mu.Unlock()
	a, b := strings.TrimPrefix(ts.URL, "http://"), strings.TrimPrefix(second, "http://")
	// Set-up and half the visitors and agents on the first, the other
	// half on the second: chat requests, logins and sockets.
	t.Logf("requests by host: %v", hosts)
	if hosts[a] < 7 || hosts[b] < 7 {
		t.Errorf("requests by host: %v; want both %s and %s used", hosts, a, b)
	}
}

func checkActive(t *testing.T, res *Result) {
	t.Helper()
	sent, recv := res.Counts["sent"], res.Counts["received"]
	if sent < 20 || recv != sent || res.Counts["acked"] != sent || res.Counts["not_received"] != 0 {
		t.Errorf("counts %v: want every message received and acked", res.Counts)
	}
	v2a, a2v := res.Summary["v2a"].Count, res.Summary["a2v"].Count
	if v2a == 0 || a2v == 0 || int64(v2a+a2v) != res.Counts["measured_received"] {
		t.Errorf("latencies v2a %d a2v %d, measured received %d", v2a, a2v, res.Counts["measured_received"])
	}
	if res.Derived["server_cpu_ms_per_message"] <= 0 {
		t.Errorf("no server CPU per message in %v", res.Derived)
	}
	if p := res.Summary["v2a"]; !(p.P50 > 0 && p.P50 <= p.P99 && p.P99 <= p.Max) {
		t.Errorf("v2a percentiles out of order: %+v", p)
	}
}

func TestChurn(t *testing.T) {
	url, login, pw := startServer(t)
	res := load(t, url, login, pw, "-scenario", "churn", "-pool", "5", "-rate", "40", "-duration", "500ms", "-life", "50ms")
	opened := res.Counts["opened"]
	if opened < 10 || opened != res.Counts["attempted"] || res.Counts["closed"] != opened {
		t.Errorf("counts %v: want every attempted session opened and closed", res.Counts)
	}
	if res.Summary["open"].Count != uint64(opened) || res.Derived["opens_per_second"] <= 0 || res.Derived["server_cpu_ms_per_open"] <= 0 {
		t.Errorf("summary %v derived %v", res.Summary, res.Derived)
	}
}

func TestProcs(t *testing.T) {
	url, login, pw := startServer(t)
	res := load(t, url, login, pw, "-scenario", "idle", "-procs", "2", "-visitors", "21", "-base", "6", "-hold", "200ms")
	if res.Procs != 2 || res.Counts["opened"] != 21 || res.Counts["open_at_end"] != 21 {
		t.Errorf("procs %d counts %v, want 21 visitors over 2 processes", res.Procs, res.Counts)
	}
	if f := sample(t, res, "full"); f.Conns != 21 {
		t.Errorf("full sample %+v, want 21 connections", f)
	}
}

func TestHistogram(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{.5, 500 * time.Microsecond}, {.9, 900 * time.Microsecond}, {.99, 990 * time.Microsecond}} {
		got := h.Quantile(c.q)
		if d := got - c.want; d < -c.want/25 || d > c.want/25 {
			t.Errorf("q%.2f = %v, want %v ± 4 %%", c.q, got, c.want)
		}
	}
	if h.Quantile(1) != time.Millisecond || h.Max() != time.Millisecond {
		t.Errorf("max %v, q1 %v", h.Max(), h.Quantile(1))
	}
	var m Histogram
	m.Merge(h.JSON())
	m.Merge(h.JSON())
	if m.Count() != 2000 || m.Quantile(.5) != h.Quantile(.5) {
		t.Errorf("merged: count %d, p50 %v vs %v", m.Count(), m.Quantile(.5), h.Quantile(.5))
	}
	for _, v := range []int64{0, 1, 63, 64, 65, 1000, 1 << 40, 1<<63 - 1} {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucket of %d is %d", v, i)
		}
		if mid := float64(bucketValue(i)); v >= 64 && (mid < float64(v)*0.97 || mid > float64(v)*1.03) {
			t.Errorf("bucket of %d is centred at %.0f", v, mid)
		}
	}
}
