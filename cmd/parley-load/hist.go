package main

import (
	"math/bits"
	"sync"
	"time"
)

// Histogram buckets: values below 64 ns are exact; above, each power of
// two is split into 32 buckets, so a bucket is at most ~3 % wide.
const (
	histSubBits = 5
	histExact   = 2 << histSubBits // 64
	histBuckets = histExact + (64-histSubBits-1)*(1<<histSubBits)
)

// Histogram is a log-bucket latency histogram in nanoseconds. Histograms
// of several processes merge by adding their buckets.
type Histogram struct {
	mu     sync.Mutex
	counts [histBuckets]uint64
	n      uint64
	sum    float64
	min    int64
	max    int64
}

// HistJSON is a histogram as JSON: sparse [bucket, count] pairs.
type HistJSON struct {
	Count   uint64      `json:"count"`
	SumNS   float64     `json:"sum_ns"`
	MinNS   int64       `json:"min_ns"`
	MaxNS   int64       `json:"max_ns"`
	Buckets [][2]uint64 `json:"buckets"`
}

func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < histExact {
		return int(u)
	}
	shift := bits.Len64(u) - histSubBits - 1
	top := u >> shift // in [32, 63]
	return histExact + (shift-1)*(1<<histSubBits) + int(top-(1<<histSubBits))
}

// bucketValue is the middle of bucket i.
func bucketValue(i int) int64 {
	if i < histExact {
		return int64(i)
	}
	i -= histExact
	shift := i/(1<<histSubBits) + 1
	top := uint64(i%(1<<histSubBits) + (1 << histSubBits))
	lo := top << shift
	hi := (top+1)<<shift - 1
	return int64(lo + (hi-lo)/2)
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	h.mu.Lock()
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
	h.mu.Unlock()
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Quantile returns the value at quantile q (0..1), the bucket's middle
// clamped to the observed minimum and maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketValue(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// Mean is the average of the recorded values.
func (h *Histogram) Mean() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Max is the largest recorded value.
func (h *Histogram) Max() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Duration(h.max)
}

// JSON exports the histogram.
func (h *Histogram) JSON() HistJSON {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := HistJSON{Count: h.n, SumNS: h.sum, MinNS: h.min, MaxNS: h.max, Buckets: [][2]uint64{}}
	for i, c := range h.counts {
		if c > 0 {
			out.Buckets = append(out.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return out
}

// Merge adds an exported histogram into h.
func (h *Histogram) Merge(j HistJSON) {
	if j.Count == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range j.Buckets {
		if b[0] < histBuckets {
			h.counts[b[0]] += b[1]
		}
	}
	if h.n == 0 || j.MinNS < h.min {
		h.min = j.MinNS
	}
	h.max = max(h.max, j.MaxNS)
	h.n += j.Count
	h.sum += j.SumNS
}
