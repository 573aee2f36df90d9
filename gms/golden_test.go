package gms_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/gms"
)

var update = flag.Bool("update", false, "rewrite the golden responses")

// goldenRequest is one request of testdata/golden: a form (or a raw body)
// posted to a path, with "<chatId>", "<secureKey>" and "<fileId>"
// standing for the chat's values.
type goldenRequest struct {
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Form        map[string]string `json:"form"`
	Raw         string            `json:"raw"`
	ContentType string            `json:"contentType"`
	File        *struct {
		Name    string `json:"name"`
		Content string `json:"content"`
	} `json:"file"`
	Status int `json:"status"`
}

// TestGolden runs every operation with the requests in testdata/golden
// and compares the answers with the responses there: the envelope of GMS
// "API Responses", with "<chatId>", "<secureKey>", "<userId>", "<fileId>"
// and "<utcTime>" (epoch milliseconds of today) for values that differ
// from run to run. A download's response is the file's bytes.
func TestGolden(t *testing.T) {
	s := newServerConfig(t, conversation.Config{MaxAttachmentKB: 64, QueuePush: 1 << 62}, gms.Options{})
	tok := s.ts.Login("agent1")
	s.ts.Presence(tok, "available", "not_ready")
	vals := map[string]string{}
	before := map[string]func(){
		"07_refresh_handling": func() {
			s.ts.Presence(tok, "available", "ready")
			id := s.acceptOffered(tok)
			s.ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+id+"/messages", tok, map[string]string{"text": "How can I help?"}, nil)
			// Until the client's session on the server has the message.
			c := &client{t: t, base: s.URL + "/genesys/2/chat/customer-support", chatID: vals["<chatId>"], key: vals["<secureKey>"], next: 1}
			c.await(func(m message) bool { return m.Text == "How can I help?" })
		},
	}
	files, err := filepath.Glob("testdata/golden/*.request.json")
	if err != nil || len(files) < 20 {
		t.Fatalf("golden files: %d, %v", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".request.json")
		if fn := before[name]; fn != nil {
			fn()
		}
		var req goldenRequest
		if err := json.Unmarshal(read(t, f), &req); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		status, body, ct := send(t, s.URL, req, vals)
		if status != req.Status {
			t.Fatalf("%s: status %d %s; want %d", name, status, body, req.Status)
		}
		want := strings.Replace(f, ".request.json", ".response.json", 1)
		if !strings.HasPrefix(ct, "application/json") {
			want = strings.Replace(want, ".json", ".bin", 1)
			if *update {
				write(t, want, body)
			}
			if exp := read(t, want); !bytes.Equal(body, exp) {
				t.Fatalf("%s: body %q; want %q", name, body, exp)
			}
			continue
		}
		var got any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: %q is not JSON", name, body)
		}
		got = golden(t, name, got, vals)
		if *update {
			data, _ := json.MarshalIndent(got, "", "  ")
			write(t, want, append(data, '\n'))
		}
		var exp any
		if err := json.Unmarshal(read(t, want), &exp); err != nil {
			t.Fatalf("%s: bad golden file: %v", name, err)
		}
		if !reflect.DeepEqual(got, exp) {
			g, _ := json.MarshalIndent(got, "", "  ")
			t.Fatalf("%s:\n got %s\nwant %s", name, g, read(t, want))
		}
	}
}

// send makes a golden request and returns the status, body and type.
func send(t *testing.T, base string, req goldenRequest, vals map[string]string) (int, []byte, string) {
	t.Helper()
	sub := func(s string) string {
		for k, v := range vals {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}
	form := url.Values{}
	for k, v := range req.Form {
		form.Set(k, sub(v))
	}
	var body io.Reader = strings.NewReader(form.Encode())
	ct := "application/x-www-form-urlencoded"
	switch {
	case req.File != nil:
		var buf *bytes.Buffer
		ct, buf = multipartBody(t, form, req.File.Name, []byte(req.File.Content))
		body = buf
	case req.Raw != "":
		body = strings.NewReader(req.Raw)
	}
	if req.ContentType != "" {
		ct = req.ContentType
	}
	method := req.Method
	if method == "" {
		method = "POST"
	}
	r, err := http.NewRequest(method, base+sub(req.Path), body)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header.Get("Content-Type")
}

// golden replaces the values that differ from run to run by their
// placeholders, learning them on first sight.
func golden(t *testing.T, name string, v any, vals map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		// A limits notice carries the session's position, which trails the
		// store by the bus's delivery of the events just stored (a read
		// receipt's): its index is the moment's, not the operation's.
		if x["text"] == "file-client-cfg-get" && x["index"] != nil {
			x["index"] = "<index>"
		}
		for k, val := range x {
			ph := map[string]string{"chatId": "<chatId>", "secureKey": "<secureKey>", "userId": "<userId>", "file-id": "<fileId>", "clientId": "<clientId>"}[k]
			switch s, _ := val.(string); {
			case ph != "" && s != "":
				if old, ok := vals[ph]; ok && old != s && ph != "<fileId>" {
					t.Fatalf("%s: %s is %q, was %q", name, k, s, old)
				}
				vals[ph] = s
				x[k] = ph
			case k == "utcTime":
				ms, _ := val.(float64)
				if d := time.Since(time.UnixMilli(int64(ms))); d < 0 || d > time.Hour {
					t.Fatalf("%s: utcTime %v is not epoch milliseconds of now", name, val)
				}
				x[k] = "<utcTime>"
			default:
				x[k] = golden(t, name, val, vals)
			}
		}
	case []any:
		for i := range x {
			x[i] = golden(t, name, x[i], vals)
		}
	}
	return v
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenCometD runs the Bayeux batches of testdata/golden-cometd
// against /genesys/cometd and compares the answers, with "<clientId>"
// for the handshake's client ID besides the placeholders of TestGolden.
// Connects wait at most 1 s.
func TestGoldenCometD(t *testing.T) {
	s := newServerConfig(t, conversation.Config{MaxAttachmentKB: 64, QueuePush: 1 << 62}, gms.Options{CometTimeout: time.Second})
	tok := s.ts.Login("agent1")
	s.ts.Presence(tok, "available", "not_ready")
	vals := map[string]string{}
	files, err := filepath.Glob("testdata/golden-cometd/*.request.json")
	if err != nil || len(files) < 10 {
		t.Fatalf("golden files: %d, %v", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".request.json")
		var req struct {
			Body   string `json:"body"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(read(t, f), &req); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body := req.Body
		for k, v := range vals {
			body = strings.ReplaceAll(body, k, v)
		}
		resp, err := http.Post(s.URL+"/genesys/cometd", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != req.Status {
			t.Fatalf("%s: status %d %s; want %d", name, resp.StatusCode, data, req.Status)
		}
		var got any
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("%s: %q is not JSON", name, data)
		}
		got = golden(t, name, got, vals)
		want := strings.Replace(f, ".request.json", ".response.json", 1)
		if *update {
			out, _ := json.MarshalIndent(got, "", "  ")
			write(t, want, append(out, '\n'))
		}
		var exp any
		if err := json.Unmarshal(read(t, want), &exp); err != nil {
			t.Fatalf("%s: bad golden file: %v", name, err)
		}
		if !reflect.DeepEqual(got, exp) {
			g, _ := json.MarshalIndent(got, "", "  ")
			t.Fatalf("%s:\n got %s\nwant %s", name, g, read(t, want))
		}
	}
}
