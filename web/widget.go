package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parleychat/parley"
)

// The embeddable widget: a small loader at a stable URL (/widget.js) that
// host pages include with one script tag, the chat app it opens in an
// iframe from Parley's origin (/widget/app), and the layered widget
// configuration with its string bundle (/widget/config).

// loaderMaxAge is the cache lifetime of /widget.js. The loader's URL
// never changes, so it must be short enough for releases to reach pages.
const loaderMaxAge = 300

// widget serves the widget's routes.
type widget struct {
	opt    Options
	log    *slog.Logger
	loader *asset
	app    *page // rendered without CSP; ServeHTTP adds the framing policy
	portal *page // the contact portal and the business card
	appCSP string
	i18n   *bundles

	// triggers is the proactive triggers module (widgettriggers.go).
	triggers *asset
}

// newWidget prepares the widget's routes from the embedded assets.
func newWidget(opt Options, set *assetSet, log *slog.Logger) (*widget, error) {
	loader, ok := hostScript(set, "widget/loader.js")
	triggers, ok2 := hostScript(set, "widget/triggers.js")
	if !ok || !ok2 {
		return nil, fmt.Errorf("no widget/loader.js or widget/triggers.js")
	}
	t, err := template.New("").Funcs(template.FuncMap{"asset": set.URL}).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "widget.html", nil); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(buf.Bytes())
	var pbuf bytes.Buffer
	if err := t.ExecuteTemplate(&pbuf, "portal.html", nil); err != nil {
		return nil, err
	}
	psum := sha256.Sum256(pbuf.Bytes())
	b, err := loadBundles(opt.DataDir)
	if err != nil {
		return nil, err
	}
	return &widget{
		opt:    opt,
		log:    log,
		loader: loader,
		app:    &page{body: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`},
		portal: &page{body: pbuf.Bytes(), etag: `"` + hex.EncodeToString(psum[:8]) + `"`},
		appCSP: appCSP(opt.AllowedOrigins),
		i18n:   b,

		triggers: triggers,
	}, nil
}

// appCSP is the chat app's policy: the pages' own, framed by the allowed
// origins, with images (the configured logo) also from HTTPS sites.
func appCSP(origins []string) string {
	csp := strings.Replace(pageCSP, "frame-ancestors 'none'", "frame-ancestors "+frameAncestors(origins), 1)
	return strings.Replace(csp, "img-src 'self' data: blob:", "img-src 'self' data: blob: https:", 1)
}

// frameAncestors is the CSP source list of the pages that may frame the
// chat app: Parley itself and the allowed origins.
func frameAncestors(origins []string) string {
	list := []string{"'self'"}
	for _, o := range origins {
		if o == "*" {
			return "*"
		}
		// Origins come from the configuration; anything that could end the
		// directive is dropped rather than trusted.
		if u, err := url.Parse(o); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
			!strings.ContainsAny(o, " ;,'\"") {
			list = append(list, u.Scheme+"://"+u.Host)
		}
	}
	return strings.Join(list, " ")
}

func (wd *widget) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /widget.js", wd.serveLoader)
	mux.HandleFunc("GET /widget/triggers.js", wd.serveTriggers)
	mux.HandleFunc("GET /widget/app", wd.serveApp)
	mux.HandleFunc("GET /widget/config", wd.serveConfig)
	mux.Handle("GET /contact", wd.portal)
	mux.Handle("GET /card/{id}", wd.portal)
}

// serveLoader answers /widget.js.
func (wd *widget) serveLoader(w http.ResponseWriter, r *http.Request) {
	writeHostScript(w, r, wd.loader)
}

// writeHostScript answers a script that host pages of any site include
// at a stable URL: public, CORS-readable, cached briefly so a release
// reaches every site soon.
func writeHostScript(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(loaderMaxAge))
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	a.write(w, r)
}

// serveApp answers the chat app page that the loader frames.
func (wd *widget) serveApp(w http.ResponseWriter, r *http.Request) {
	wd.app.serve(w, r, wd.appCSP)
}

// serveConfig answers GET /widget/config with the merged configuration
// and the string bundle of its language. Query parameters:
//
//	tenant  the tenant ID (default tenant when absent)
//	file    JSON object: the host's config.json (from configurl)
//	attrs   JSON object: the element's HTML attributes
//	params  JSON object: the page URL's parley-* GET parameters
//	lang    the browser's preferred language, used when no layer sets one
func (wd *widget) serveConfig(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	q := r.URL.Query()
	layers := [3]map[string]any{}
	for i, name := range []string{"file", "attrs", "params"} {
		raw := q.Get(name)
		if raw == "" {
			continue
		}
		if err := json.Unmarshal([]byte(raw), &layers[i]); err != nil {
			writeWidgetError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("%s must be a JSON object", name))
			return
		}
	}
	tenant := int64(0)
	if t := q.Get("tenant"); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			writeWidgetError(w, http.StatusBadRequest, "invalid", "tenant must be an integer")
			return
		}
		tenant = n
	}
	server, err := serverWidgetConfig(wd.opt.DataDir, tenant)
	if err != nil {
		writeWidgetError(w, http.StatusInternalServerError, "internal", "the widget configuration file cannot be read")
		wd.log.Error("widget config", "err", err)
		return
	}
	var texts map[string]string
	if wd.opt.WidgetAppearance != nil {
		wa, err := wd.opt.WidgetAppearance(r.Context(), tenant)
		if err != nil {
			writeWidgetError(w, http.StatusInternalServerError, "internal", "the widget's appearance cannot be read")
			wd.log.Error("widget appearance", "err", err)
			return
		}
		server = withAppearance(server, wa)
		texts = wa.Texts
	}
	cfg, problems := resolveWidgetConfig(server, layers[0], layers[1], layers[2])
	lang := cfg.str("lang")
	if lang == "" {
		lang = q.Get("lang")
	}
	bundle, resolved := wd.i18n.lookup(lang)
	for k, v := range texts {
		if _, known := bundle[k]; known {
			bundle[k] = v
		}
	}
	resp := map[string]any{"config": cfg, "lang": resolved, "strings": bundle}
	if len(problems) > 0 {
		resp["problems"] = problems
	}
	if wd.opt.GroupStatus != nil {
		if g := cfg.str("group"); g != "" {
			ctx, cancel := context.WithTimeout(r.Context(), widgetStatusTimeout)
			st, err := wd.opt.GroupStatus(ctx, cfg.int("tenant"), g)
			cancel()
			if err == nil {
				resp["status"] = st
			}
		}
	}
	wd.addTriggers(r.Context(), resp, cfg.int("tenant"))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func writeWidgetError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// serverWidgetConfig reads config.json from <data>/widget/ or, for a
// tenant other than the default, <data>/widget/tenant-<id>/ when that
// exists. A missing file is an empty layer.
func serverWidgetConfig(dataDir string, tenant int64) (map[string]any, error) {
	if dataDir == "" {
		return nil, nil
	}
	paths := []string{filepath.Join(dataDir, "widget", "config.json")}
	if tenant > 0 {
		paths = append([]string{filepath.Join(dataDir, "widget", fmt.Sprintf("tenant-%d", tenant), "config.json")}, paths...)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return m, nil
	}
	return nil, nil
}

// serve writes the page with the given Content-Security-Policy.
func (p *page) serve(w http.ResponseWriter, r *http.Request, csp string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", p.etag)
	if etagMatch(r.Header.Get("If-None-Match"), p.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(p.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.body)
	}
}

// withAppearance returns the server layer with the tenant's appearance
// from the admin console over the file's values.
func withAppearance(server map[string]any, wa *parley.WidgetAppearance) map[string]any {
	out := make(map[string]any, len(server)+8)
	for k, v := range server {
		out[k] = v
	}
	for k, v := range map[string]string{
		"title": wa.Title, "logo": wa.Logo, "position": wa.Position,
		"headerBackground": wa.HeaderBackground, "headerText": wa.HeaderText, "highlight": wa.Highlight,
		"onlineColor": wa.OnlineColor, "offlineColor": wa.OfflineColor,
	} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}
