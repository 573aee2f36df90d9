package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/browsertest"
)

// TestEdgeServesWidgetChat: one core node (PostgreSQL, NATS) and one edge
// node started without any database setting. A visitor opens the widget
// of a shop's page from the edge in Chromium and chats; the agent works
// through the edge's API; the visitor sees the reply, uploads a file
// (kept in the core's data directory, served back through the edge), and
// ends the chat. Then the edge is shown to hold no store connection: none
// of its sockets goes to PostgreSQL's port (the core's do), and its data
// directory holds no database and no file.
func TestEdgeServesWidgetChat(t *testing.T) {
	c := newTestCluster(t)
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, hostPageHTML)
	}))
	defer host.Close()
	_, hostPort, _ := net.SplitHostPort(host.Listener.Addr().String())
	hostOrigin := "http://localhost:" + hostPort

	coreData := t.TempDir()
	core := launch(t, "serve", "--role", "core", "--demo", "--addr", "127.0.0.1:0", "--data", coreData,
		"--store", c.store, "--bus", c.bus, "--bus-prefix", c.prefix)
	eventually(t, 15*time.Second, "the core leading", func() bool { return core.role() == "leader" })
	edgeData := t.TempDir()
	edge := launch(t, "serve", "--role", "edge", "--addr", "127.0.0.1:0", "--data", edgeData,
		"--bus", c.bus, "--bus-prefix", c.prefix, "--allowed-origins", hostOrigin)
	edge.password = core.password
	eventually(t, 15*time.Second, "the edge ready", func() bool { return edge.call("GET", "/readyz", "", nil, nil) == 200 })
	if r := edge.role(); r != "follower" {
		t.Fatalf("the edge's routing role is %q, want follower (it never leads)", r)
	}
	for p, want := range map[*proc]string{edge: "edge", core: "core"} {
		var metrics string
		resp, err := http.Get(p.url + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			metrics = string(b)
		}
		if line := `parley_node_role{role="` + want + `"} 1`; !strings.Contains(metrics, line) {
			t.Errorf("/metrics of the %s node lacks %s", want, line)
		}
	}

	// The agent signs in and goes ready through the edge.
	agent := edge.login("agent1")
	var me parley.Agent
	edge.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "ready"}, &me)

	// The visitor opens the widget from the edge on the shop's page.
	_, tab := browsertest.New(t)
	act(t, tab, chromedp.Navigate(hostOrigin+"/?edge="+edge.url))
	waitJS(t, tab, "the launcher", `!!document.querySelector("parley-widget")?.shadowRoot?.querySelector("button")`)
	eval[bool](t, tab, `document.querySelector("parley-widget").shadowRoot.querySelector("button").click(), true`)
	var app context.Context
	eventually(t, 30*time.Second, "the widget's frame", func() bool {
		app = widgetFrame(t, tab, edge.url)
		return app != nil
	})
	if _, err := chromedp.Run(app, chromedp.Poll[bool](`!document.querySelector("#start").hidden`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("no pre-chat form in the widget: %v\nedge: %s", err, edge.stderr)
	}
	act(t, app,
		chromedp.WaitVisible("#start"),
		chromedp.SendKeys("#name", "Vera"),
		chromedp.SendKeys("#question", "Do you ship to Austria?"),
		chromedp.Click("#start-button"),
		chromedp.WaitVisible("#log"),
	)

	// The agent finds the chat offered, accepts and replies.
	var chatID string
	eventually(t, 20*time.Second, "the chat offered to the agent", func() bool {
		var chats []*conversation.ChatView
		edge.call("GET", "/api/v1/me/chats", agent, nil, &chats)
		for _, ch := range chats {
			if ch.OfferedTo == me.ID {
				chatID = ch.ID
			}
		}
		return chatID != ""
	})
	edge.must(200, "POST", "/api/v1/chats/"+chatID+"/accept", agent, nil, nil)
	edge.must(201, "POST", "/api/v1/chats/"+chatID+"/messages", agent, map[string]string{"text": "Yes, in 3 to 5 days."}, nil)
	waitJS(t, app, "the agent's reply in the widget", `document.querySelector("#log").textContent.includes("Yes, in 3 to 5 days.")`)
	// What a message sent through the edge asks of the core.
	perMessage := storeRequests(t, c, func() {
		for i := range 10 {
			edge.must(201, "POST", "/api/v1/chats/"+chatID+"/messages", agent, map[string]string{"text": "line " + strconv.Itoa(i)}, nil)
		}
	})
	t.Logf("store requests of 10 agent messages through the edge: %v", perMessage)
	if perMessage["AppendEvents"] < 10 {
		t.Errorf("10 messages made %d AppendEvents requests to the core, want one each at least", perMessage["AppendEvents"])
	}
	act(t, app, chromedp.SendKeys("#text", "Great, thanks!\r"))
	eventually(t, 10*time.Second, "the visitor's message for the agent", func() bool {
		return strings.Contains(strings.Join(messagesOn(edge, chatID, agent), "|"), "Great, thanks!")
	})

	// A file of 1.5 MB: more than one chunk between the edge and the core.
	content := bytes.Repeat([]byte("order line 4711\n"), 100_000)
	file := filepath.Join(t.TempDir(), "order-4711.txt")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	act(t, app, chromedp.SetUploadFiles("#file", []string{file}))
	var att *parley.Attachment
	eventually(t, 30*time.Second, "the file in the chat", func() bool {
		var page httpapi.EventsBody
		edge.call("GET", "/api/v1/chats/"+chatID+"/events?after=0", agent, nil, &page)
		for _, e := range page.Events {
			if e.Type == parley.EventFile && e.File != nil {
				att = e.File
			}
		}
		return att != nil
	})
	waitJS(t, app, "the uploaded file in the widget", `!document.querySelector("#log progress") && document.querySelector("#log").textContent.includes("order-4711.txt")`)
	got := download(t, edge.url+"/api/v1/chats/"+chatID+"/files/"+att.ID, agent)
	if !bytes.Equal(got, content) {
		t.Fatalf("the file read through the edge: %d bytes, want the %d uploaded", len(got), len(content))
	}

	if onCore, err := os.ReadFile(filepath.Join(coreData, "files", chatID, att.ID)); err != nil || !bytes.Equal(onCore, content) {
		t.Fatalf("the file in the core's data directory: %d bytes, %v", len(onCore), err)
	}

	// The visitor ends the chat.
	act(t, app, chromedp.Click("#leave"), chromedp.WaitVisible("#leave-yes"), chromedp.Click("#leave-yes"))
	eventually(t, 10*time.Second, "the chat ended", func() bool {
		return chatOn(edge, chatID, agent).State == parley.StateTerminated
	})

	// No store connection on the edge; the core has one (the check sees
	// PostgreSQL sockets where there are some).
	u, err := url.Parse(c.store)
	if err != nil {
		t.Fatal(err)
	}
	port := 5432
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	if n := socketsTo(t, core.cmd.Process.Pid, port); n == 0 {
		t.Fatalf("the core has no socket to port %d: the check cannot see store connections", port)
	}
	if n := socketsTo(t, edge.cmd.Process.Pid, port); n != 0 {
		t.Fatalf("the edge has %d sockets to PostgreSQL's port %d", n, port)
	}
	var kept []string
	filepath.WalkDir(edgeData, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			kept = append(kept, strings.TrimPrefix(path, edgeData))
		}
		return nil
	})
	if len(kept) != 0 {
		t.Fatalf("the edge's data directory holds %v; want nothing (no database, no attachment)", kept)
	}
	t.Logf("edge: no socket to port %d, data directory empty; core: file of %d bytes under its data directory", port, len(content))
	edge.stop()
	core.stop()
}

