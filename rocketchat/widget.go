package rocketchat

import (
	"net/http"
	"path"
	"path/filepath"
	"strings"
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
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeFile(w, r, filepath.Join(h.opt.WidgetDir, filepath.FromSlash(name)))
}
