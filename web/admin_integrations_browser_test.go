package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/web"
	"github.com/parleychat/parley/webhook"
)

// signedReceiver is a webhook receiver that checks each delivery's
// signature with the secret the admin console showed and records the
// event names of those that pass.
type signedReceiver struct {
	mu     sync.Mutex
	secret string
	events []string
	bad    []string
}

func (h *signedReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := webhook.Verify(h.secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
		h.bad = append(h.bad, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		h.bad = append(h.bad, err.Error())
	}
	h.events = append(h.events, p.Event)
	w.WriteHeader(http.StatusNoContent)
}

func (h *signedReceiver) got(event string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.events {
		if e == event {
			return true
		}
	}
	return false
}

// keyStatus is the status of an integration API request with key.
func keyStatus(t *testing.T, ts *testserver.Server, key string) int {
	t.Helper()
	code, _ := ts.Do("GET", "/integration/v1/bot/chats", key, nil)
	return code
}

// TestAdminIntegrations walks the admin console's Integrations page in
// Chromium against the real integration API and webhook sender: an API
// key is created and shown once, works for a workflow's request, is
// revoked after a confirmation step and is refused from then on; a
// webhook to a receiver is added with an event filter, its signing secret
// shown once is the one that signs the deliveries, a chat's "requested"
// appears as delivered in the deliveries view and the webhook is deleted
// after a confirmation step; a group is made bot first, the API's error
// for a bad bot name shown next to the field, and bot first is cleared
// again. The page is checked for contrast; with PARLEY_SCREENSHOTS=1 it
// is saved at desktop and phone width.
func TestAdminIntegrations(t *testing.T) {
	root := testserver.Agent("root", "Rita Root")
	root.Role = parley.RoleAdmin
	ts := testserver.Start(t, testserver.Options{
		Groups:      []*parley.Group{{ID: 1, Name: "Support"}, {ID: 2, Name: "Sales"}},
		Agents:      []*parley.Agent{root, testserver.Agent("alice", "Alice", 1)},
		Password:    agentPassword,
		API:         httpapi.Options{PingInterval: time.Minute},
		Web:         func(ts *testserver.Server) web.Options { return web.Options{DataDir: ts.Dir} },
		Integration: &webhook.Options{Retry: 50 * time.Millisecond, MaxRetry: 200 * time.Millisecond, Poll: 20 * time.Millisecond},
	})
	recv := &signedReceiver{}
	hookSrv := httptest.NewServer(recv)
	t.Cleanup(hookSrv.Close)

	admin := newTab(t)
	act(t, admin, chromedp.EmulateViewport(1280, 860), chromedp.Navigate(ts.URL+"/admin/"), chromedp.WaitVisible("#f-login"),
		chromedp.SendKeys("#f-login", "root"), chromedp.SendKeys("#f-password", agentPassword), chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#nav-integrations"))
	act(t, admin, chromedp.Click("#nav-integrations"), chromedp.WaitVisible("#key-form"))
	wWaitJS(t, admin, "the groups for bots", `document.querySelectorAll("#bots-list li").length === 2`)

	// An API key: the name is required; the key is shown once and works.
	act(t, admin, chromedp.Click("#key-create"))
	wWaitJS(t, admin, "the name's error", `document.querySelector("#f-name-err")?.textContent.startsWith("Give the key a name")`)
	act(t, admin, chromedp.SendKeys("#f-name", "Order workflow"), chromedp.Click("#key-create"))
	wWaitJS(t, admin, "the new key", `document.querySelector("#new-key-value")?.value.startsWith("pk_")`)
	key := eval[string](t, admin, `document.querySelector("#new-key-value").value`)
	if got := keyStatus(t, ts, key); got != http.StatusOK {
		t.Fatalf("a request with the key shown = %d; want 200", got)
	}
	wWaitJS(t, admin, "the key listed with its prefix", fmt.Sprintf(`document.querySelector('#keys-table tr[data-key="Order workflow"] .mono')?.textContent === %q`, key[:9]+"…"))

	// Revoking asks first; the key is refused afterwards.
	act(t, admin, chromedp.Click(`#keys-table tr[data-key="Order workflow"] .key-revoke`), chromedp.WaitVisible("#key-revoke-confirm"))
	if got := keyStatus(t, ts, key); got != http.StatusOK {
		t.Fatalf("the key before the confirmation = %d; want 200", got)
	}
	act(t, admin, chromedp.Click("#key-revoke-yes"))
	wWaitJS(t, admin, "the key marked revoked", `document.querySelector('#keys-table tr[data-key="Order workflow"]')?.textContent.includes("revoked")`)
	wWaitJS(t, admin, "the shown key gone with it", `!document.querySelector("#new-key")`)
	if got := keyStatus(t, ts, key); got != http.StatusUnauthorized {
		t.Fatalf("a request with the revoked key = %d; want 401", got)
	}
	// A second key stays shown for the picture.
	act(t, admin, chromedp.SendKeys("#f-name", "CRM sync"), chromedp.Click("#key-create"))
	wWaitJS(t, admin, "the second key", `document.querySelector("#new-key-value")?.value.startsWith("pk_") && document.querySelectorAll("#keys-table tbody tr").length === 2`)

	// A webhook: the address is checked; the secret is shown once.
	act(t, admin, chromedp.SendKeys("#f-url", "ftp://crm.example.com/parley"), chromedp.Click("#hook-create"))
	wWaitJS(t, admin, "the address's error", `document.querySelector("#f-url-err")?.textContent === "An http or https address."`)
	act(t, admin, setValue("#f-url", hookSrv.URL+"/parley"), chromedp.Click(`#hook-form input[data-event="requested"]`),
		chromedp.Click(`#hook-form input[data-event="ended"]`))
	wWaitJS(t, admin, "the form rendered", rendered)
	act(t, admin, chromedp.Click("#hook-create"))
	wWaitJS(t, admin, "the signing secret", `document.querySelector("#new-secret-value")?.value.startsWith("whsec_")`)
	recv.mu.Lock()
	recv.secret = eval[string](t, admin, `document.querySelector("#new-secret-value").value`)
	recv.mu.Unlock()
	wWaitJS(t, admin, "the webhook listed with its events", fmt.Sprintf(`document.querySelector('#hooks-list li[data-hook=%q]')?.textContent.includes("requested, ended")`, hookSrv.URL+"/parley"))
	hooks, err := ts.Webhooks.List(t.Context(), parley.DefaultTenantID)
	if err != nil || len(hooks) != 1 || len(hooks[0].Events) != 2 {
		t.Fatalf("stored webhooks: %+v %v", hooks, err)
	}

	// A visitor asks for a chat: the receiver gets "requested", signed
	// with the secret shown, and the deliveries view lists it delivered.
	ts.Presence(ts.Login("alice"), "available", "ready")
	var started httpapi.ChatStartedBody
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera", "message": "Hello"}, &started)
	deadline := time.Now().Add(20 * time.Second)
	for !recv.got(webhook.EventRequested) {
		if time.Now().After(deadline) {
			recv.mu.Lock()
			t.Fatalf("no signed delivery of requested; refused: %v", recv.bad)
		}
		time.Sleep(20 * time.Millisecond)
	}
	act(t, admin, chromedp.Click("#hooks-list .hook-deliveries"), chromedp.WaitVisible("#deliveries-refresh"))
	wWaitJS(t, admin, "the delivery listed as delivered", `(() => {
  if (document.querySelector('.dlist li[data-event="requested"][data-status="delivered"]')) return true;
  const b = document.querySelector("#deliveries-refresh"); if (b && !b.disabled) b.click(); return false; })()`)
	wWaitJS(t, admin, "one attempt", `document.querySelector('.dlist li[data-event="requested"] .dstate').textContent.includes("1 attempt, HTTP 204")`)
	recv.mu.Lock()
	if len(recv.bad) > 0 || len(recv.events) != 1 {
		t.Errorf("receiver: events %v, refused %v; want requested only, signed", recv.events, recv.bad)
	}
	recv.mu.Unlock()

	// Bot first: the API refuses a name with a control character, next
	// to the field; then Support gets its bot.
	act(t, admin, setValue("#f-bot-1", "Help\u0007er"))
	wWaitJS(t, admin, "the form rendered", rendered)
	act(t, admin, chromedp.Click(`#bots-list li[data-group="Support"] .bot-set`))
	wWaitJS(t, admin, "the API's error next to the bot name", `document.querySelector("#f-bot-1-err")?.textContent.startsWith("bot name")`)
	act(t, admin, setValue("#f-bot-1", "Helper"))
	wWaitJS(t, admin, "the form rendered", rendered)
	act(t, admin, chromedp.Click(`#bots-list li[data-group="Support"] .bot-set`))
	wWaitJS(t, admin, "Support bot first", `document.querySelector("#bot-state-1")?.textContent === "Bot first: Helper"`)
	if name, err := ts.Store.GroupBot(t.Context(), 1); err != nil || name != "Helper" {
		t.Fatalf("Support's bot: %q %v; want Helper", name, err)
	}
	act(t, admin, chromedp.Evaluate[chromedp.Void](`scrollTo(0, 0)`))
	adminShot(t, admin, "integrations")

	// Clear ends bot first.
	act(t, admin, chromedp.Click(`#bots-list li[data-group="Support"] .bot-clear`))
	wWaitJS(t, admin, "Support straight to the agents", `document.querySelector("#bot-state-1")?.textContent === "Straight to the agents"`)
	if name, err := ts.Store.GroupBot(t.Context(), 1); err != nil || name != "" {
		t.Fatalf("Support's bot after Clear: %q %v; want none", name, err)
	}

	// Deleting the webhook asks first.
	act(t, admin, chromedp.Click("#hooks-list .hook-delete"), chromedp.WaitVisible("#hook-delete-confirm"))
	if hooks, _ := ts.Webhooks.List(t.Context(), parley.DefaultTenantID); len(hooks) != 1 {
		t.Fatalf("webhooks before the confirmation: %d; want 1", len(hooks))
	}
	act(t, admin, chromedp.Click("#hook-delete-yes"))
	wWaitJS(t, admin, "the webhook gone", `!document.querySelector("#hooks-list") && !document.querySelector("#new-secret")`)
	if hooks, err := ts.Webhooks.List(t.Context(), parley.DefaultTenantID); err != nil || len(hooks) != 0 {
		t.Fatalf("webhooks after deleting: %+v %v", hooks, err)
	}
}
