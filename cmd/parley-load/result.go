package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Result is the outcome of a run, merged over its processes.
type Result struct {
	Scenario  string    `json:"scenario"`
	Transport string    `json:"transport,omitempty"`
	Args      []string  `json:"args"`
	Procs     int       `json:"procs"`
	Start     time.Time `json:"start"`
	// Seconds is the measured time: the hold, the message or churn phase.
	Seconds float64 `json:"seconds"`
	// LoadBefore and LoadAfter are /proc/loadavg at the start and the end:
	// the machine may be shared.
	LoadBefore string                `json:"load_before"`
	LoadAfter  string                `json:"load_after"`
	Counts     map[string]int64      `json:"counts"`
	Errors     map[string]int64      `json:"errors"`
	Latency    map[string]HistJSON   `json:"latency"`
	Samples    []Sample              `json:"samples"`
	Startups   []Startup             `json:"startups,omitempty"`
	Derived    map[string]float64    `json:"derived"`
	Summary    map[string]Percentile `json:"summary"`
}

// Percentile summarizes one latency histogram in milliseconds.
type Percentile struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

// Sample is the server's state at one point of a run.
type Sample struct {
	Name string `json:"name"`
	// At is seconds since the start of the run.
	At         float64 `json:"at"`
	Conns      int64   `json:"conns"`
	RSSBytes   int64   `json:"rss_bytes"`
	CPUSeconds float64 `json:"cpu_seconds"`
	// TCPMemPages is the kernel's TCP buffer memory (all sockets).
	TCPMemPages int64  `json:"tcp_mem_pages"`
	Load        string `json:"load"`
}

// Startup is one start of the startup scenario.
type Startup struct {
	ListenMS float64 `json:"listen_ms"`
	RSSBytes int64   `json:"rss_bytes"`
}

// recorder collects counts, errors and latencies of one process.
type recorder struct {
	mu     sync.Mutex
	counts map[string]int64
	errs   map[string]int64
	hists  map[string]*Histogram
}

func newRecorder() *recorder {
	return &recorder{counts: map[string]int64{}, errs: map[string]int64{}, hists: map[string]*Histogram{}}
}

func (r *recorder) add(name string, n int64) {
	r.mu.Lock()
	r.counts[name] += n
	r.mu.Unlock()
}

func (r *recorder) count(name string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[name]
}

func (r *recorder) fail(kind string) {
	r.mu.Lock()
	r.errs[kind]++
	r.mu.Unlock()
}

func (r *recorder) hist(name string) *Histogram {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.hists[name]
	if h == nil {
		h = &Histogram{}
		r.hists[name] = h
	}
	return h
}

// result exports the recorder.
func (r *recorder) result(cfg *config) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &Result{Scenario: cfg.scenario, Args: redactArgs(cfg.rawArgs), Procs: max(cfg.procs, 1),
		Counts: map[string]int64{}, Errors: map[string]int64{}, Latency: map[string]HistJSON{}, Samples: []Sample{}}
	if cfg.scenario == "active" {
		res.Transport = cfg.transport
	}
	for k, v := range r.counts {
		res.Counts[k] = v
	}
	for k, v := range r.errs {
		res.Errors[k] = v
	}
	for k, h := range r.hists {
		res.Latency[k] = h.JSON()
	}
	return res
}

// redactArgs hides the password in a copy of args, for the report.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	hide := false
	for i, a := range args {
		switch {
		case hide:
			out[i], hide = "[redacted]", false
		case a == "-password" || a == "--password":
			out[i], hide = a, true
		case strings.HasPrefix(a, "-password=") || strings.HasPrefix(a, "--password="):
			out[i] = a[:strings.IndexByte(a, '=')+1] + "[redacted]"
		default:
			out[i] = a
		}
	}
	return out
}

