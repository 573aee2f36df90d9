package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// barrier is a named point of a run at which every process waits, the
// server is sampled, and all continue. settle barriers wait -settle
// before sampling.
type barrier func(ctx context.Context, name string, conns int64, settle bool) error

// sampler samples the server for barriers of the process that owns the
// run (the only process, or the parent).
type sampler struct {
	cfg   *config
	probe *probe
	start time.Time
	mu    sync.Mutex
	got   []Sample
}

func newSampler(cfg *config) *sampler {
	return &sampler{cfg: cfg, start: time.Now(),
		probe: &probe{pid: cfg.serverPID, bases: cfg.urls(), hc: &http.Client{Timeout: 10 * time.Second}}}
}

func (s *sampler) sample(ctx context.Context, name string, conns int64, settle bool, stderr io.Writer) error {
	if settle && s.cfg.settle > 0 {
		fmt.Fprintf(stderr, "parley-load: %s: %d connections, settling %s\n", name, conns, s.cfg.settle)
		select {
		case <-time.After(s.cfg.settle):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	rss, cpu, err := s.probe.sample(ctx)
	if err != nil {
		return fmt.Errorf("sample the server: %w", err)
	}
	smp := Sample{Name: name, At: time.Since(s.start).Seconds(), Conns: conns, RSSBytes: rss, CPUSeconds: cpu,
		TCPMemPages: tcpMemPages(), Load: loadAvg()}
	fmt.Fprintf(stderr, "parley-load: %s: %d connections, server RSS %.1f MiB, load %s\n", name, conns, float64(rss)/(1<<20), smp.Load)
	s.mu.Lock()
	s.got = append(s.got, smp)
	s.mu.Unlock()
	return nil
}

// runLocal runs the whole load in this process.
func runLocal(ctx context.Context, cfg *config, stderr io.Writer) (*Result, error) {
	smp := newSampler(cfg)
	load := loadAvg()
	res, err := runScenario(ctx, cfg, stderr, func(ctx context.Context, name string, conns int64, settle bool) error {
		return smp.sample(ctx, name, conns, settle, stderr)
	})
	if err != nil {
		return nil, err
	}
	res.LoadBefore, res.LoadAfter = load, loadAvg()
	res.Samples = smp.got
	return res, nil
}

func runScenario(ctx context.Context, cfg *config, stderr io.Writer, b barrier) (*Result, error) {
	switch cfg.scenario {
	case "idle":
		return runIdle(ctx, cfg, stderr, b)
	case "active":
		return runActive(ctx, cfg, stderr, b)
	case "churn":
		return runChurn(ctx, cfg, stderr, b)
	case "gms":
		return runGMS(ctx, cfg, stderr, b)
	case "startup":
		return runStartup(ctx, cfg, stderr)
	case "rc-idle":
		return runRCIdle(ctx, cfg, stderr, b)
	case "rc-active":
		return runRCActive(ctx, cfg, stderr, b)
	}
	return nil, fmt.Errorf("unknown scenario %q", cfg.scenario)
}

// Child protocol, one line each on the child's stdout: "BARRIER name
// conns settle" (the child then waits for a line on its stdin) and finally
// "RESULT {json}".
const (
	linePrefixBarrier = "BARRIER "
	linePrefixResult  = "RESULT "
)

// share is this process's part of n when n is split over procs.
func share(n, procs, child int) int {
	if child < 0 {
		return n
	}
	s := n / procs
	if child < n%procs {
		s++
	}
	return s
}

// runChild runs a child's share of the load, meeting the parent at every
// barrier.
func runChild(ctx context.Context, cfg *config, stdin io.Reader, stdout, stderr io.Writer) (*Result, error) {
	in := bufio.NewScanner(stdin)
	var mu sync.Mutex
	return runScenario(ctx, cfg, stderr, func(ctx context.Context, name string, conns int64, settle bool) error {
		mu.Lock()
		defer mu.Unlock()
		if _, err := fmt.Fprintf(stdout, "%s%s %d %t\n", linePrefixBarrier, name, conns, settle); err != nil {
			return err
		}
		if !in.Scan() {
			return errors.New("the parent process went away")
		}
		return nil
	})
}

func writeChildResult(w io.Writer, res *Result) error {
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s%s\n", linePrefixResult, data)
	return err
}

type childMsg struct {
	child  int
	name   string
	conns  int64
	settle bool
	res    *Result
	err    error
}

// runParent runs -procs copies of this program, each with -child set,
// meets them at their barriers and merges their results.
func runParent(ctx context.Context, cfg *config, stderr io.Writer) (*Result, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	smp := newSampler(cfg)
	load := loadAvg()
	msgs := make(chan childMsg)
	stdins := make([]io.WriteCloser, cfg.procs)
	cmds := make([]*exec.Cmd, cfg.procs)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := range cfg.procs {
		// The password goes through the environment, not the command line
		// that other users can read.
		var args []string
		for _, a := range redactArgs(cfg.rawArgs) {
			if a != "[redacted]" && !strings.HasSuffix(a, "=[redacted]") && a != "-password" && a != "--password" {
				args = append(args, a)
			}
		}
		args = append(args, "-child", strconv.Itoa(i), "-run-id", cfg.runID, "-json=false")
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Stderr = stderr
		cmd.Env = append(os.Environ(), "PARLEY_LOAD_CHILD=1", "PARLEY_LOAD_PASSWORD="+cfg.password)
		w, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		r, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		stdins[i], cmds[i] = w, cmd
		go readChild(ctx, i, r, cmd, msgs)
	}
	total := &Result{Scenario: cfg.scenario, Args: redactArgs(cfg.rawArgs), Procs: cfg.procs, Start: smp.start,
		Counts: map[string]int64{}, Errors: map[string]int64{}, Latency: map[string]HistJSON{}}
	if cfg.scenario == "active" {
		total.Transport = cfg.transport
	}
	waiting := map[string][]childMsg{}
	done := 0
	for done < cfg.procs {
		var m childMsg
		select {
		case m = <-msgs:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		switch {
		case m.err != nil:
			return nil, fmt.Errorf("process %d: %w", m.child, m.err)
		case m.res != nil:
			total.merge(m.res)
			done++
		default:
			waiting[m.name] = append(waiting[m.name], m)
			if len(waiting[m.name]) < cfg.procs {
				continue
			}
			var conns int64
			for _, w := range waiting[m.name] {
				conns += w.conns
			}
			delete(waiting, m.name)
			if err := smp.sample(ctx, m.name, conns, m.settle, stderr); err != nil {
				return nil, err
			}
			for _, w := range stdins {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, cmd := range cmds {
		_ = cmd.Wait()
	}
	total.LoadBefore, total.LoadAfter = load, loadAvg()
	total.Samples = smp.got
	return total, nil
}

func readChild(ctx context.Context, i int, r io.Reader, cmd *exec.Cmd, msgs chan<- childMsg) {
	send := func(m childMsg) {
		select {
		case msgs <- m:
		case <-ctx.Done():
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, linePrefixBarrier); ok {
			f := strings.Fields(rest)
			if len(f) != 3 {
				send(childMsg{child: i, err: fmt.Errorf("bad barrier line %q", line)})
				return
			}
			n, _ := strconv.ParseInt(f[1], 10, 64)
			send(childMsg{child: i, name: f[0], conns: n, settle: f[2] == "true"})
		} else if rest, ok := strings.CutPrefix(line, linePrefixResult); ok {
			var res Result
			if err := json.Unmarshal([]byte(rest), &res); err != nil {
				send(childMsg{child: i, err: err})
				return
			}
			send(childMsg{child: i, res: &res})
			return
		}
	}
	err := cmd.Wait()
	if err == nil {
		err = errors.New("exited without a result")
	}
	send(childMsg{child: i, err: err})
}
