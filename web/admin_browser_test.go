package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/browsertest"
)

// steppedClock is the service's clock set to chosen instants: it runs
// with the wall clock from wherever it was last set. Timers are real.
type steppedClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *steppedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *steppedClock) AfterFunc(d time.Duration, f func()) conversation.Timer {
	return time.AfterFunc(d, f)
}

// set makes it now at.
func (c *steppedClock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = time.Until(at)
}

// setValue sets a form control's value as typing would, for controls
// whose keyboard entry differs by platform (dates, prefilled inputs).
func setValue(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector(%s);
  const set = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), "value").set; set.call(el, %s);
  el.dispatchEvent(new Event("input", { bubbles: true })); el.dispatchEvent(new Event("change", { bubbles: true })); })()`, strconvQuote(sel), strconvQuote(value)))
}

// adminShot writes the page at desktop and phone width to docs/img when
// PARLEY_SCREENSHOTS is set, and checks the contrast of both.
func adminShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	browsertest.CheckContrast(t, ctx, "admin "+name)
	if os.Getenv("PARLEY_SCREENSHOTS") == "" {
		return
	}
	for _, v := range []struct {
		suffix string
		w, h   int64
	}{{"", 1280, 860}, {"-phone", 390, 844}} {
		// Toasts of earlier steps would cover the page.
		act(t, ctx, chromedp.EmulateViewport(v.w, v.h), chromedp.Evaluate[chromedp.Void](`document.querySelector(".toasts")?.style.setProperty("visibility", "hidden")`))
		time.Sleep(300 * time.Millisecond) // layout and fonts settle; a picture, not an assertion
		img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if v.suffix == "-phone" {
			browsertest.CheckContrast(t, ctx, "admin "+name+" at phone width")
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "img", "admin-"+name+v.suffix+".png"), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	act(t, ctx, chromedp.EmulateViewport(1280, 860), chromedp.Evaluate[chromedp.Void](`document.querySelector(".toasts")?.style.removeProperty("visibility")`))
}

// photoFile writes a small PNG portrait for the upload.
func photoFile(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 96))
	for y := range 96 {
		for x := range 96 {
			c := color.RGBA{R: 15, G: 118, B: 110, A: 255}
			if (x-48)*(x-48)+(y-40)*(y-40) < 22*22 || (x-48)*(x-48)+(y-110)*(y-110) < 46*46 {
				c = color.RGBA{R: 250, G: 224, B: 196, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "carol.png")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// nextMonday returns the coming Monday at hh:00 in loc.
func nextMonday(loc *time.Location, hh int) time.Time {
	d := time.Now().In(loc).AddDate(0, 0, 1)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), hh, 0, 0, 0, loc)
}

// TestAdminConsoleFlow is the admin console end to end in Chromium: the
// superadmin creates tenant Acme with its first admin; that admin signs
// in with the one-time link and sets up a group with business hours (a
// week grid in Europe/Berlin) and a holiday, invites an agent with a
// photo, adds canned responses and changes the widget's colours with a
// live preview of the real widget. Then, on a stepped clock, a visitor
// outside the hours gets the offline form, inside the hours reaches the
// new agent, whose photo shows in the console, the widget, the contact
// portal and the business card, and on the holiday the group is closed
// again. The widget shows the new colours. Every page is checked for
// contrast; with PARLEY_SCREENSHOTS=1 each is saved to docs/img at
// desktop and phone width.
func TestAdminConsoleFlow(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	monday := nextMonday(berlin, 7) // before the hours
	holiday := monday.AddDate(0, 0, 1).Format(time.DateOnly)
	clock := &steppedClock{}
	clock.set(monday)
	s := newStackOpts(t, conversation.Config{Clock: clock}, false)
	root := &parley.Agent{TenantID: parley.DefaultTenantID, Login: "root", DisplayName: "Rita Root", Role: parley.RoleAdmin,
		Capacity: 3, Presence: parley.PresenceOffline, Status: parley.StatusNotReady, Groups: []parley.Membership{}}
	if err := s.svc.Seed(t.Context(), nil, []*parley.Agent{root}, agentPassword); err != nil {
		t.Fatal(err)
	}

	admin := newTab(t)
	act(t, admin, chromedp.EmulateViewport(1280, 860))

	// The superadmin signs in and creates the tenant with its first admin.
	act(t, admin, chromedp.Navigate(s.parley+"/admin/"), chromedp.WaitVisible("#f-login"))
	act(t, admin, chromedp.Click("#login-submit"))
	wWaitJS(t, admin, "the login's own error", `document.querySelector("#f-login-err")?.textContent === "Enter your login."`)
	adminShot(t, admin, "login")
	act(t, admin, chromedp.SendKeys("#f-login", "root"), chromedp.SendKeys("#f-password", agentPassword), chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#nav-tenants"))
	act(t, admin, chromedp.Click("#nav-tenants"), chromedp.WaitVisible("#tenant-form"))
	act(t, admin, chromedp.SendKeys("#f-name", "Acme Outdoor"), chromedp.SendKeys("#f-admin-login", "ada admin"), chromedp.Click("#tenant-create"))
	wWaitJS(t, admin, "the login rule next to the field", `document.querySelector("#f-admin-login-err")?.textContent.startsWith("1 to 100 letters")`)
	act(t, admin, setValue("#f-admin-login", "ada"), chromedp.SendKeys("#f-admin-display_name", "Ada Admin"), chromedp.Click("#tenant-create"))
	wWaitJS(t, admin, "the first admin's link", `document.querySelector("#onetime-link")?.value.includes("#invite/")`)
	adaLink := eval[string](t, admin, `document.querySelector("#onetime-link").value`)
	tenant := s.tenantNamed("Acme Outdoor")
	adminShot(t, admin, "tenants")

	// Ada follows the link, chooses a password and is signed in.
	act(t, admin, chromedp.Navigate(adaLink), chromedp.WaitVisible("#invite-form"))
	act(t, admin, chromedp.SendKeys("#f-password", "acme-admin-password"), chromedp.SendKeys("#f-again", "acme-admin-password"),
		chromedp.Click("#invite-submit"), chromedp.WaitVisible("#invite-done"))
	act(t, admin, chromedp.Navigate(fmt.Sprintf("%s/admin/?tenant=%d#groups", s.parley, tenant)), chromedp.WaitVisible("#group-new"))
	wWaitJS(t, admin, "Ada's tenant at the top", `document.querySelector(".adm-tenant b")?.textContent === "Acme Outdoor"`)
	if eval[bool](t, admin, `!!document.querySelector("#nav-tenants")`) {
		t.Error("a tenant's admin sees the tenants page")
	}

	// A group with business hours, a holiday and its settings. The form
	// checks the sender itself and shows the server's time zone error.
	act(t, admin, chromedp.Click("#group-new"), chromedp.WaitVisible("#group-form"))
	act(t, admin, chromedp.SendKeys("#f-name", "Support"), setValue("#f-routing-time_zone", "Mars/Olympus"),
		chromedp.Click("#hours-weekdays"),
		setValue("#f-transcript-sender", "not an address"), chromedp.Click("#group-save"))
	wWaitJS(t, admin, "the sender's error", `document.querySelector("#f-transcript-sender-err")?.textContent === "Not an email address."`)
	wWaitJS(t, admin, "focus on the bad field", `document.activeElement?.id === "f-transcript-sender"`)
	act(t, admin, setValue("#f-transcript-sender", "help@acme.test"), chromedp.Click("#group-save"))
	wWaitJS(t, admin, "the server's time zone error next to the field", `document.querySelector("#f-routing-time_zone-err")?.textContent === 'unknown time zone "Mars/Olympus"'`)
	act(t, admin, setValue("#f-routing-time_zone", "Europe/Berlin"))
	// Saturday 10–12 by keyboard on the week grid: the focus starts on
	// Monday 09:00; down five rows to Saturday, then Space, right, Space.
	act(t, admin, chromedp.Focus(`.wg-cell[tabindex="0"]`))
	for _, k := range []string{kb.ArrowDown, kb.ArrowDown, kb.ArrowDown, kb.ArrowDown, kb.ArrowDown, kb.ArrowRight, " ", kb.ArrowRight, " "} {
		act(t, admin, chromedp.KeyEvent(k))
	}
	wWaitJS(t, admin, "Saturday 10–12 on the grid", `document.querySelector('.wg-row[data-day="sat"] .wg-sum')?.textContent === "10:00–12:00"`)
	act(t, admin, setValue("#holiday-date", holiday), chromedp.Click("#holiday-add"),
		setValue("#f-closed_message", "We are closed right now."), setValue("#f-transcript-offline_to", "inbox@acme.test"),
		setValue("#f-transcript-subject", "Your chat with $ServiceGroup$, $Customer$"))
	wWaitJS(t, admin, "the live transcript preview", `document.querySelector("#mail-subject")?.textContent === "Your chat with Support, Vera Example"`)
	act(t, admin, chromedp.Click("#group-save"))
	wWaitJS(t, admin, "the saved group", `/^#groups\/\d+$/.test(location.hash)`)
	groups, err := s.svc.AdminGroups(t.Context(), s.actorOf("ada", tenant), 0)
	if err != nil || len(groups) != 1 {
		t.Fatalf("Acme's groups: %v %v", groups, err)
	}
	g := groups[0]
	if r := g.Routing; r.TimeZone != "Europe/Berlin" || len(r.Hours) != 6 || len(r.Holidays) != 1 || r.Holidays[0] != holiday || g.Transcript.OfflineTo != "inbox@acme.test" {
		t.Fatalf("stored group %+v", g)
	}
	act(t, admin, chromedp.Evaluate[chromedp.Void](`scrollTo(0, 0)`))
	adminShot(t, admin, "group")
	act(t, admin, chromedp.Click(`#group-editor a[href="#groups"]`), chromedp.WaitVisible(`#groups-list [data-group="Support"]`))
	adminShot(t, admin, "groups")

	// An agent: invited with a link, in Support, with a photo.
	act(t, admin, chromedp.Click("#nav-agents"), chromedp.WaitVisible("#agent-new"), chromedp.Click("#agent-new"), chromedp.WaitVisible("#agent-form"))
	act(t, admin, chromedp.SendKeys("#f-login", "carol"), chromedp.SendKeys("#f-display_name", "Carol Chen"), chromedp.SendKeys("#f-chat_name", "Carol"),
		chromedp.SendKeys("#f-email", "carol@acme.test"), chromedp.Click(`input[data-group="Support"]`), setValue("#f-capacity", "60"), chromedp.Click("#agent-save"))
	wWaitJS(t, admin, "the capacity rule", `document.querySelector("#f-capacity-err")?.textContent === "Between 1 and 50 chats."`)
	act(t, admin, setValue("#f-capacity", "2"), chromedp.Click("#agent-save"))
	wWaitJS(t, admin, "Carol's link", `document.querySelector("#onetime-link")?.value.includes("#invite/")`)
	carolLink := eval[string](t, admin, `document.querySelector("#onetime-link").value`)
	act(t, admin, chromedp.SetUploadFiles("#photo-file", []string{photoFile(t)}))
	wWaitJS(t, admin, "the photo", `document.querySelector(".photo-card img.face")?.getAttribute("src")?.includes("/photo?v=")`)
	photo := eval[string](t, admin, `document.querySelector(".photo-card img.face").getAttribute("src")`)
	adminShot(t, admin, "agent")
	act(t, admin, chromedp.Click(`a[href="#agents"]`), chromedp.WaitVisible(`#agents-list [data-agent="carol"] img.face`))
	adminShot(t, admin, "agents")

	// Canned responses.
	act(t, admin, chromedp.Click("#nav-canned"), chromedp.WaitVisible("#canned-new"))
	for _, c := range [][3]string{{"Greeting", "hi", "Hello {visitor.name}, I am {agent.name}. How can I help?"}, {"Shipping times", "ship", "Orders leave our warehouse within one working day."}} {
		act(t, admin, chromedp.Click("#canned-new"), chromedp.WaitVisible("#canned-form"),
			chromedp.SendKeys("#f-title", c[0]), chromedp.SendKeys("#f-shortcut", c[1]), chromedp.SendKeys("#f-text", c[2]), chromedp.Click("#canned-save"))
		wWaitJS(t, admin, "the response "+c[0], fmt.Sprintf(`[...document.querySelectorAll("#canned-table td")].some((td) => td.textContent === %q)`, c[0]))
	}
	act(t, admin, chromedp.Click("#canned-new"), chromedp.WaitVisible("#canned-form"), chromedp.SendKeys("#f-title", "Again"),
		chromedp.SendKeys("#f-shortcut", "hi"), chromedp.SendKeys("#f-text", "x"), chromedp.Click("#canned-save"))
	wWaitJS(t, admin, "the taken shortcut next to the field", `document.querySelector("#f-shortcut-err")?.textContent === "shortcut /hi is used by another response"`)
	act(t, admin, chromedp.Click("#canned-form button.btn:not(.btn-primary)"))
	adminShot(t, admin, "canned")

	// The widget's colours, with the real widget as the preview.
	act(t, admin, chromedp.Click("#nav-widget"), chromedp.WaitVisible("#widget-form"))
	wWaitJS(t, admin, "the preview", `!!document.querySelector("#widget-preview")`)
	act(t, admin, setValue("#f-header_background", "#0f766e"), setValue("#f-highlight", "#b45309"), setValue("#f-title", "Acme help"))
	wWaitJS(t, admin, "the unsaved colours in the preview", `(() => { try { const d = document.querySelector("#widget-preview")?.contentDocument;
  return d?.documentElement?.style.getPropertyValue("--head-bg") === "#0f766e" && d.querySelector("#chat-title")?.textContent === "Acme help"; } catch { return false; } })()`)
	act(t, admin, setValue("#f-header_text", "white"), chromedp.Click("#widget-save"))
	wWaitJS(t, admin, "the colour rule", `document.querySelector("#f-header_text-err")?.textContent === "A hex colour such as #4f46e5."`)
	act(t, admin, setValue("#f-header_text", "#ffffff"), chromedp.Click("#widget-save"))
	wWaitJS(t, admin, "saved", `[...document.querySelectorAll(".toast")].some((t) => t.textContent.startsWith("Widget saved"))`)
	adminShot(t, admin, "widget")

	act(t, admin, chromedp.Click("#nav-triggers"), chromedp.WaitVisible("#trigger-new"), chromedp.Click("#trigger-new"), chromedp.WaitVisible("#trigger-form"),
		chromedp.SendKeys("#f-name", "Pricing help"), chromedp.SendKeys("#f-url_pattern", "/pricing"), chromedp.SendKeys("#f-message", "Questions about our prices? Ask us."),
		chromedp.Click("#trigger-form .btn-primary"))
	wWaitJS(t, admin, "the trigger", `document.querySelector("#triggers-table tbody tr b")?.textContent === "Pricing help"`)
	adminShot(t, admin, "triggers")

	act(t, admin, chromedp.Click("#nav-audit"), chromedp.WaitVisible("#audit-list li"))
	want := []string{"trigger.create", "widget.update", "canned.create", "agent.photo", "agent.invite", "agent.create", "group.create", "agent.password_set", "agent.invite", "agent.create", "tenant.create"}
	wWaitJS(t, admin, "the audit log", fmt.Sprintf(`[...document.querySelectorAll("#audit-list li")].map((li) => li.dataset.action).filter((a, i, l) => a !== l[i-1]).join(" ") === %q`, strings.Join(want, " ")))
	adminShot(t, admin, "audit")
	act(t, admin, setValue("#audit-kind", "agent"))
	wWaitJS(t, admin, "the agent filter", `[...document.querySelectorAll("#audit-list li")].every((li) => li.dataset.action.startsWith("agent.")) && document.querySelectorAll("#audit-list li").length === 6`)

	// Carol chooses her password with the link and lands in the console,
	// her photo at the top.
	agentTab := newTabIn(t, admin)
	act(t, agentTab, chromedp.EmulateViewport(1280, 860), chromedp.Navigate(carolLink), chromedp.WaitVisible("#invite-form"),
		chromedp.SendKeys("#f-password", "carols-password-1"), chromedp.SendKeys("#f-again", "carols-password-1"), chromedp.Click("#invite-submit"),
		chromedp.WaitVisible("#to-console"), chromedp.Click("#to-console"), chromedp.WaitVisible("#status-button"))
	wWaitJS(t, agentTab, "Carol's photo in the console", fmt.Sprintf(`document.querySelector(".me img.avatar")?.getAttribute("src") === %q`, photo))
	act(t, agentTab, chromedp.Click("#go-ready"))
	wWaitJS(t, agentTab, "Carol ready", `document.querySelector("#status-label").textContent === "Ready"`)

	// Monday 07:00 in Berlin: Carol is ready, but the group is closed.
	s.page("/acme", hostPage(fmt.Sprintf(`tenant="%d" group="%d"`, tenant, g.ID)))
	early := newTabIn(t, admin)
	app := openWidget(t, s, early, "/acme", 1280, 860)
	wWaitJS(t, app, "the offline form before the hours", `!document.querySelector("#offline").hidden && document.querySelector("#start").hidden`)
	if c := eval[string](t, early, `getComputedStyle(document.querySelector("parley-widget").shadowRoot.querySelector("button")).backgroundColor`); c != "rgb(15, 118, 110)" {
		t.Errorf("the launcher is %s; want the new header colour", c)
	}
	if c := eval[string](t, app, `getComputedStyle(document.querySelector("#head")).backgroundColor + " " + document.querySelector("#chat-title").textContent`); c != "rgb(15, 118, 110) Acme help" {
		t.Errorf("the widget's header: %s", c)
	}

	// 10:00: open; the visitor reaches Carol.
	clock.set(monday.Add(3 * time.Hour))
	visitorTab := newTabIn(t, admin)
	app = openWidget(t, s, visitorTab, "/acme", 1280, 860)
	act(t, app, chromedp.WaitVisible("#start"), chromedp.SendKeys("#name", "Vera Lindqvist"), chromedp.SendKeys("#question", "Do you ship tents to Norway?"),
		chromedp.Click("#start-button"), chromedp.WaitVisible("#log"))
	wWaitJS(t, agentTab, "the offer at Carol's", `!!document.querySelector(".offer .accept")`)
	act(t, agentTab, chromedp.Click(".offer .accept"))
	wWaitJS(t, app, "Carol's photo in the widget", fmt.Sprintf(`document.querySelector("#avatar img")?.getAttribute("src") === %q`, photo))

	// The contact portal and Carol's card show the photo.
	portal := newTabIn(t, admin)
	carol := s.publicAgentIn(tenant, "Carol")
	act(t, portal, chromedp.Navigate(fmt.Sprintf("%s/contact?tenant=%d&groups=%d", s.parley, tenant, g.ID)))
	wWaitJS(t, portal, "the photo on the portal", fmt.Sprintf(`document.querySelector('#agents .agent[data-agent="%d"] .face img')?.getAttribute("src") === %q`, carol, photo))
	act(t, portal, chromedp.Navigate(fmt.Sprintf("%s/card/%d?tenant=%d", s.parley, carol, tenant)))
	wWaitJS(t, portal, "the photo on the card", fmt.Sprintf(`document.querySelector("#agents .face img")?.getAttribute("src") === %q`, photo))
	wWaitJS(t, portal, "the photo loaded", `document.querySelector("#agents .face img").naturalWidth === 96`)

	// Tuesday is the holiday: closed all day.
	clock.set(monday.AddDate(0, 0, 1).Add(3 * time.Hour))
	late := newTabIn(t, admin)
	app = openWidget(t, s, late, "/acme", 1280, 860)
	wWaitJS(t, app, "the offline form on the holiday", `!document.querySelector("#offline").hidden`)
	if st := s.groupOpen(tenant, g.ID); st {
		t.Error("the group is open on its holiday")
	}
}

