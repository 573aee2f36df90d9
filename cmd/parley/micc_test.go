package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

var miccLine = regexp.MustCompile(`MiCC Chat service on (http://\S+)/ChatService/`)

// TestServeMICC: the binary serves the MiCC Chat service under
// /ChatService/ on its main listener and, with --micc-addr, on a listener
// that serves nothing else.
func TestServeMICC(t *testing.T) {
	p := launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--micc-addr", "127.0.0.1:0", "--data", t.TempDir())
	var own string
	for _, l := range p.stdout {
		if m := miccLine.FindStringSubmatch(l); m != nil {
			own = m[1]
		}
	}
	if own == "" {
		t.Fatalf("no MiCC listener announced in %q", p.stdout)
	}
	post := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"request":{}}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	version, _ := json.Marshal(parley.Version)
	for _, url := range []string{p.url + "/ChatService/GetVersion", p.url + "/chatservice/getversion", own + "/ChatService/GetVersion"} {
		if code, body := post(url); code != 200 || body != string(version) {
			t.Fatalf("POST %s = %d %s; want 200 %s", url, code, body, version)
		}
	}
	// The own listener is the Chat service only.
	if code, body := post(own + "/api/v1/chats"); code != 404 || !strings.Contains(body, `"Code":"not_found"`) {
		t.Fatalf("the MiCC listener answers the native API: %d %s", code, body)
	}
	p.stop()
}
