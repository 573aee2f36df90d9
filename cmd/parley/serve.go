package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/directory"
	"github.com/parleychat/parley/gms"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/integration"
	"github.com/parleychat/parley/internal/bodytimeout"
	"github.com/parleychat/parley/internal/logfilter"
	"github.com/parleychat/parley/mail"
	"github.com/parleychat/parley/micc"
	"github.com/parleychat/parley/natsbus"
	"github.com/parleychat/parley/postgres"
	"github.com/parleychat/parley/rocketchat"
	"github.com/parleychat/parley/storebus"
	"github.com/parleychat/parley/web"
	"github.com/parleychat/parley/webhook"
)

// serve runs the server until ctx ends, then shuts down gracefully. When
// listening is not nil it receives the bound address.
func serve(ctx context.Context, cfg *Config, stdout, stderr io.Writer, listening chan<- string) error {
	log := newLogger(cfg, stderr)
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	node := nodeName()
	bus, err := natsbus.Open(ctx, natsbus.Options{URL: cfg.NATSURL, Name: node, Prefix: cfg.BusPrefix, Logger: log})
	if err != nil {
		return err
	}
	defer bus.Close()
	edge := cfg.Role == "edge"
	store, files, closeStore, err := openRoleStore(ctx, cfg, bus, log)
	if err != nil {
		return err
	}
	defer closeStore()
	// A PostgreSQL store and an external bus make a cluster: nodes elect
	// one routing leader. Otherwise this node is alone and always decides.
	// An edge node is in the cluster but never leads.
	var cluster *conversation.ClusterConfig
	if pg, ok := store.(*postgres.Store); ok && cfg.NATSURL != "" {
		cluster = &conversation.ClusterConfig{Node: node, Lease: pg, Bus: bus}
		log.Info("cluster node", "node", node, "role", cfg.Role)
	} else if c, ok := store.(*storebus.Client); ok {
		cluster = &conversation.ClusterConfig{Node: node, Lease: c.Lease(), Bus: bus, Edge: true}
		log.Info("cluster edge node", "node", node)
	}

	maxKB := cfg.MaxAttachmentKB
	if maxKB == 0 {
		maxKB = -1 // 0 turns attachments off
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var outbox *mail.Outbox
	if cfg.SMTPHost != "" {
		outbox, err = mail.NewOutbox(store, mail.Options{Host: cfg.SMTPHost, Port: cfg.SMTPPort,
			Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, TLS: cfg.SMTPTLS, Backoff: cfg.SMTPRetry,
			Logger: log, Registry: reg})
		if err != nil {
			return err
		}
	}
	logFilter, err := logfilter.Parse(cfg.MessageLogPrintSize, cfg.LogFilterData)
	if err != nil {
		return err
	}
	var mailWake func()
	if outbox != nil {
		mailWake = outbox.Wake
	}
	// The directory checks its agents' passwords for the service, which
	// it also syncs: made after the service, used by it only once the
	// listener is up.
	var dir *directory.Directory
	var directoryBind func(ctx context.Context, dn, password string) error
	if cfg.DirectoryURL != "" {
		directoryBind = func(ctx context.Context, dn, password string) error { return dir.Bind(ctx, dn, password) }
	}
	var live callLive
	ice, stopTURN, err := startCalls(cfg, &live, reg, log)
	if err != nil {
		return err
	}
	defer stopTURN()
	svc := conversation.New(store, bus, conversation.Config{
		MaxMessageLength:          cfg.MaxMessageLength,
		MaxAttachmentKB:           maxKB,
		AllowedAttachmentTypes:    cfg.AllowedAttachmentTypes,
		RestrictedAttachmentTypes: nonNil(cfg.RestrictedAttachmentTypes),
		CustomerTimeout:           cfg.CustomerTimeout,
		IdleTimeout:               cfg.IdleTimeout,
		IdleWarning:               offIfZero(cfg.IdleWarning),
		DisconnectTimeout:         cfg.DisconnectTimeout,
		DisconnectWarning:         offIfZero(cfg.DisconnectWarning),
		PollGrace:                 cfg.PollGrace,
		AgentGrace:                cfg.AgentGrace,
		RejectGroups:              cfg.RejectGroups,
		IgnoreCustomerDetails:     cfg.IgnoreCustomerDetails,
		FilesDir:                  filepath.Join(cfg.Data, "files"),
		Files:                     files,
		SessionTTL:                cfg.SessionTTL,
		OfferTimeout:              offIfZero(cfg.OfferTimeout),
		DeclineCooldown:           offIfZero(cfg.DeclineCooldown),
		MissedOfferNotReady:       cfg.MissedOfferNotReady,
		PreferredWait:             offIfZero(cfg.PreferredWait),
		RampUp:                    cfg.RampUp,
		DefaultHandleTime:         cfg.DefaultHandleTime,
		LogText:                   cfg.LogChatText,
		MailFrom:                  cfg.MailFrom,
		MailWake:                  mailWake,
		FromPriority:              cfg.FromPriority,
		ServiceLevel:              cfg.ServiceLevel,
		LimitForSessions:          cfg.LimitForSessions,
		LogFilter:                 logFilter,
		DirectoryBind:             directoryBind,
		ICE:                       ice,
		Limits:                    cfg.Limits,
		Cluster:                   cluster,
	}, log)
	live.set(svc.CallLive)
	registerLimitMetrics(reg, svc)
	if err := svc.Start(ctx); err != nil {
		return err
	}
	defer svc.Close()
	if outbox != nil {
		// The outbox sends until shutdown; mail left pending is sent after
		// the next start.
		mctx, stopMail := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); outbox.Run(mctx) }()
		defer func() { stopMail(); <-done }()
	} else if !edge {
		log.Info("no smtp-host: transcript mail stays in the outbox until one is set")
	}

	if cfg.DirectoryURL != "" {
		if dir, err = newDirectory(cfg, svc, log); err != nil {
			return err
		}
		dctx, stopDir := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); dir.Run(dctx) }()
		defer func() { stopDir(); <-done }()
	}
	if !edge {
		stopJobs, err := runJobs(ctx, cfg, svc, store, stdout, log)
		if err != nil {
			return err
		}
		defer stopJobs()
	}

	api := httpapi.New(svc, httpapi.Options{
		AllowedOrigins: cfg.AllowedOrigins,
		Logger:         log,
		Registry:       reg,
		SecureCookies:  cfg.SecureCookies,
		LoginLimits:    cfg.LoginLimits,
		TrustedProxies: cfg.TrustedProxies,
		Ready: func(ctx context.Context) error {
			return errors.Join(store.Ping(ctx), bus.Ping(ctx), svc.ClusterStatus().Err)
		},
		Directory: apiDirectory(dir),
	})
	chatService := micc.New(svc, micc.Options{AllowedOrigins: cfg.AllowedOrigins, Logger: log, MaxWait: cfg.MICCMaxWait})
	genesys := gms.New(svc, gms.Options{Services: cfg.GMSServices, AllowedOrigins: cfg.AllowedOrigins,
		Disconnected400: cfg.GMSDisconnected400, Logger: log})
	// Webhooks are captured in the store's transactions and sent from
	// here until shutdown; what is left is sent after the next start.
	hooks := webhook.New(store, webhook.Options{Retry: cfg.WebhookRetry, MaxRetry: cfg.WebhookRetryMax,
		Logger: log, Registry: reg})
	if !edge {
		hctx, stopHooks := context.WithCancel(context.Background())
		hooksDone := make(chan struct{})
		go func() { defer close(hooksDone); hooks.Run(hctx) }()
		defer func() { stopHooks(); <-hooksDone }()
	}
	integrationAPI := integration.New(svc, integration.Options{Webhooks: hooks, Logger: log})
	registerClusterMetrics(reg, svc)
	registerRoleMetric(reg, cfg.Role)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	rc := rocketchat.New(svc, rocketchat.Options{Prefix: cfg.RocketChatPrefix, WidgetDir: cfg.RocketChatWidgetDir, AllowedOrigins: cfg.AllowedOrigins, Logger: log,
		WidgetConfig: rocketChatWidgetConfig(cfg.Data, svc), Triggers: rocketChatTriggers(svc)})
	mux.Handle("/", rc.Wrap(integrationAPI.Wrap(genesys.Wrap(chatService.Wrap(api.Handler(web.Handler(web.Options{
		Demo:           cfg.Demo,
		Logger:         log,
		DataDir:        cfg.Data,
		AllowedOrigins: cfg.AllowedOrigins,
		GroupStatus:    widgetGroupStatus(svc),
		HasTriggers:    svc.HasTriggers,
		// The admin console's widget settings override <data>/widget/config.json.
		WidgetAppearance: svc.PublicWidgetAppearance,
	})))))))

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	srv := httpServer(mux, cfg, log)
	serveErr := make(chan error, 3)
	// The MiCC Chat service on a port of its own, as MiCC serves it.
	var miccSrv *http.Server
	if cfg.MICCAddr != "" {
		mln, err := net.Listen("tcp", cfg.MICCAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("micc-addr: %w", err)
		}
		miccSrv = httpServer(chatService, cfg, log)
		go func() { serveErr <- miccSrv.Serve(mln) }()
		log.Info("MiCC Chat service listening", "addr", mln.Addr().String())
		fmt.Fprintf(stdout, "MiCC Chat service on http://%s/ChatService/\n", displayAddr(mln.Addr().String()))
	}
	// The integration API on a port of its own (Genesys' ESP port).
	var integrationSrv *http.Server
	if cfg.IntegrationAddr != "" {
		iln, err := net.Listen("tcp", cfg.IntegrationAddr)
		if err != nil {
			_ = ln.Close()
			if miccSrv != nil {
				_ = miccSrv.Close()
			}
			return fmt.Errorf("integration-addr: %w", err)
		}
		integrationSrv = httpServer(integrationAPI.Wrap(http.NotFoundHandler()), cfg, log)
		go func() { serveErr <- integrationSrv.Serve(iln) }()
		log.Info("integration API listening", "addr", iln.Addr().String())
	}
	go func() { serveErr <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	log.Info("listening", "addr", addr, "version", parley.Version, "demo", cfg.Demo)
	fmt.Fprintf(stdout, "Parley %s listening on http://%s\n", parley.Version, displayAddr(addr))
	if listening != nil {
		listening <- addr
	}

	select {
	case err := <-serveErr:
		_ = srv.Close()
		if miccSrv != nil {
			_ = miccSrv.Close()
		}
		if integrationSrv != nil {
			_ = integrationSrv.Close()
		}
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	svc.Drain()
	// The listeners close at once, so new requests are refused; requests
	// in flight (a message being stored) finish and are answered within
	// the grace; long-polls are answered now with what they have, and
	// WebSockets go away after the frame they are handling.
	var wg sync.WaitGroup
	for name, s := range map[string]*http.Server{"main": srv, "micc": miccSrv, "integration": integrationSrv} {
		if s != nil {
			wg.Go(func() {
				if err := s.Shutdown(sctx); err != nil {
					log.Warn("shutdown", "listener", name, "err", err)
				}
			})
		}
	}
	chatService.Shutdown()
	genesys.Shutdown()
	integrationAPI.Shutdown()
	rc.Shutdown()
	wg.Go(api.Shutdown)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-sctx.Done():
		log.Warn("shutdown grace over; closing what is left")
		_ = srv.Close()
		if miccSrv != nil {
			_ = miccSrv.Close()
		}
		if integrationSrv != nil {
			_ = integrationSrv.Close()
		}
	}
	return nil
}

