// Package origin decides which web origins may use Parley's HTTP APIs:
// the allow-list check shared by the native API and the MiCC Chat service,
// and the cross-site request forgery guard for cookie-authenticated writes.
package origin

import (
	"net/http"
	"net/url"
	"strings"
)

// Allowed reports whether origin (scheme://host[:port]) is in list; "*"
// in list allows any origin.
func Allowed(list []string, origin string) bool {
	for _, o := range list {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// Protect passes to next the requests that cannot be cross-site forgeries
// and the others to deny. It is http.CrossOriginProtection (Sec-Fetch-Site,
// then Origin) plus one rule for browsers that send neither header on a
// write: a Referer of another host is treated as a foreign Origin.
func Protect(next, deny http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(deny)
	checked := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ForeignReferer(r) {
			deny.ServeHTTP(w, r)
			return
		}
		checked.ServeHTTP(w, r)
	})
}

// ForeignReferer reports whether r is a write without Origin and
// Sec-Fetch-Site whose Referer names another host than the one it was
// sent to. A request with no Referer at all (not a browser, or a page with
// a no-referrer policy) is not judged here.
func ForeignReferer(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	ref := r.Header.Get("Referer")
	if ref == "" || r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "" {
		return false
	}
	u, err := url.Parse(ref)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}
