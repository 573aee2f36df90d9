package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleychat/parley/calendar"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/natsbus"
	"github.com/parleychat/parley/storebus"
)

var _ appStore = (*storebus.Client)(nil)

// openRoleStore opens the node's store for its role. An edge node opens
// no database: its store and its attachments are a core node's, asked
// over the bus (files is then not nil). A core node opens its store and
// answers the edge nodes' requests with it until closeStore.
func openRoleStore(ctx context.Context, cfg *Config, bus *natsbus.Bus, log *slog.Logger) (store appStore, files conversation.Files, closeStore func(), err error) {
	if cfg.Role == "edge" {
		c, err := storebus.NewClient(bus.Conn(), bus.Subject(""))
		if err != nil {
			return nil, nil, nil, err
		}
		log.Info("edge node: no database; store and files on the core nodes", "bus", cfg.NATSURL)
		return c, c.Files(), func() { _ = c.Close() }, nil
	}
	store, err = openStore(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.Role != "core" {
		return store, nil, func() { _ = store.Close() }, nil
	}
	srv, err := storebus.Serve(bus.Conn(), bus.Subject(""), store,
		conversation.DirFiles{Dir: filepath.Join(cfg.Data, "files")}, log)
	if err != nil {
		_ = store.Close()
		return nil, nil, nil, err
	}
	log.Info("core node: answering edge nodes' store requests")
	return store, nil, func() { _ = srv.Close(); _ = store.Close() }, nil
}

// runJobs starts what runs on core nodes (and single ones) only: the
// retention job and the calendar presence source until stop, and the
// demo's seed or the first admin.
func runJobs(ctx context.Context, cfg *Config, svc *conversation.Service, store appStore, stdout io.Writer, log *slog.Logger) (stop func(), err error) {
	// The retention job deletes what the tenants' retention periods have
	// expired, at start and then every retention-interval.
	rctx, stopRetention := context.WithCancel(context.Background())
	retentionDone := make(chan struct{})
	go func() { defer close(retentionDone); svc.RunRetention(rctx, cfg.RetentionEvery) }()
	// The calendar presence source reads agents' feeds until shutdown.
	cal := calendar.New(svc, calendar.Options{Interval: cfg.CalendarInterval, Refresh: cfg.CalendarRefresh, Logger: log})
	cctx, stopCal := context.WithCancel(context.Background())
	calDone := make(chan struct{})
	go func() { defer close(calDone); cal.Run(cctx) }()
	stop = func() { stopCal(); <-calDone; stopRetention(); <-retentionDone }

	if cfg.Demo {
		if err := seedDemo(ctx, store, svc, stdout); err != nil {
			stop()
			return nil, err
		}
		return stop, nil
	}
	login, password, created, err := svc.EnsureAdmin(ctx)
	if err != nil {
		stop()
		return nil, err
	}
	if created {
		fmt.Fprintf(stdout, "Created the first admin. Login: %s  Password: %s\nThis password is shown only once; change it with PUT /api/v1/me/password.\n", login, password)
	}
	return stop, nil
}

// registerRoleMetric shows the node's --role in /metrics:
// parley_node_role{role="edge"} 1.
func registerRoleMetric(reg prometheus.Registerer, role string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_node_role",
		Help: "1 for the node's --role: all, core or edge.", ConstLabels: prometheus.Labels{"role": role}})
	g.Set(1)
	reg.MustRegister(g)
}
