package web_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-ldap/ldap/v3"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/directory"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/slapdtest"
	"github.com/parleychat/parley/internal/testserver"
	"github.com/parleychat/parley/web"
)

// The directory of the data test: Vera and Marco answer chats
// (webagents, mapped onto Support).
const adminSeed = `dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: uid=vera,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: vera
cn: Vera Lynn
sn: Lynn
displayName: Vera Lynn
mail: vera@example.org
userPassword: vera-directory-pw

dn: uid=marco,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: marco
cn: Marco Polo
sn: Polo
mail: marco@example.org
userPassword: marco-directory-pw

dn: cn=webagents,dc=example,dc=org
objectClass: groupOfNames
cn: webagents
member: uid=vera,ou=people,dc=example,dc=org
member: uid=marco,ou=people,dc=example,dc=org
`

// rendered waits one frame, by which Preact has rendered what an input
// event changed, so a click that follows submits the new values.
const rendered = `new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`

// dirHolder hands the API the directory made after the server.
type dirHolder struct{ d *directory.Directory }

func (h *dirHolder) Sync(ctx context.Context) (*conversation.DirectoryReport, error) {
	return h.d.Sync(ctx)
}
func (h *dirHolder) Status() conversation.DirectoryStatus { return h.d.Status() }

// chatOf runs a whole chat of a visitor with alice and ends it.
func chatOf(t *testing.T, ts *testserver.Server, name, email, text string) string {
	t.Helper()
	agent := ts.Login("alice")
	ts.Presence(agent, "available", "ready")
	var started httpapi.ChatStartedBody
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": name, "email": email, "message": text}, &started)
	id := started.Chat.ID
	if got := ts.OfferedChat(agent); got != id {
		t.Fatalf("offered %s, want %s", got, id)
	}
	ts.Must(http.StatusOK, "POST", "/api/v1/chats/"+id+"/accept", agent, nil, nil)
	ts.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+id+"/end", agent, nil, nil)
	ts.Presence(agent, "offline", "not_ready")
	return id
}