// hostPageHTML is a shop's page embedding the widget of the Parley
// address in its ?edge= parameter.
const hostPageHTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Outdoor</title>
<script>const s = document.createElement("script"); s.src = new URLSearchParams(location.search).get("edge") + "/widget.js"; s.async = true; document.head.append(s);</script>
</head><body><h1>Acme Outdoor</h1><parley-widget group="1"></parley-widget></body></html>`

// widgetFrame attaches to the widget's iframe, or returns nil while there
// is none.
func widgetFrame(t *testing.T, tab context.Context, parley string) context.Context {
	t.Helper()
	infos, err := chromedp.Targets(tab)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		if info.Type == "iframe" && strings.HasPrefix(info.URL, parley+"/widget/app") {
			ctx, _ := chromedp.NewContext(tab, chromedp.WithTargetID(target.ID(info.TargetID)))
			if err := chromedp.Do(ctx, chromedp.WaitReady("#card")); err != nil {
				t.Fatal(err)
			}
			return ctx
		}
	}
	return nil
}

func act(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, js, err)
	}
}

// storeRequests counts by method the store requests edges send to the
// cores while fn runs.
func storeRequests(t *testing.T, c *testCluster, fn func()) map[string]int {
	t.Helper()
	nc, err := nats.Connect(c.bus)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	counts := map[string]int{}
	sub, err := nc.Subscribe(c.prefix+".store.*", func(m *nats.Msg) {
		mu.Lock()
		counts[strings.TrimPrefix(m.Subject, c.prefix+".store.")]++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	fn()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	sub.Unsubscribe()
	mu.Lock()
	defer mu.Unlock()
	return maps.Clone(counts)
}

// download reads an agent's file.
func download(t *testing.T, url, token string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	return body
}

// socketsTo counts the process's TCP sockets whose remote port is port:
// the rows of /proc/<pid>/net/tcp and tcp6 (the whole network
// namespace's) whose inode is one of the process's open sockets.
func socketsTo(t *testing.T, pid, port int) int {
	t.Helper()
	fdDir := "/proc/" + strconv.Itoa(pid) + "/fd"
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		t.Fatal(err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/" + table)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 {
				continue
			}
			// f[2] is the remote address:port in hex, f[9] the inode.
			_, hexPort, _ := strings.Cut(f[2], ":")
			p, err := strconv.ParseInt(hexPort, 16, 32)
			if err == nil && int(p) == port && inodes[f[9]] {
				n++
			}
		}
	}
	return n
}
