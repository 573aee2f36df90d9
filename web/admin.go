package web

import "net/http"

// adminPage is the template of the admin console.
const adminPage = "admin.html"

// mountAdmin serves the admin console, a single page at /admin/ whose
// sections (tenants, groups, agents, canned responses, widget, triggers,
// directory, data protection, audit log) are chosen by the URL fragment. The one-time password links
// land here too (#invite/<token>): the fragment never reaches a server
// log.
func mountAdmin(mux *http.ServeMux, pages map[string]*page) {
	mux.Handle("GET /admin/{$}", pages[adminPage])
	mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))
}
