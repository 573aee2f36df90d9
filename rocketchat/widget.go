package rocketchat

import (
	"encoding/json"
	"html"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"
)

// widgetPath is where Rocket.Chat serves its Livechat widget; the
// loader's RocketChat.url points at it.
const widgetPath = "/livechat"

// serveWidget serves the widget's published build from WidgetDir: the
// app page at /livechat (and /livechat/), its scripts under /livechat/.
// Only GET and HEAD of files inside the folder are answered.
func (h *Handler) serveWidget(w http.ResponseWriter, r *http.Request, p string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(p, widgetPath)
	if name == "" || name == "/" {
		name = "/index.html"
	}
	name = path.Clean(name)
	if strings.Contains(name, "..") || strings.HasSuffix(name, ".map") {
		http.NotFound(w, r)
		return
	}
	if name == "/index.html" {
		h.serveWidgetPage(w, r)
		return
	}
	http.ServeFile(w, r, filepath.Join(h.opt.WidgetDir, filepath.FromSlash(name)))
}

// serveWidgetPage serves the widget's page with the server's address set
// as window.SERVER_URL, which the widget reads to find its API, as
// Rocket.Chat's server does when it serves the page.
func (h *Handler) serveWidgetPage(w http.ResponseWriter, r *http.Request) {
	page, err := os.ReadFile(filepath.Join(h.opt.WidgetDir, "index.html"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	server, _ := json.Marshal(scheme + "://" + r.Host + h.opt.Prefix)
	tag := "<script>window.SERVER_URL=" + strings.ReplaceAll(string(server), "<", `\u003c`) + ";</script>"
	html := string(page)
	if i := strings.Index(html, "<script"); i >= 0 {
		html = html[:i] + tag + html[i:]
	} else {
		html = tag + html
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write([]byte(html))
}

// avatarPrefix is where the widget loads user pictures by username.
const avatarPrefix = "/avatar/"

// avatarColors are the backgrounds of letter avatars, picked by name.
var avatarColors = [...]string{"#1f5fa8", "#2e7d32", "#6a1b9a", "#ad1457", "#00695c", "#4e342e"}

// serveAvatar answers a user picture with the name's first letter on a
// colour of its own: Parley keeps no pictures for guests, and agents'
// photos are not tied to a username.
func serveAvatar(w http.ResponseWriter, r *http.Request, name string) {
	name = strings.TrimSpace(name)
	letter := "?"
	for _, c := range name {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			letter = strings.ToUpper(string(c))
			break
		}
	}
	sum := 0
	for _, c := range name {
		sum += int(c)
	}
	svg := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" fill="` +
		avatarColors[sum%len(avatarColors)] + `"/><text x="20" y="26" font-family="sans-serif" font-size="18" fill="#fff" text-anchor="middle">` +
		html.EscapeString(letter) + `</text></svg>`
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write([]byte(svg))
}