// merge adds a child's result into res.
func (res *Result) merge(c *Result) {
	for k, v := range c.Counts {
		res.Counts[k] += v
	}
	for k, v := range c.Errors {
		res.Errors[k] += v
	}
	for k, j := range c.Latency {
		h := &Histogram{}
		h.Merge(res.Latency[k])
		h.Merge(j)
		res.Latency[k] = h.JSON()
	}
	res.Seconds = max(res.Seconds, c.Seconds)
	res.Startups = append(res.Startups, c.Startups...)
}

// derive computes the summary figures.
func derive(res *Result) {
	res.Summary = map[string]Percentile{}
	res.Derived = map[string]float64{}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for k, j := range res.Latency {
		h := &Histogram{}
		h.Merge(j)
		res.Summary[k] = Percentile{Count: h.Count(), P50: ms(h.Quantile(.5)), P90: ms(h.Quantile(.9)),
			P99: ms(h.Quantile(.99)), P999: ms(h.Quantile(.999)), Max: ms(h.Max()), Mean: ms(h.Mean())}
	}
	sample := func(name string) (Sample, bool) {
		for _, s := range res.Samples {
			if s.Name == name {
				return s, true
			}
		}
		return Sample{}, false
	}
	if lo, ok := sample("base"); ok {
		if hi, ok := sample("full"); ok && hi.Conns > lo.Conns && lo.RSSBytes > 0 {
			res.Derived["rss_slope_bytes_per_conn"] = float64(hi.RSSBytes-lo.RSSBytes) / float64(hi.Conns-lo.Conns)
			res.Derived["tcp_mem_slope_bytes_per_conn"] = float64(hi.TCPMemPages-lo.TCPMemPages) * 4096 / float64(hi.Conns-lo.Conns)
		}
	}
	if a, ok := sample("hold-start"); ok {
		if b, ok := sample("hold-end"); ok && b.At > a.At {
			res.Derived["hold_cpu_percent_of_core"] = 100 * (b.CPUSeconds - a.CPUSeconds) / (b.At - a.At)
		}
	}
	// Server CPU per operation: machine-independent where the machine is
	// shared and the server got less than a core.
	perOp := func(from, to, name string, ops int64) {
		a, ok1 := sample(from)
		b, ok2 := sample(to)
		if !ok1 || !ok2 || b.At <= a.At {
			return
		}
		res.Derived["server_cpu_percent_of_core"] = 100 * (b.CPUSeconds - a.CPUSeconds) / (b.At - a.At)
		if ops > 0 {
			res.Derived[name] = 1000 * (b.CPUSeconds - a.CPUSeconds) / float64(ops)
		}
	}
	perOp("churn-start", "churn-end", "server_cpu_ms_per_open", res.Counts["opened"])
	perOp("messages-start", "messages-end", "server_cpu_ms_per_message", res.Counts["received"])
	deriveGMS(res, sample)
	if res.Seconds > 0 {
		switch res.Scenario {
		case "active":
			res.Derived["sent_per_second"] = float64(res.Counts["measured_sent"]) / res.Seconds
			res.Derived["received_per_second"] = float64(res.Counts["measured_received"]) / res.Seconds
		case "churn":
			res.Derived["opens_per_second"] = float64(res.Counts["opened"]) / res.Seconds
		}
	}
	if n := len(res.Startups); n > 0 {
		ls := make([]float64, 0, n)
		rs := make([]float64, 0, n)
		for _, s := range res.Startups {
			ls = append(ls, s.ListenMS)
			rs = append(rs, float64(s.RSSBytes))
		}
		sort.Float64s(ls)
		sort.Float64s(rs)
		res.Derived["startup_listen_ms_median"] = ls[n/2]
		res.Derived["startup_rss_bytes_median"] = rs[n/2]
	}
}

