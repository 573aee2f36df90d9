package rocketchat_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden responses from the server's answers")

// goldenCase is one file of testdata/golden: a REST request (method,
// path, body or a multipart file) or a DDP frame, and the answer with its
// status. Dynamic values appear as placeholders: <token>, <rid>,
// <visitorId>, <session>, <fileId>, <iso> (an ISO date), <ejson> (an
// EJSON date) and <random> (an id the server chose).
type goldenCase struct {
	Method   string          `json:"method,omitempty"`
	Path     string          `json:"path,omitempty"`
	Body     json.RawMessage `json:"body,omitempty"`
	File     *goldenFile     `json:"file,omitempty"`
	DDP      json.RawMessage `json:"ddp,omitempty"`
	Status   int             `json:"status,omitempty"`
	Response json.RawMessage `json:"response"`
}

type goldenFile struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

var (
	isoDate   = regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"`)
	ejsonDate = regexp.MustCompile(`\{"\$date":\d+\}`)
)

// TestGolden runs every REST endpoint and DDP method with the requests in
// testdata/golden, in order, and compares the answers with the
// responses there. go test -run TestGolden -update rewrites them.
func TestGolden(t *testing.T) {
	s := start(t)
	files, err := filepath.Glob("testdata/golden/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	sort.Strings(files)
	vals := map[string]string{"<token>": "golden-visitor-token", "<token2>": "golden-ddp-token"}
	var agentTok, chatID string
	var d *ddpClient
	before := map[string]func(){
		"04": func() { agentTok = s.online() },
		"09": func() {
			chatID = s.OfferedChat(agentTok)
			s.Must(http.StatusOK, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
			s.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "Hello, this is Alice."}, nil)
		},
		"31": func() { d = dial(t, s.URL+"/websocket", true) },
		"41": func() {
			id := s.OfferedChat(agentTok)
			vals["<chat2>"] = id
			s.Must(http.StatusOK, "POST", "/api/v1/chats/"+id+"/accept", agentTok, nil, nil)
			s.Must(http.StatusCreated, "POST", "/api/v1/chats/"+id+"/messages", agentTok, map[string]string{"text": "Hi, Alice here."}, nil)
		},
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c goldenCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fn := before[name[:2]]; fn != nil {
			fn()
		}
		fill := func(b []byte) []byte {
			for k, v := range vals {
				b = bytes.ReplaceAll(b, []byte(k), []byte(v))
			}
			return b
		}
		var code int
		var got []byte
		if len(c.DDP) > 0 {
			got = ddpExchange(t, d, fill(c.DDP))
		} else {
			path := string(fill([]byte(c.Path)))
			req := s.NewRequest(c.Method, path, "", nil)
			switch {
			case c.File != nil:
				var buf bytes.Buffer
				mw := multipart.NewWriter(&buf)
				fw, _ := mw.CreateFormFile("file", c.File.Name)
				fw.Write([]byte(c.File.Content))
				mw.Close()
				req = s.NewRequest(c.Method, path, "", buf.Bytes())
				req.Header.Set("Content-Type", mw.FormDataContentType())
				req.Header.Set("X-Visitor-Token", vals["<token>"])
			case len(c.Body) > 0:
				req = s.NewRequest(c.Method, path, "", fill(c.Body))
				req.Header.Set("Content-Type", "application/json")
			}
			code, got = s.Send(req)
		}
		learn(got, vals)
		norm := normalize(got, vals)
		if *update {
			c.Status, c.Response = code, norm
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(c); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if code != c.Status {
			t.Errorf("%s: status %d %s; want %d", name, code, got, c.Status)
		}
		if !jsonEqual(norm, c.Response) {
			t.Errorf("%s:\n got %s\nwant %s", name, norm, c.Response)
		}
	}
}

// learn picks up the dynamic values an answer introduces.
func learn(got []byte, vals map[string]string) {
	var v map[string]any
	if json.Unmarshal(got, &v) != nil {
		return
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	obj := func(m map[string]any, k string) map[string]any { o, _ := m[k].(map[string]any); return o }
	if r := obj(v, "room"); r != nil && str(r, "_id") != "" {
		vals["<rid>"] = str(r, "_id")
	}
	if vis := obj(v, "visitor"); vis != nil && str(vis, "_id") != "" && vals["<visitorId>"] == "" {
		vals["<visitorId>"] = str(vis, "_id")
	}
	if m := obj(v, "message"); m != nil {
		if f := obj(m, "file"); f != nil {
			vals["<fileId>"] = str(f, "_id")
		}
	}
	if str(v, "msg") == "connected" {
		vals["<session>"] = str(v, "session")
	}
	if res := obj(v, "result"); res != nil {
		if id := str(res, "userId"); id != "" {
			vals["<visitorId2>"] = id
		}
		if rid := str(res, "rid"); rid != "" && str(res, "_id") == "golden-ddp-1" {
			vals["<rid2>"] = rid
		}
	}
}

// normalize replaces the dynamic values of an answer by placeholders.
func normalize(got []byte, vals map[string]string) json.RawMessage {
	var v any
	if err := json.Unmarshal(got, &v); err != nil {
		return json.RawMessage(`"not JSON"`)
	}
	b, _ := json.Marshal(v)
	b = isoDate.ReplaceAll(b, []byte(`"<iso>"`))
	b = ejsonDate.ReplaceAll(b, []byte(`"<ejson>"`))
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	// Longer values first, so a value inside another is not cut.
	sort.Slice(keys, func(i, j int) bool { return len(vals[keys[i]]) > len(vals[keys[j]]) })
	for _, k := range keys {
		if vals[k] != "" {
			b = bytes.ReplaceAll(b, []byte(vals[k]), []byte(k))
		}
	}
	b = regexp.MustCompile(`"_id":"[23456789A-HJ-NP-Za-km-z]{17}"`).ReplaceAll(b, []byte(`"_id":"<random>"`))
	var out bytes.Buffer
	json.Indent(&out, b, "", "  ")
	return out.Bytes()
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// ddpExchange sends a DDP frame and returns the server's answer to it.
func ddpExchange(t *testing.T, d *ddpClient, frame []byte) []byte {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal(frame, &f); err != nil {
		d.sendRaw(string(frame)) // a malformed frame on purpose
		return mustJSON(d.next("error", func(f map[string]any) bool { return f["msg"] == "error" }))
	}
	d.sendRaw(string(frame))
	id, _ := f["id"].(string)
	var match func(map[string]any) bool
	switch f["msg"] {
	case "connect":
		match = func(g map[string]any) bool { return g["msg"] == "connected" || g["msg"] == "failed" }
	case "ping":
		match = func(g map[string]any) bool { return g["msg"] == "pong" }
	case "method":
		match = func(g map[string]any) bool { return g["msg"] == "result" && g["id"] == id }
	case "sub":
		match = func(g map[string]any) bool {
			subs, _ := g["subs"].([]any)
			return (g["msg"] == "ready" && len(subs) == 1 && subs[0] == id) || (g["msg"] == "nosub" && g["id"] == id)
		}
	case "unsub":
		match = func(g map[string]any) bool { return g["msg"] == "nosub" && g["id"] == id }
	default:
		match = func(g map[string]any) bool { return g["msg"] == "error" }
	}
	return mustJSON(d.next("answer to "+string(frame), match))
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