// tenantNamed returns the ID of the tenant called name.
func (s *stack) tenantNamed(name string) int64 {
	s.t.Helper()
	ts, err := s.store.Tenants(s.t.Context())
	if err != nil {
		s.t.Fatal(err)
	}
	for _, tn := range ts {
		if tn.Name == name {
			return tn.ID
		}
	}
	s.t.Fatalf("no tenant %q", name)
	return 0
}

// actorOf is the agent with login in tenant as the service sees it.
func (s *stack) actorOf(login string, tenant int64) conversation.Actor {
	s.t.Helper()
	a, err := s.store.AgentByLogin(s.t.Context(), tenant, login)
	if err != nil {
		s.t.Fatal(err)
	}
	return conversation.Actor{Kind: parley.PartyAgent, TenantID: tenant, Agent: a}
}

// publicAgentIn returns the ID of the tenant's agent shown as name.
func (s *stack) publicAgentIn(tenant int64, name string) int64 {
	s.t.Helper()
	list, err := s.svc.PublicAgents(s.t.Context(), tenant, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, a := range list {
		if a.Name == name {
			return a.ID
		}
	}
	s.t.Fatalf("no public agent %q in tenant %d", name, tenant)
	return 0
}

// groupOpen reports whether the service calls the group open now.
func (s *stack) groupOpen(tenant, group int64) bool {
	s.t.Helper()
	st, err := s.svc.GroupStatus(s.t.Context(), tenant, group, "")
	if err != nil {
		s.t.Fatal(err)
	}
	return st.Open
}