func writeJSON(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

func writeText(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "scenario %s", res.Scenario)
	if res.Transport != "" {
		fmt.Fprintf(bw, " (%s)", res.Transport)
	}
	fmt.Fprintf(bw, ", %d process(es), measured %.1f s\n", res.Procs, res.Seconds)
	fmt.Fprintf(bw, "args: %s\n", strings.Join(res.Args, " "))
	fmt.Fprintf(bw, "load average before: %s  after: %s\n", res.LoadBefore, res.LoadAfter)
	keys := func(m map[string]int64) []string {
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	fmt.Fprintln(bw, "counts:")
	for _, k := range keys(res.Counts) {
		fmt.Fprintf(bw, "  %-24s %d\n", k, res.Counts[k])
	}
	if len(res.Errors) == 0 {
		fmt.Fprintln(bw, "errors: none")
	} else {
		fmt.Fprintln(bw, "errors:")
		for _, k := range keys(res.Errors) {
			fmt.Fprintf(bw, "  %-40s %d\n", k, res.Errors[k])
		}
	}
	if len(res.Summary) > 0 {
		names := make([]string, 0, len(res.Summary))
		for k := range res.Summary {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Fprintf(bw, "latency (ms)  %9s %8s %8s %8s %8s %8s %8s\n", "count", "p50", "p90", "p99", "p99.9", "max", "mean")
		for _, k := range names {
			p := res.Summary[k]
			fmt.Fprintf(bw, "  %-11s %9d %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f\n", k, p.Count, p.P50, p.P90, p.P99, p.P999, p.Max, p.Mean)
		}
	}
	if len(res.Samples) > 0 {
		fmt.Fprintf(bw, "server samples  %8s %8s %10s %10s %10s  %s\n", "at s", "conns", "RSS MiB", "CPU s", "TCP MiB", "load")
		for _, s := range res.Samples {
			fmt.Fprintf(bw, "  %-13s %8.1f %8d %10.1f %10.2f %10.1f  %s\n", s.Name, s.At, s.Conns,
				float64(s.RSSBytes)/(1<<20), s.CPUSeconds, float64(s.TCPMemPages)*4096/(1<<20), s.Load)
		}
	}
	for i, s := range res.Startups {
		fmt.Fprintf(bw, "start %d: listening after %.1f ms, idle RSS %.1f MiB\n", i+1, s.ListenMS, float64(s.RSSBytes)/(1<<20))
	}
	if len(res.Derived) > 0 {
		ks := make([]string, 0, len(res.Derived))
		for k := range res.Derived {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		fmt.Fprintln(bw, "derived:")
		for _, k := range ks {
			fmt.Fprintf(bw, "  %-32s %.2f\n", k, res.Derived[k])
		}
	}
	return bw.Flush()
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// tcpMemPages is the kernel's TCP memory in pages (/proc/net/sockstat).
func tcpMemPages() int64 {
	data, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if !strings.HasPrefix(line, "TCP:") {
			continue
		}
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "mem" {
				n, _ := strconv.ParseInt(f[i+1], 10, 64)
				return n
			}
		}
	}
	return 0
}

// probe reads the server's RSS and CPU time.
type probe struct {
	pid   int
	bases []string // every node's address: their RSS and CPU are summed
	hc    *http.Client
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

func (p *probe) sample(ctx context.Context) (rss int64, cpu float64, err error) {
	if p.pid > 0 {
		return procStat(p.pid)
	}
	for _, base := range p.bases {
		r, c, err := p.sampleOne(ctx, base)
		if err != nil {
			return 0, 0, err
		}
		rss += r
		cpu += c
	}
	return rss, cpu, nil
}

// sampleOne reads one node's RSS and CPU time from its /metrics.
func (p *probe) sampleOne(ctx context.Context, base string) (rss int64, cpu float64, err error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "process_resident_memory_bytes "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			rss = int64(f)
		} else if v, ok := strings.CutPrefix(line, "process_cpu_seconds_total "); ok {
			cpu, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("GET /metrics has no process_resident_memory_bytes; pass -server-pid")
	}
	return rss, cpu, sc.Err()
}

// procStat reads VmRSS from /proc/PID/status and utime+stime from
// /proc/PID/stat.
func procStat(pid int) (rss int64, cpu float64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				rss = kb * 1024
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name may hold spaces; fields count from its closing ")".
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return rss, (ut + st) / clockTicks, nil
}
