package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// answer is one HTTP response of the abuse limit tests.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// from sends a request as the client addr behind the trusted proxy
// (127.0.0.1, where the test runs).
func (p *proc) from(addr, method, path, ctype, body string) answer {
	p.t.Helper()
	req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, data}
}

// retryAfter reads a whole number of seconds, 1 or more, from the answer.
func retryAfter(a answer) (int, bool) {
	n, err := strconv.Atoi(a.header.Get("Retry-After"))
	return n, err == nil && n >= 1
}

// opened reads the KPI of chats opened since start.
func (p *proc) opened() int64 {
	p.t.Helper()
	var k struct {
		Opened int64 `json:"opened"`
	}
	p.must(200, "GET", "/kpi", "", nil, &k)
	return k.Opened
}

// TestAbuseLimitsInEveryDialect: with --limit-chat-requests 2/1h, a
// visitor address that made two chat requests gets a clear 429 with
// Retry-After for its third in every dialect (native, MiCC, Genesys GMS,
// Rocket.Chat), each in its own error shape, and no chat is created. The
// address is the one X-Forwarded-For names behind the trusted proxy, so
// each dialect's client counts on its own. The refusals are counted in
// /metrics.
func TestAbuseLimitsInEveryDialect(t *testing.T) {
	p := launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir(),
		"--trusted-proxies", "127.0.0.1", "--limit-chat-requests", "2/1h", "--gms-services", "customer-support=Support")
	agent := p.login("agent1")
	p.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "not_ready"}, nil)

	const jsonType, formType = "application/json", "application/x-www-form-urlencoded"
	guest := 0
	for _, tt := range []struct {
		dialect string
		addr    string
		request func(addr string) answer
		// created tells a granted request; refused checks the dialect's
		// shape of the refusal.
		created func(a answer) bool
		refused func(a answer) bool
	}{
		{
			dialect: "native", addr: "198.51.100.1",
			request: func(addr string) answer {
				return p.from(addr, "POST", "/api/v1/chats", jsonType, `{"group_id":1,"name":"Nat"}`)
			},
			created: func(a answer) bool { return a.status == 201 },
			refused: func(a answer) bool {
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				return json.Unmarshal(a.body, &e) == nil && e.Error.Code == "too_many" &&
					strings.Contains(e.Error.Message, "too many chat requests from this address")
			},
		},
		{
			dialect: "MiCC", addr: "198.51.100.2",
			request: func(addr string) answer {
				return p.from(addr, "POST", "/chatservice/RequestChat", jsonType, `{"request":{"ServiceGroupID":1,"CustomerName":"Mi"}}`)
			},
			created: func(a answer) bool { return a.status == 200 && bytes.Contains(a.body, []byte(`"ChatID":"`)) },
			refused: func(a answer) bool {
				var f struct{ Message, Code string }
				return json.Unmarshal(a.body, &f) == nil && f.Code == "too_many" && strings.Contains(f.Message, "too many chat requests")
			},
		},
		{
			dialect: "Genesys GMS", addr: "198.51.100.3",
			request: func(addr string) answer {
				return p.from(addr, "POST", "/genesys/2/chat/customer-support", formType, url.Values{"nickname": {"G"}}.Encode())
			},
			created: func(a answer) bool { return a.status == 200 && bytes.Contains(a.body, []byte(`"secureKey":"`)) },
			refused: func(a answer) bool {
				var env struct {
					StatusCode int    `json:"statusCode"`
					SecureKey  string `json:"secureKey"`
					Errors     []struct {
						Code   int    `json:"code"`
						Advice string `json:"advice"`
					} `json:"errors"`
				}
				return json.Unmarshal(a.body, &env) == nil && env.StatusCode == 2 && env.SecureKey == "" &&
					len(env.Errors) == 1 && env.Errors[0].Code == 429 && strings.Contains(env.Errors[0].Advice, "too many chat requests")
			},
		},
		{
			dialect: "Rocket.Chat", addr: "198.51.100.4",
			request: func(addr string) answer {
				// A guest registers (no chat yet), then asks for its room.
				guest++
				tok := "rc-guest-" + strconv.Itoa(guest)
				if a := p.from(addr, "POST", "/api/v1/livechat/visitor", jsonType, `{"visitor":{"token":"`+tok+`","name":"R"}}`); a.status != 200 {
					t.Fatalf("Rocket.Chat visitor: %d %s", a.status, a.body)
				}
				return p.from(addr, "GET", "/api/v1/livechat/room?token="+tok, "", "")
			},
			created: func(a answer) bool { return a.status == 200 && bytes.Contains(a.body, []byte(`"success":true`)) },
			refused: func(a answer) bool {
				return bytes.Contains(a.body, []byte(`"success":false`)) && bytes.Contains(a.body, []byte(`"error":"error-too-many-requests"`))
			},
		},
	} {
		t.Run(tt.dialect, func(t *testing.T) {
			for i := range 2 {
				if a := tt.request(tt.addr); !tt.created(a) {
					t.Fatalf("request %d within the limit: %d %s", i+1, a.status, a.body)
				}
			}
			before := p.opened()
			a := tt.request(tt.addr)
			secs, ok := retryAfter(a)
			if a.status != 429 || !ok || secs > 1800 || !tt.refused(a) {
				t.Errorf("third request: %d, Retry-After %q, %s; want 429 with Retry-After (30 min at most) in the dialect's shape",
					a.status, a.header.Get("Retry-After"), a.body)
			}
			if after := p.opened(); after != before {
				t.Errorf("a refused request opened a chat: %d chats before, %d after", before, after)
			}
			// Another address is not held back by this one.
			if a := tt.request("203.0.113.9" + strconv.Itoa(len(tt.dialect))); !tt.created(a) {
				t.Errorf("another address: %d %s", a.status, a.body)
			}
		})
	}
	metric := p.from("127.0.0.1", "GET", "/metrics", "", "")
	if m := regexp.MustCompile(`parley_abuse_limit_refused_total\{limit="chat_requests_per_addr"\} (\d+)`).FindSubmatch(metric.body); m == nil || string(m[1]) != "4" {
		t.Errorf("/metrics counts %q refused chat requests; want 4", m)
	}
	p.stop()
}

