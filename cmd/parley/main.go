// Command parley is the Parley contact-center chat server.
//
//	parley serve [flags]   run the server (the default command)
//	parley migrate [flags] apply the store's pending migrations and exit
//	parley ready [URL]     exit 0 when the server at URL answers /readyz
//	parley version         print the version
//
// Run `parley serve -h` for the settings; every flag can also be given as a
// PARLEY_… environment variable or in a --config file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // group opening hours work on hosts without a zoneinfo database

	"github.com/parleychat/parley"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(1)
	}
}

// run is the whole program, with its environment passed in so tests can
// run it in-process.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := loadConfig(args, lookupEnv, stderr)
		if err != nil {
			return err
		}
		if _, set := lookupEnv("GOMAXPROCS"); !set && runtime.GOMAXPROCS(0) < 2 {
			// With one P, a goroutine in a blocking system call (the
			// WebSocket poller's epoll_wait, SQLite's writes) holds it
			// until the runtime takes it back, and every runnable
			// goroutine waits: on one core, deliveries took seconds.
			runtime.GOMAXPROCS(2)
		}
		if _, set := lookupEnv("GOGC"); !set {
			// The runtime's one setting: many small long-lived objects
			// per connection make the default target (100) double them.
			debug.SetGCPercent(cfg.GCPercent)
		}
		return serve(ctx, cfg, stdout, stderr, nil)
	case "migrate":
		cfg, err := loadConfig(args, lookupEnv, stderr)
		if err != nil {
			return err
		}
		return migrate(ctx, cfg, stdout, stderr)
	case "ready":
		return ready(ctx, args, stdout)
	case "version":
		fmt.Fprintln(stdout, "parley", parley.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "Usage: parley [serve|migrate|ready|version] [flags]\n\nRun 'parley serve -h' for the server's settings; migrate takes the same ones (--store).\n'parley ready [URL]' exits 0 when the server at URL (default http://127.0.0.1:8080) is ready.")
		return nil
	}
	return fmt.Errorf("unknown command %q (try serve, migrate, ready or version)", cmd)
}
