package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// defaultReadyURL is where `parley ready` asks when given no address: the
// server's default listen address.
const defaultReadyURL = "http://127.0.0.1:8080/readyz"

// ready asks a running server's /readyz and fails unless it answers 200,
// so that a container without a shell or curl (the image is FROM
// scratch) can still have a health check. args may give the server's
// base URL or its /readyz URL.
func ready(ctx context.Context, args []string, stdout io.Writer) error {
	url := defaultReadyURL
	switch len(args) {
	case 0:
	case 1:
		url = strings.TrimSuffix(args[0], "/")
		if !strings.HasSuffix(url, "/readyz") {
			url += "/readyz"
		}
	default:
		return fmt.Errorf("ready takes at most one URL, got %d arguments", len(args))
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(stdout, "ready")
	return nil
}