// TestAdminDirectoryAndDataProtection walks the admin console's pages for
// the company directory and data protection in Chromium, against a real
// OpenLDAP: the mapping is shown, "Sync now" brings the directory's agents
// in (marked as such on the agents page) and disables the one who left
// the group at the next sync; a group gets its own offer timeout; the
// retention period is set and applied at once, deleting an old chat; one
// visitor is erased by email after a confirmation step, with the receipt
// shown; the audit log lists both without the erased address. Every page
// is checked for contrast; with PARLEY_SCREENSHOTS=1 each is saved.
func TestAdminDirectoryAndDataProtection(t *testing.T) {
	lsrv := slapdtest.Start(t, adminSeed)
	clock := &steppedClock{}
	clock.set(time.Now().Add(-40 * 24 * time.Hour))
	holder := &dirHolder{}
	root := testserver.Agent("root", "Rita Root")
	root.Role = parley.RoleAdmin
	ts := testserver.Start(t, testserver.Options{
		Config: conversation.Config{Clock: clock, DirectoryBind: func(ctx context.Context, dn, pw string) error {
			return holder.d.Bind(ctx, dn, pw)
		}},
		Groups:   []*parley.Group{{ID: 1, Name: "Support"}},
		Agents:   []*parley.Agent{root, testserver.Agent("alice", "Alice", 1)},
		Password: agentPassword,
		API:      httpapi.Options{Directory: holder, PingInterval: time.Minute},
		Web:      func(ts *testserver.Server) web.Options { return web.Options{DataDir: ts.Dir} },
		StoreNow: clock.Now,
	})
	groups, err := directory.ParseMappings("webagents=>Support")
	if err != nil {
		t.Fatal(err)
	}
	holder.d, err = directory.New(directory.Config{URL: lsrv.URL, TLS: &tls.Config{RootCAs: lsrv.Roots},
		BaseDN: slapdtest.Suffix, Groups: groups}, ts.Svc, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Olga chatted 40 days ago, Erika today.
	olga := chatOf(t, ts, "Olga Oldfield", "olga@example.com", "About my order from last spring")
	clock.set(time.Now())
	erika := chatOf(t, ts, "Erika Mustermann", "erika@example.com", "Please delete everything about me")

	admin := newTab(t)
	act(t, admin, chromedp.EmulateViewport(1280, 860), chromedp.Navigate(ts.URL+"/admin/"), chromedp.WaitVisible("#f-login"),
		chromedp.SendKeys("#f-login", "root"), chromedp.SendKeys("#f-password", agentPassword), chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#nav-directory"))

	// The directory: the mapping before any sync, then Sync now.
	act(t, admin, chromedp.Click("#nav-directory"), chromedp.WaitVisible("#directory-mapping"))
	wWaitJS(t, admin, "the mapping", `[...document.querySelectorAll("#directory-mapping td")].map((td) => td.textContent.trim()).join("|") === "webagents|→|Support"`)
	wWaitJS(t, admin, "StartTLS and no sync yet", `document.querySelector("#directory-connection").textContent.includes("StartTLS") &&
  document.querySelector("#sync-status").textContent.includes("No sync has finished")`)
	act(t, admin, chromedp.Click("#directory-sync"))
	wWaitJS(t, admin, "the sync's report", `document.querySelector("#sync-status").textContent.includes("Succeeded") &&
  /\b2\s*agents created/.test(document.querySelector("#sync-status .counts").textContent)`)
	wWaitJS(t, admin, "the directory's agents", `[...document.querySelectorAll("#directory-agents li")].map((li) => li.dataset.agent).sort().join() === "marco,vera"`)

	// Marco leaves the group; the next sync disables him.
	m := ldap.NewModifyRequest("cn=webagents,"+slapdtest.Suffix, nil)
	m.Delete("member", []string{"uid=marco,ou=people," + slapdtest.Suffix})
	if err := lsrv.Admin(t).Modify(m); err != nil {
		t.Fatal(err)
	}
	act(t, admin, chromedp.Click("#directory-sync"))
	wWaitJS(t, admin, "marco disabled by the sync", `document.querySelector('#directory-agents li[data-agent="marco"]')?.textContent.includes("disabled by the sync") &&
  document.querySelector("#sync-status .count-warn")?.textContent.trim().startsWith("1")`)
	if a, err := ts.Store.AgentByLogin(t.Context(), parley.DefaultTenantID, "marco"); err != nil || !a.Disabled {
		t.Fatalf("marco after the sync: %+v %v; want disabled", a, err)
	}
	adminShot(t, admin, "directory")

	// The agents page marks the directory's agents; their page says what
	// the directory owns and offers no password reset.
	act(t, admin, chromedp.Click("#nav-agents"), chromedp.WaitVisible(`#agents-list [data-agent="vera"]`))
	wWaitJS(t, admin, "the directory mark", `!!document.querySelector('#agents-list [data-agent="vera"] .pill-dir') && !document.querySelector('#agents-list [data-agent="alice"] .pill-dir')`)
	act(t, admin, chromedp.Click(`#agents-list [data-agent="vera"] a`), chromedp.WaitVisible("#agent-directory-note"))
	wWaitJS(t, admin, "no password reset for a directory agent", `document.querySelector("#act-reset").disabled`)
	adminShot(t, admin, "agent-directory")

	// Agents are disabled, not deleted: chats in the archive keep their
	// names. Disabling asks first; the list hides disabled agents unless
	// asked.
	act(t, admin, chromedp.Click("#act-disable"), chromedp.WaitVisible("#disable-confirm"), chromedp.Click("#act-disable-yes"))
	wWaitJS(t, admin, "vera disabled", `!!document.querySelector("#act-enable")`)
	act(t, admin, chromedp.Click(`a[href="#agents"]`), chromedp.WaitVisible("#show-disabled"))
	wWaitJS(t, admin, "disabled agents hidden", `!document.querySelector('#agents-list [data-agent="vera"]') && document.querySelector("label:has(#show-disabled)").textContent.includes("Show 2 disabled")`)
	act(t, admin, chromedp.Click("#show-disabled"))
	wWaitJS(t, admin, "disabled agents shown", `!!document.querySelector('#agents-list li.off[data-agent="vera"]') && !!document.querySelector('#agents-list li.off[data-agent="marco"]')`)

	// A group's own offer timeout: the form's rule, then saved.
	act(t, admin, chromedp.Click("#nav-groups"), chromedp.WaitVisible(`#groups-list [data-group="Support"]`),
		chromedp.Click(`#groups-list [data-group="Support"]`), chromedp.WaitVisible("#f-routing-offer_timeout_seconds"))
	act(t, admin, setValue("#f-routing-offer_timeout_seconds", "3"))
	wWaitJS(t, admin, "the form rendered with 3", rendered)
	act(t, admin, chromedp.Click("#group-save"))
	wWaitJS(t, admin, "the offer timeout's rule", `document.querySelector("#f-routing-offer_timeout_seconds-err")?.textContent === "Between 5 and 3600 seconds, or empty for the server's."`)
	act(t, admin, setValue("#f-routing-offer_timeout_seconds", "20"))
	wWaitJS(t, admin, "the error cleared", `!document.querySelector("#f-routing-offer_timeout_seconds-err")`)
	act(t, admin, chromedp.Click("#group-save"))
	wWaitJS(t, admin, "saved", `[...document.querySelectorAll(".toast")].some((t) => t.textContent === "Saved.")`)
	if g, err := ts.Store.Group(t.Context(), 1); err != nil || g.Routing.OfferTimeoutSeconds != 20 {
		t.Fatalf("Support after the save: %+v %v; want an offer timeout of 20 s", g, err)
	}
	// Support has chats in the archive: the server refuses its deletion
	// and the page says why.
	act(t, admin, chromedp.Click("#group-delete-ask"), chromedp.WaitVisible("#group-delete-confirm"), chromedp.Click("#group-delete-yes"))
	wWaitJS(t, admin, "the refusal", `document.querySelector("#group-delete-error")?.textContent.includes("retention period")`)

	// Data protection: the retention period, checked as the API does,
	// saved and applied now.
	act(t, admin, chromedp.Click("#nav-privacy"), chromedp.WaitVisible("#retention-form"))
	wWaitJS(t, admin, "the stored period", `document.querySelector("#f-retention_days").value === "0"`)
	act(t, admin, setValue("#f-retention_days", "40000"))
	wWaitJS(t, admin, "the form rendered with 40000", rendered)
	act(t, admin, chromedp.Click("#retention-save"))
	wWaitJS(t, admin, "the period's rule", `document.querySelector("#f-retention_days-err")?.textContent === "Whole days from 0 (keep everything) to 36500."`)
	act(t, admin, setValue("#f-retention_days", "30"))
	wWaitJS(t, admin, "the error cleared", `!document.querySelector("#f-retention_days-err")`)
	act(t, admin, chromedp.Click("#retention-save"))
	wWaitJS(t, admin, "the run-now button", `!!document.querySelector("#run-now") && !document.querySelector("#run-now").disabled`)
	act(t, admin, chromedp.Click("#run-now"), chromedp.WaitVisible("#run-confirm"), chromedp.Click("#run-yes"))
	wWaitJS(t, admin, "the run's counts", `document.querySelector('#run-result [data-count="chats"] dd')?.textContent === "1"`)
	if _, err := ts.Store.Chat(t.Context(), olga); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("Olga's chat after the retention run: %v; want not found", err)
	}

	// Erasure by email: the empty field's error, the confirmation, the
	// receipt.
	act(t, admin, chromedp.Click("#erase-review"))
	wWaitJS(t, admin, "the empty field's error", `document.querySelector("#f-email-err")?.textContent === "Enter the email address."`)
	act(t, admin, setValue("#f-email", "ERIKA@example.com"))
	wWaitJS(t, admin, "the error cleared", `!document.querySelector("#f-email-err")`)
	act(t, admin, chromedp.Click("#erase-review"), chromedp.WaitVisible("#erase-confirm"))
	if _, err := ts.Store.Chat(t.Context(), erika); err != nil {
		t.Fatalf("Erika's chat is gone before the confirmation: %v", err)
	}
	adminShot(t, admin, "privacy-confirm")
	act(t, admin, chromedp.Click("#erase-yes"))
	wWaitJS(t, admin, "the receipt", `document.querySelector('#receipt-counts [data-count="chats"] dd')?.textContent === "1" &&
  document.querySelector('#receipt-counts [data-count="visitors"] dd')?.textContent === "1"`)
	if _, err := ts.Store.Chat(t.Context(), erika); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("Erika's chat after the erasure: %v; want not found", err)
	}
	act(t, admin, chromedp.Evaluate[chromedp.Void](`scrollTo(0, 0)`))
	adminShot(t, admin, "privacy")

	// The audit log lists the run and the erasure, never the address.
	act(t, admin, chromedp.Click("#nav-audit"), chromedp.WaitVisible("#audit-list li"))
	wWaitJS(t, admin, "the data actions", `(() => { const a = [...document.querySelectorAll("#audit-list li")].map((li) => li.dataset.action);
  return a[0] === "erasure" && a[1] === "retention.run" && a[2] === "retention.set" && a.includes("group.update"); })()`)
	if text := eval[string](t, admin, `document.querySelector("#audit-list").textContent`); strings.Contains(strings.ToLower(text), "erika") {
		t.Errorf("the audit log names the erased person: %s", text)
	}
	wWaitJS(t, admin, "the erasure's counts", `document.querySelector('#audit-list li[data-action="erasure"] .detail').textContent.startsWith("email; deleted 1 visitors, 1 chats")`)
	adminShot(t, admin, "audit-data")

	// Retention and the erasure removed Support's chats: now it can go.
	act(t, admin, chromedp.Click("#nav-groups"), chromedp.WaitVisible(`#groups-list [data-group="Support"]`),
		chromedp.Click(`#groups-list [data-group="Support"]`), chromedp.WaitVisible("#group-delete-ask"),
		chromedp.Click("#group-delete-ask"), chromedp.WaitVisible("#group-delete-confirm"))
	adminShot(t, admin, "group-delete")
	act(t, admin, chromedp.Click("#group-delete-yes"))
	wWaitJS(t, admin, "the group gone", `location.hash === "#groups" && !!document.querySelector("#group-new") && !document.querySelector('#groups-list [data-group="Support"]')`)
	if _, err := ts.Store.Group(t.Context(), 1); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("Support after its deletion: %v; want not found", err)
	}

	// The superadmin deletes a tenant after typing its name.
	var temp struct {
		ID int64 `json:"id"`
	}
	ts.Must(http.StatusCreated, "POST", "/api/v1/admin/tenants", ts.Login("root"), map[string]any{"name": "Temp Co"}, &temp)
	act(t, admin, chromedp.Click("#nav-tenants"), chromedp.WaitVisible(`[data-delete="Temp Co"]`), chromedp.Click(`[data-delete="Temp Co"]`),
		chromedp.WaitVisible("#tenant-delete-confirm"))
	wWaitJS(t, admin, "no deletion before the name is typed", `document.querySelector("#tenant-delete-yes").disabled`)
	act(t, admin, chromedp.SendKeys("#td-name", "Temp Co"))
	wWaitJS(t, admin, "the deletion allowed", `!document.querySelector("#tenant-delete-yes").disabled`)
	adminShot(t, admin, "tenant-delete")
	act(t, admin, chromedp.Click("#tenant-delete-yes"))
	wWaitJS(t, admin, "the tenant gone", `!document.querySelector('#tenants-table [data-tenant="Temp Co"]') && !!document.querySelector('#tenants-table [data-tenant="Default"]')`)
	if _, err := ts.Store.Tenant(t.Context(), temp.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("Temp Co after its deletion: %v; want not found", err)
	}
}
