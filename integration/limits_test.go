package integration_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/micc"
)

// rows counts the rows of a table in the server's database, read from a
// connection of its own.
func rows(t *testing.T, ts *testserver.Server, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(ts.Dir, "p.db")+"?mode=ro")
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

// TestSessionLimitAndKPIs fills a node limited to three sessions from
// both dialects, checks that a fourth request is refused in each with
// "service unavailable" and creates nothing, and that the health KPIs
// count exactly what happened.
func TestSessionLimitAndKPIs(t *testing.T) {
	agent := testserver.Agent("alice", "Alice", 1)
	agent.Capacity = 1
	ts := testserver.Start(t, testserver.Options{
		Config: conversation.Config{LimitForSessions: 3, PollGrace: time.Hour, DisconnectTimeout: 2 * time.Hour},
		Groups: []*parley.Group{{ID: 1, Name: "Support"}},
		Agents: []*parley.Agent{agent},
		API:    httpapi.Options{PingInterval: time.Minute},
		MICC:   &micc.Options{},
	})
	native := func(want int) httpapi.ChatStartedBody {
		var res httpapi.ChatStartedBody
		ts.Must(want, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "V"}, &res)
		return res
	}
	miccRequest := func() (int, []byte) {
		req := ts.NewRequest("POST", "/chatservice/RequestChat", "", `{"request":{"ServiceGroupID":1,"CustomerName":"M"}}`)
		req.Header.Set("Content-Type", "application/json")
		return ts.Send(req)
	}

	alice := ts.Login("alice")
	ts.Presence(alice, "available", "not_ready")
	a := native(http.StatusCreated)
	b := native(http.StatusCreated)
	if st, body := miccRequest(); st != http.StatusOK {
		t.Fatalf("MiCC RequestChat = %d %s", st, body)
	}

	ts.Presence(alice, "available", "ready")
	if got := ts.OfferedChat(alice); got != a.Chat.ID {
		t.Fatalf("offered %s; want the first chat %s", got, a.Chat.ID)
	}
	ts.Must(http.StatusOK, "POST", "/api/v1/chats/"+a.Chat.ID+"/accept", alice, nil, nil)
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+a.Chat.ID+"/messages", alice, map[string]string{"text": "Hello"}, nil)
	for _, text := range []string{"one", "two"} {
		ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+a.Chat.ID+"/messages", a.VisitorToken, map[string]string{"text": text}, nil)
	}

	chats, visitors := rows(t, ts, "chats"), rows(t, ts, "visitors")
	// The fourth request, in each dialect.
	st, body := ts.Do("POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Fourth"})
	var nerr httpapi.ErrorBody
	if err := json.Unmarshal(body, &nerr); err != nil || st != http.StatusServiceUnavailable || nerr.Error.Code != parley.EUNAVAILABLE {
		t.Fatalf("native fourth request = %d %s; want 503 unavailable", st, body)
	}
	st, body = miccRequest()
	var fault micc.Fault
	if err := json.Unmarshal(body, &fault); err != nil || st != http.StatusServiceUnavailable || fault.Code != parley.EUNAVAILABLE || fault.Message == "" {
		t.Fatalf("MiCC fourth request = %d %s; want 503 with a fault", st, body)
	}
	if c, v := rows(t, ts, "chats"), rows(t, ts, "visitors"); c != chats || v != visitors {
		t.Fatalf("refused requests created %d chats and %d visitors", c-chats, v-visitors)
	}

	// One leaves: a place is free again.
	ts.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+b.Chat.ID+"/leave", b.VisitorToken, nil, nil)
	native(http.StatusCreated)
	st, body = ts.Do("POST", "/api/v1/chats", "", map[string]any{"group_id": 1})
	if st != http.StatusServiceUnavailable {
		t.Fatalf("request at the limit again = %d %s", st, body)
	}

	var k conversation.HealthKPI
	ts.Must(http.StatusOK, "GET", "/kpi", "", nil, &k)
	want := conversation.HealthKPI{
		Sessions: 3, SessionLimit: 3, SessionsRefused: 3, FlexUsers: 3,
		Opened: 4, Closed: 1, MessagesIn: 2, MessagesOut: 1, Offers: 1,
		Queued: 2, QueueLengths: map[string]int{"1": 2},
		ServiceLevel: conversation.HealthKPIService{ThresholdSeconds: 20, Abandoned: 1, Value: 0},
	}
	got := k
	got.At, got.UptimeSeconds, got.Rates = time.Time{}, 0, conversation.HealthKPIRates{}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("KPIs:\n got %s\nwant %s", gj, wj)
	}
	if k.Rates.WindowSeconds <= 0 || k.Rates.Opens <= 0 || k.Rates.MessagesIn <= 0 {
		t.Fatalf("rates over the start %+v; want positive", k.Rates)
	}
	// A second reading measures from the first: nothing happened since.
	ts.Must(http.StatusOK, "GET", "/kpi", "", nil, &k)
	if k.Rates.Opens != 0 || k.Rates.MessagesIn != 0 || k.Opened != 4 {
		t.Fatalf("second reading %+v; want no new opens or messages", k)
	}
}
