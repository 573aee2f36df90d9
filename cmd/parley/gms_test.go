package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServeGMS: the binary serves the Genesys GMS Chat API under
// /genesys/ with --gms-services mapping a service to a group, and answers
// unknown services and bad bodies with the GMS envelope.
func TestServeGMS(t *testing.T) {
	p := launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--gms-services", "customer-support=Support")
	post := func(path string, form url.Values) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(p.url+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var env map[string]any
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatalf("POST %s = %d %q", path, resp.StatusCode, data)
		}
		return resp.StatusCode, env
	}
	code, env := post("/genesys/2/chat/no-such-service", url.Values{"nickname": {"Ada"}})
	if code != 404 || env["statusCode"] != float64(2) {
		t.Fatalf("unknown service = %d %v", code, env)
	}
	code, env = post("/genesys/2/chat/customer-support/x/refresh", url.Values{})
	if code != 400 || env["statusCode"] != float64(2) {
		t.Fatalf("refresh without secureKey = %d %v", code, env)
	}
	// The mapped service reaches the demo's Support group: a chat, or its
	// closed answer when no demo agent is signed in.
	code, env = post("/genesys/2/chat/customer-support", url.Values{"nickname": {"Ada"}})
	if errs, _ := env["errors"].([]any); code != 200 || (env["statusCode"] != float64(0) && len(errs) == 0) {
		t.Fatalf("requestChat = %d %v", code, env)
	}
	if env["statusCode"] == float64(0) && env["secureKey"] == "" {
		t.Fatalf("requestChat = %v", env)
	}
	if env["statusCode"] != float64(0) {
		if e := env["errors"].([]any)[0].(map[string]any); e["code"] != float64(409) {
			t.Fatalf("requestChat refused with %v; want the group closed (409)", e)
		}
	}
	p.stop()
}
