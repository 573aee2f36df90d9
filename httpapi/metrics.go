package httpapi

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the API's Prometheus metrics; a nil registry makes them
// count without being exported.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	ws       atomic.Int64
}

func newMetrics(reg prometheus.Registerer, s *Server) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total",
			Help: "API requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_http_request_duration_seconds",
			Help:    "API request latency by route pattern (long-polls and WebSockets excluded).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.requests, m.duration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_websocket_connections",
			Help: "Open WebSocket sessions.",
		}, func() float64 { return float64(m.ws.Load()) }),
		&serviceCollector{s: s},
	)
	return m
}

func (m *metrics) wsOpened() { m.ws.Add(1) }
func (m *metrics) wsClosed() { m.ws.Add(-1) }

// instrument counts requests of one route and times the short ones.
func (m *metrics) instrument(route string, h http.HandlerFunc) http.Handler {
	timed := route != "/api/v1/ws" && route != "/api/v1/chats/{id}/events"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h(rec, r)
		m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		if timed && r.URL.Query().Get("wait") == "" {
			m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets the WebSocket upgrade and http.ResponseController reach the
// underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// serviceCollector exports the conversation service's running totals and
// queue lengths at scrape time.
type serviceCollector struct{ s *Server }

var (
	descChatsRequested = prometheus.NewDesc("parley_chats_requested_total", "Chats requested by visitors.", nil, nil)
	descChatsEnded     = prometheus.NewDesc("parley_chats_ended_total", "Chats terminated, by cause.", []string{"cause"}, nil)
	descMessages       = prometheus.NewDesc("parley_messages_total", "Messages and files sent, by sender kind.", []string{"from"}, nil)
	descOffers         = prometheus.NewDesc("parley_offers_total", "Chats offered to agents.", nil, nil)
	descQueued         = prometheus.NewDesc("parley_queue_length", "Chats waiting in a group's queue.", []string{"group"}, nil)
)

func (c *serviceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descChatsRequested, descChatsEnded, descMessages, descOffers, descQueued} {
		ch <- d
	}
}

func (c *serviceCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.svc.Stats()
	ch <- prometheus.MustNewConstMetric(descChatsRequested, prometheus.CounterValue, float64(st.ChatsRequested))
	ch <- prometheus.MustNewConstMetric(descOffers, prometheus.CounterValue, float64(st.Offers))
	for cause, n := range st.ChatsEnded {
		ch <- prometheus.MustNewConstMetric(descChatsEnded, prometheus.CounterValue, float64(n), cause)
	}
	for from, n := range st.Messages {
		ch <- prometheus.MustNewConstMetric(descMessages, prometheus.CounterValue, float64(n), from)
	}
	for g, n := range c.s.svc.QueueLengths() {
		ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(n), strconv.FormatInt(g, 10))
	}
}
