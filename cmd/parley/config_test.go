package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.Data != "./parley-data" || c.Demo || c.MaxMessageLength != 1024 ||
		c.MaxAttachmentKB != 5120 || c.CustomerTimeout != 900*time.Second || c.IdleTimeout != 300*time.Second ||
		c.IdleWarning != 60*time.Second || c.DisconnectTimeout != 60*time.Second || c.DisconnectWarning != 20*time.Second ||
		!slices.Equal(c.RestrictedAttachmentTypes, []string{"exe", "bat", "cmd", "com", "vbs"}) || len(c.AllowedAttachmentTypes) != 0 {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "parley.env")
	err := os.WriteFile(file, []byte("# comment\nPARLEY_ADDR=:7000\nPARLEY_DATA=\"/from/file\"\nexport PARLEY_MAX_MESSAGE_LENGTH=500\nPARLEY_IDLE_TIMEOUT=10m\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(
		[]string{"--config", file, "--addr", "127.0.0.1:9000", "--demo"},
		env(map[string]string{"PARLEY_ADDR": ":8000", "PARLEY_MAX_MESSAGE_LENGTH": "700", "PARLEY_CUSTOMER_TIMEOUT": "1200"}),
		io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"addr: flag beats env and file", c.Addr, "127.0.0.1:9000"},
		{"data: file beats default", c.Data, "/from/file"},
		{"max message length: env beats file", c.MaxMessageLength, 700},
		{"idle timeout: file, as a duration", c.IdleTimeout, 10 * time.Minute},
		{"customer timeout: env, in seconds", c.CustomerTimeout, 1200 * time.Second},
		{"demo: bare flag", c.Demo, true},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: got %v; want %v", ck.name, ck.got, ck.want)
		}
	}
	// PARLEY_CONFIG names the file too.
	c, err = loadConfig(nil, env(map[string]string{"PARLEY_CONFIG": file}), io.Discard)
	if err != nil || c.Addr != ":7000" {
		t.Fatalf("PARLEY_CONFIG: %+v, %v", c, err)
	}
}

func TestConfigErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.env")
	if err := os.WriteFile(file, []byte("PARLEY_NO_SUCH_KEY=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--max-message-length", "0"}, nil, "max-message-length"},
		{nil, map[string]string{"PARLEY_IDLE_TIMEOUT": "soon"}, "PARLEY_IDLE_TIMEOUT"},
		{[]string{"--log-format", "xml"}, nil, "log-format"},
		{[]string{"--allowed-origins", "example.com"}, nil, "allowed-origins"},
		{[]string{"--service-group-ids-to-reject", "1,x"}, nil, "service-group-ids-to-reject"},
		{[]string{"--idle-timeout", "30s", "--idle-warning", "60s"}, nil, "idle-warning"},
		{[]string{"--config", file}, nil, "PARLEY_NO_SUCH_KEY"},
		{[]string{"--no-such-flag"}, nil, "no-such-flag"},
		{[]string{"stray"}, nil, "stray"},
		{nil, map[string]string{"PARLEY_STORE": "mysql://db/parley"}, "store"},
		{[]string{"--role", "web"}, nil, "role"},
		{[]string{"--role", "edge"}, nil, "--bus"},
		{[]string{"--role", "edge", "--bus", "nats://n:4222", "--store", "postgres://db/parley"}, nil, "--store"},
		{[]string{"--role", "edge", "--bus", "nats://n:4222", "--store", "parley.db"}, nil, "--store"},
		{[]string{"--role", "edge", "--bus", "nats://n:4222", "--smtp-host", "mail"}, nil, "smtp-host"},
		{[]string{"--role", "core", "--bus", "nats://n:4222"}, nil, "--store postgres"},
		{[]string{"--role", "core", "--store", "postgres://db/parley"}, nil, "--bus"},
	}
	for _, tt := range tests {
		_, err := loadConfig(tt.args, env(tt.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("loadConfig(%v, %v) = %v; want an error naming %s", tt.args, tt.env, err, tt.want)
		}
	}
	for _, args := range [][]string{nil, {"--role", "edge", "--bus", "nats://n:4222"}, {"--role", "core", "--bus", "nats://n:4222", "--store", "postgres://db/parley"}} {
		if _, err := loadConfig(args, env(nil), io.Discard); err != nil {
			t.Errorf("loadConfig(%v) = %v", args, err)
		}
	}
	c, err := loadConfig([]string{"--allowed-origins", "https://Shop.example/, http://localhost:3000"}, env(nil), io.Discard)
	if err != nil || !slices.Equal(c.AllowedOrigins, []string{"https://Shop.example", "http://localhost:3000"}) {
		t.Fatalf("origins = %v, %v", c.AllowedOrigins, err)
	}
}

// TestConfigDocumented fails when a setting is missing from
// docs/configuration.md.
func TestConfigDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		for _, name := range []string{s.Env(), "--" + s.name} {
			if !strings.Contains(string(doc), name) {
				t.Errorf("docs/configuration.md does not mention %s", name)
			}
		}
	}
	if !strings.Contains(string(doc), "PARLEY_CONFIG") {
		t.Error("docs/configuration.md does not mention PARLEY_CONFIG")
	}
}