// TestTranscriptLimitInEveryDialect: with --limit-transcripts 1/1h, a
// visitor's second transcript mail is refused with 429 and Retry-After in
// the dialects that let visitors ask for one (native and Rocket.Chat;
// MiCC's and GMS's chat APIs have no such request), and no mail is
// queued.
func TestTranscriptLimitInEveryDialect(t *testing.T) {
	dir := t.TempDir()
	p := launch(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", dir, "--mail-from", "chat@example.com",
		"--trusted-proxies", "127.0.0.1", "--limit-transcripts", "1/1h")
	agent := p.login("agent1")
	p.must(200, "PUT", "/api/v1/me/presence", agent, map[string]string{"presence": "available", "status": "not_ready"}, nil)
	const jsonType = "application/json"

	// Native.
	a := p.from("198.51.100.1", "POST", "/api/v1/chats", jsonType, `{"group_id":1,"name":"Nat"}`)
	var started struct {
		Chat         struct{ ID string } `json:"chat"`
		VisitorToken string              `json:"visitor_token"`
	}
	if err := json.Unmarshal(a.body, &started); err != nil || a.status != 201 {
		t.Fatalf("chat: %d %s", a.status, a.body)
	}
	transcript := func(addr, email string) answer {
		req, _ := http.NewRequest("POST", p.url+"/api/v1/chats/"+started.Chat.ID+"/transcript", strings.NewReader(`{"email":"`+email+`"}`))
		req.Header.Set("Content-Type", jsonType)
		req.Header.Set("Authorization", "Bearer "+started.VisitorToken)
		req.Header.Set("X-Forwarded-For", addr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, data}
	}
	if a := transcript("198.51.100.1", "nat@example.com"); a.status != 202 {
		t.Fatalf("first transcript: %d %s", a.status, a.body)
	}
	a = transcript("198.51.100.7", "other@example.com")
	if _, ok := retryAfter(a); a.status != 429 || !ok || !bytes.Contains(a.body, []byte(`"code":"too_many"`)) {
		t.Errorf("native second transcript: %d %q %s; want 429 too_many with Retry-After", a.status, a.header.Get("Retry-After"), a.body)
	}

	// Rocket.Chat.
	if a := p.from("198.51.100.2", "POST", "/api/v1/livechat/visitor", jsonType, `{"visitor":{"token":"rc-t","name":"R"}}`); a.status != 200 {
		t.Fatalf("Rocket.Chat visitor: %d %s", a.status, a.body)
	}
	room := p.from("198.51.100.2", "GET", "/api/v1/livechat/room?token=rc-t", "", "")
	var rr struct {
		Room struct {
			ID string `json:"_id"`
		} `json:"room"`
	}
	if err := json.Unmarshal(room.body, &rr); err != nil || rr.Room.ID == "" {
		t.Fatalf("Rocket.Chat room: %d %s", room.status, room.body)
	}
	body := `{"token":"rc-t","rid":"` + rr.Room.ID + `","email":"r@example.com"}`
	if a := p.from("198.51.100.2", "POST", "/api/v1/livechat/transcript", jsonType, body); a.status != 200 {
		t.Fatalf("Rocket.Chat first transcript: %d %s", a.status, a.body)
	}
	a = p.from("198.51.100.2", "POST", "/api/v1/livechat/transcript", jsonType, body)
	if _, ok := retryAfter(a); a.status != 429 || !ok || !bytes.Contains(a.body, []byte(`"error":"error-too-many-requests"`)) {
		t.Errorf("Rocket.Chat second transcript: %d %q %s; want 429 error-too-many-requests with Retry-After", a.status, a.header.Get("Retry-After"), a.body)
	}
	metric := p.from("127.0.0.1", "GET", "/metrics", "", "")
	if m := regexp.MustCompile(`parley_abuse_limit_refused_total\{limit="transcripts_per_visitor"\} (\d+)`).FindSubmatch(metric.body); m == nil || string(m[1]) != "2" {
		t.Errorf("/metrics counts %q refused transcripts; want 2", m)
	}
	p.stop()
	// Two mails were queued, one per dialect; the refused ones were not.
	if n := countRows(t, dir, "outbox"); n != 2 {
		t.Errorf("the outbox holds %d mails; want 2", n)
	}
}

// countRows counts a table's rows in the stopped server's database.
func countRows(t *testing.T, dir, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "parley.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