// httpServer returns the server of one listener with the limits every
// listener has: header and body deadlines, idle keep-alive timeout,
// header size.
func httpServer(h http.Handler, cfg *Config, log *slog.Logger) *http.Server {
	// Every dialect reads the client address (behind trusted proxies,
	// from X-Forwarded-For) from the request context: the abuse limits
	// count it and the audit log records it.
	h = cfg.TrustedProxies.Handler(h, conversation.WithClientAddr)
	return &http.Server{
		Handler:           bodytimeout.Wrap(h, cfg.BodyTimeout, refuseSlowBody),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       cfg.ConnIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// refuseSlowBody answers a request whose body came too slowly, in the
// dialect of the endpoint it was sent to.
func refuseSlowBody(w http.ResponseWriter, r *http.Request, err error) {
	if micc.Serves(r) {
		micc.WriteFault(w, err)
		return
	}
	if gms.Serves(r) {
		gms.WriteError(w, err)
		return
	}
	httpapi.WriteError(w, err)
}

// servePprof serves the Go profiler on its own listener, apart from the
// API, so that it is reachable only where the operator binds it.
func servePprof(cfg *Config, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", cfg.PprofAddr)
	if err != nil {
		return nil, fmt.Errorf("pprof listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := httpServer(mux, cfg, log)
	go func() { _ = srv.Serve(ln) }()
	log.Info("pprof listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || (host != "" && host != "::" && host != "0.0.0.0") {
		return addr
	}
	return net.JoinHostPort("localhost", port)
}

func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// secretKeys are never logged; personalKeys only with log-personal-data.
var (
	secretKeys   = regexp.MustCompile(`(?i)password|token|secret|authorization|cookie|api_key`)
	personalKeys = regexp.MustCompile(`(?i)^(email|phone|ip|remote_addr|visitor_name|customer_id|private_data|login|dn)$`)
)

// newLogger returns the server's logger, which hides credentials always
// and personal data unless switched on.
func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if secretKeys.MatchString(a.Key) || (!cfg.LogPersonalData && personalKeys.MatchString(a.Key)) {
				return slog.String(a.Key, "[redacted]")
			}
			return a
		},
	}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// widgetGroupStatus looks up a group by ID or name for the widget.
func widgetGroupStatus(svc *conversation.Service) func(ctx context.Context, tenantID int64, group string) (any, error) {
	return func(ctx context.Context, tenantID int64, group string) (any, error) {
		id, err := strconv.ParseInt(strings.TrimPrefix(group, "g_"), 10, 64)
		if err != nil {
			return svc.GroupStatus(ctx, tenantID, 0, group)
		}
		return svc.GroupStatus(ctx, tenantID, id, "")
	}
}

// newDirectory configures the company directory from cfg.
func newDirectory(cfg *Config, svc *conversation.Service, log *slog.Logger) (*directory.Directory, error) {
	dc := directory.Config{
		URL: cfg.DirectoryURL, AllowPlain: cfg.DirectoryAllowPlain,
		BindDN: cfg.DirectoryBindDN, BindPassword: cfg.DirectoryBindPW, BaseDN: cfg.DirectoryBaseDN,
		UserFilter: cfg.DirectoryFilter, LoginAttr: cfg.DirectoryLoginAttr, NameAttr: cfg.DirectoryNameAttr,
		MailAttr: cfg.DirectoryMailAttr, PhoneAttr: cfg.DirectoryPhoneAttr, PhotoAttr: cfg.DirectoryPhotoAttr,
		Groups: cfg.DirectoryGroups, Portal: cfg.DirectoryPortal, TenantID: cfg.DirectoryTenant,
		Interval: cfg.DirectoryInterval, NestedGroups: cfg.DirectoryNested,
	}
	if cfg.DirectoryCAFile != "" {
		roots, err := directory.LoadCA(cfg.DirectoryCAFile)
		if err != nil {
			return nil, fmt.Errorf("directory-ca-file: %w", err)
		}
		dc.TLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	d, err := directory.New(dc, svc, nil, log)
	if err != nil {
		return nil, err
	}
	if cfg.DirectoryAllowPlain && strings.HasPrefix(cfg.DirectoryURL, "ldap://") {
		log.Warn("directory without TLS: agents' passwords cross the network in the clear", "url", cfg.DirectoryURL)
	}
	return d, nil
}

// apiDirectory is the directory for the admin API; nil when none is
// configured (an untyped nil, which the API reads as "not configured").
func apiDirectory(d *directory.Directory) httpapi.Directory {
	if d == nil {
		return nil
	}
	return d
}

// registerLimitMetrics counts the abuse limits' decisions in /metrics:
// parley_abuse_limit_allowed_total and parley_abuse_limit_refused_total,
// by limit.
func registerLimitMetrics(reg prometheus.Registerer, svc *conversation.Service) {
	for name := range svc.LimitCounts() {
		labels := prometheus.Labels{"limit": name}
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_abuse_limit_allowed_total",
				Help: "Actions an abuse limit counted and let through.", ConstLabels: labels},
				func() float64 { return float64(svc.LimitCounts()[name].Allowed) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_abuse_limit_refused_total",
				Help: "Actions an abuse limit refused with 429.", ConstLabels: labels},
				func() float64 { return float64(svc.LimitCounts()[name].Refused) }),
		)
	}
}
