package web

import "net/http"

// consolePage is the template of the agent console.
const consolePage = "console.html"

// mountConsole serves the agent console, a single page at /agent/ that
// also holds the supervisor view, the archive and canned-response
// management (chosen by the URL fragment). It is part of the product, so
// it is served with and without demo mode.
func mountConsole(mux *http.ServeMux, pages map[string]*page) {
	mux.Handle("GET /agent/{$}", pages[consolePage])
	mux.Handle("GET /agent", http.RedirectHandler("/agent/", http.StatusMovedPermanently))
}
