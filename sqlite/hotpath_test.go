package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// TestAppendRates measures the store's write path alone, in the same run,
// as it was (one commit per append, text indexed and WAL checkpointed
// inside the commit) and as it is (group commit, index and checkpoints
// after it): appends of 64-byte messages to 200 chats offered at fixed
// rates, one goroutine per append, for 5 s after 1 s of warm-up. It
// reports the latency from each append's due time to its return (so
// queueing counts), the process's CPU time per append (getrusage: the
// generator's share is included), the appends per commit and the largest
// WAL file seen. It skips unless PARLEY_BENCH=1 and asserts nothing
// timed; BENCHMARKS.md has the figures.
//
//	PARLEY_BENCH=1 go test -run TestAppendRates -v -count 1 ./sqlite/
func TestAppendRates(t *testing.T) {
	if os.Getenv("PARLEY_BENCH") != "1" || testing.Short() {
		t.Skip("set PARLEY_BENCH=1 to run")
	}
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("load average before: %s", load)
	t.Logf("%-6s %6s %9s %8s %8s %8s %9s %8s %7s", "path", "rate", "done/s", "p50 ms", "p99 ms", "max ms", "cpu µs", "per tx", "WAL MB")
	for _, rate := range benchRates() {
		for _, old := range []bool{true, false} {
			measureAppends(t, rate, old)
		}
	}
	load, _ = os.ReadFile("/proc/loadavg")
	t.Logf("load average after: %s", load)
}

func measureAppends(t *testing.T, rate int, old bool) {
	path := filepath.Join(t.TempDir(), "p.db")
	s := newTestChats(t, path, Options{oldWritePath: old}, 200)
	defer s.Close()
	const warmup, measured = time.Second, 5 * time.Second
	var (
		mu      sync.Mutex
		lat     []time.Duration
		wg      sync.WaitGroup
		walPeak int64
	)
	stopWAL := make(chan struct{})
	walDone := make(chan struct{})
	go func() {
		defer close(walDone)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopWAL:
				return
			case <-tick.C:
				if fi, err := os.Stat(path + "-wal"); err == nil {
					walPeak = max(walPeak, fi.Size())
				}
			}
		}
	}()
	text := fmt.Sprintf("%064d", 0)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+measured)
	var ru0 syscall.Rusage
	var commits0 int64
	measuring := false
	// A store that falls this far behind the offered rate is overloaded:
	// the run stops rather than queue without end.
	const maxInflight = 4000
	var inflight atomic.Int64
	overloaded := false
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if !due.Before(end) {
			break
		}
		if d := time.Until(due); d > 0 {
			time.Sleep(d) // pacing the offered rate
		}
		if !measuring && !due.Before(measureFrom) {
			measuring = true
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			commits0 = s.commits.Load()
		}
		if n := inflight.Add(1); n > maxInflight {
			overloaded = true
			inflight.Add(-1)
			break
		}
		record := measuring
		chatID := fmt.Sprintf("chat-%d", i%200)
		wg.Go(func() {
			defer inflight.Add(-1)
			_, err := s.AppendEvents(t.Context(), chatID, []parley.Event{{Type: parley.EventMessage,
				From: parley.Party{Kind: parley.PartyVisitor}, Text: text}})
			if err != nil {
				t.Error(err)
				return
			}
			if record {
				d := time.Since(due)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(measureFrom) // includes draining what was due
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	commits := s.commits.Load() - commits0
	close(stopWAL)
	<-walDone
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	name := "group"
	if old {
		name = "old"
	}
	if overloaded || len(lat) == 0 {
		t.Logf("%-6s %6d overloaded: %d appends waiting after %.1f s", name, rate, maxInflight, time.Since(start).Seconds())
		return
	}
	t.Logf("%-6s %6d %9.0f %8.2f %8.2f %8.2f %9.1f %8.1f %7.1f", name, rate, float64(len(lat))/elapsed.Seconds(),
		q(0.5), q(0.99), q(1), float64(cpu.Microseconds())/float64(len(lat)),
		float64(len(lat))/float64(max(commits, 1)), float64(walPeak)/(1<<20))
}

// benchRates is the offered rates of TestAppendRates; PARLEY_BENCH_RATE
// picks one.
func benchRates() []int {
	if r, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_RATE")); err == nil && r > 0 {
		return []int{r}
	}
	return []int{1000, 2000, 5000, 10000}
}

// BenchmarkAppendMessage appends one visitor message with a client id at
// a time, round-robin over 200 chats: what the store spends on a lone
// durable message, its own commit included.
func BenchmarkAppendMessage(b *testing.B) {
	s := newTestChats(b, filepath.Join(b.TempDir(), "p.db"), Options{}, 200)
	ctx := b.Context()
	text := "a message of sixty-four bytes, about what a visitor types at once"
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e := parley.Event{Type: parley.EventMessage, From: parley.Party{Kind: parley.PartyVisitor}, Text: text, ClientID: "c-" + strconv.Itoa(i)}
		if _, err := s.AppendEvents(ctx, "chat-"+strconv.Itoa(i%200), []parley.Event{e}); err != nil {
			b.Fatal(err)
		}
	}
}
