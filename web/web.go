// Package web serves Parley's embedded web UI: the landing page (in demo
// mode a host page that embeds the widget), the agent console, the widget
// and the drop-in addresses for Mitel and estos pages.
//
// The pages are plain HTML rendered with html/template, plain ES modules
// and CSS files; there is no build step. Every asset is served under a
// name that carries a hash of its content (/static/dom.3f9a1c0d2b4e.js)
// with an immutable cache lifetime, so a new release never meets a stale
// cache. Relative references between assets ("./api.js" in an import,
// url("./logo.svg") in a stylesheet) are rewritten to the hashed names when
// the handler is built. Pages carry a strict Content-Security-Policy: no
// inline scripts or styles, nothing from other origins.
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/parleychat/parley"
)

//go:embed static templates
var files embed.FS

// Options configure Handler.
type Options struct {
	Demo   bool         // "/" is the demo host page; otherwise a short landing page
	Logger *slog.Logger // may be nil

	// DataDir holds the widget's config.json and string overrides
	// (<data>/widget/, <data>/i18n/); "" uses the built-in ones only.
	DataDir string
	// AllowedOrigins are the host pages that may frame the widget.
	AllowedOrigins []string
	// GroupStatus reports a group's availability for the widget; nil
	// leaves it out of /widget/config.
	GroupStatus func(ctx context.Context, tenantID int64, group string) (any, error)
	// HasTriggers reports whether a tenant has enabled proactive triggers;
	// nil means none.
	HasTriggers func(ctx context.Context, tenantID int64) (bool, error)
	// WidgetAppearance returns the appearance a tenant's admins set in the
	// admin console (0: the default tenant); it overrides the server's
	// config.json. nil leaves the file alone.
	WidgetAppearance func(ctx context.Context, tenantID int64) (*parley.WidgetAppearance, error)
}

// pageCSP is the Content-Security-Policy of every HTML page.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; " +
	"base-uri 'none'; form-action 'self'"

// staticPrefix is the URL path under which the hashed assets are served.
const staticPrefix = "/static/"

// hashLen is how many hex digits of the SHA-256 go into an asset name.
const hashLen = 12

// Handler serves the embedded web UI: "/" (with Demo a host page that
// embeds the widget, else a landing page), "/agent/" (the agent console,
// console.go), "/demo/agent" (with Demo only, a redirect to the console),
// the widget (widget.go), the Mitel drop-in addresses (dropin.go) and the
// hashed assets under /static/. Other paths answer 404.
//
// The asset names, the rewritten references and the pages are computed
// once, here. Handler panics if the embedded files are inconsistent (a
// template naming a missing asset, a reference cycle); the package tests
// rule that out for every build.
func Handler(opt Options) http.Handler {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	set, err := loadAssets(static)
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	pages, err := renderPages(files, set)
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}

	mux := http.NewServeMux()
	index := pages["landing.html"]
	if opt.Demo {
		index = pages["demo.html"]
		// The demo once had an agent page of its own; the console took its place.
		mux.Handle("GET /demo/agent", http.RedirectHandler("/agent/", http.StatusMovedPermanently))
	}
	wd, err := newWidget(opt, set, log)
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	wd.register(mux)
	dr, err := newDropin(set)
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	mux.Handle("GET /{$}", index)
	mountConsole(mux, pages)
	mountAdmin(mux, pages)
	mux.HandleFunc("GET "+staticPrefix+"{path...}", set.serve)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if h := dr.route(r.URL.Path); h != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			h(w, r)
			return
		}
		notFound(w, r)
	})
	log.Debug("web UI ready", "assets", len(set.byName), "demo", opt.Demo)
	return mux
}

// asset is one embedded file as served.
type asset struct {
	source string // name in the embedded tree, "dom.js"
	name   string // hashed name, "dom.3f9a1c0d2b4e.js"
	ctype  string
	body   []byte
	gz     []byte // gzip of body; nil when it would not be smaller
	hash   string
}

// assetSet holds the assets by hashed and by source name.
type assetSet struct {
	byName   map[string]*asset // hashed name → asset
	bySource map[string]*asset // source name → asset
}

// URL returns the path of the asset named source, or an error when there
// is no such asset.
func (s *assetSet) URL(source string) (string, error) {
	a, ok := s.bySource[strings.TrimPrefix(source, "/")]
	if !ok {
		return "", fmt.Errorf("no asset named %q", source)
	}
	return staticPrefix + a.name, nil
}

// refPattern finds quoted relative references ("./api.js", '../x.svg')
// in scripts and stylesheets.
const refPattern = `["'](\.\.?/[A-Za-z0-9_./-]+)["']`

// loadAssets reads every file of fsys, rewrites the relative references
// between assets to hashed names and hashes the results.
func loadAssets(fsys fs.FS) (*assetSet, error) {
	raw := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		raw[p] = b
		return err
	})
	if err != nil {
		return nil, err
	}
	set := &assetSet{byName: map[string]*asset{}, bySource: map[string]*asset{}}
	ref := regexp.MustCompile(refPattern)
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var build func(name string, chain []string) error
	build = func(name string, chain []string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("asset reference cycle: %s", strings.Join(append(chain, name), " → "))
		}
		state[name] = visiting
		body := raw[name]
		if rewritable(name) {
			var rerr error
			body = replaceRefs(ref, body, func(target string) (string, bool) {
				full := path.Join(path.Dir(name), target)
				if _, ok := raw[full]; !ok {
					return "", false
				}
				if rerr == nil {
					rerr = build(full, append(chain, name))
				}
				if rerr != nil {
					return "", false
				}
				hashed := set.bySource[full].name
				rel := path.Join(path.Dir(target), path.Base(hashed))
				if !strings.HasPrefix(rel, ".") {
					rel = "./" + rel
				}
				return rel, true
			})
			if rerr != nil {
				return rerr
			}
		}
		if path.Ext(name) == ".js" {
			body = stripLineComments(body)
		}
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:])[:hashLen]
		a := &asset{source: name, name: hashedName(name, h), ctype: contentType(name), body: body, hash: h}
		gz, err := compress(body)
		if err != nil {
			return err
		}
		a.gz = gz
		set.byName[a.name] = a
		set.bySource[name] = a
		state[name] = done
		return nil
	}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := build(n, nil); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// stripLineComments drops the whole-line // comments of a script: every
// page and host page loads them, and the widget's size budget counts them.
// Only lines whose first non-blank characters are // go; no script holds
// a multi-line template string with such a line (TestScriptsKeepCode).
func stripLineComments(body []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(body))
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte("//")) {
			out.Write(line)
		}
	}
	return out.Bytes()
}

// rewritable reports whether references inside the file are rewritten.
func rewritable(name string) bool {
	switch path.Ext(name) {
	case ".js", ".mjs", ".css":
		return true
	}
	return false
}

// replaceRefs replaces each quoted relative reference that fn resolves,
// keeping the quotes.
func replaceRefs(re *regexp.Regexp, body []byte, fn func(target string) (string, bool)) []byte {
	var out bytes.Buffer
	last := 0
	for _, m := range re.FindAllSubmatchIndex(body, -1) {
		if body[m[0]] != body[m[1]-1] {
			continue // mismatched quotes: not one string
		}
		repl, ok := fn(string(body[m[2]:m[3]]))
		if !ok {
			continue
		}
		out.Write(body[last:m[2]])
		out.WriteString(repl)
		last = m[3]
	}
	if last == 0 {
		return body
	}
	out.Write(body[last:])
	return out.Bytes()
}

// hashedName inserts the hash before the extension: a/b.min.js → a/b.min.<hash>.js.
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".webp":
		return "image/webp"
	case ".ico":
		return "image/x-icon"
	case ".woff2":
		return "font/woff2"
	case ".json":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// compress returns the gzip of b, or nil when it saves less than a tenth.
func compress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() > len(b)*9/10 {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// serve answers GET /static/<hashed name>.
func (s *assetSet) serve(w http.ResponseWriter, r *http.Request) {
	a, ok := s.byName[r.PathValue("path")]
	if !ok {
		notFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	a.write(w, r)
}

// write sends the asset, gzipped when it has a gzip form the client
// takes, with its ETag; the caller has set the caching headers.
func (a *asset) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	if a.gz != nil {
		h.Set("Vary", "Accept-Encoding")
	}
	body, etag := a.body, `"`+a.hash+`"`
	if a.gz != nil && acceptsGzip(r) {
		body, etag = a.gz, `"`+a.hash+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}

// etagMatch reports whether an If-None-Match header names etag.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// page is a rendered HTML page.
type page struct {
	body []byte
	etag string
}

// renderPages renders every template under templates/ once; the pages
// do not depend on the request.
func renderPages(fsys fs.FS, set *assetSet) (map[string]*page, error) {
	t, err := template.New("").Funcs(template.FuncMap{"asset": set.URL}).ParseFS(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*page{}
	for _, name := range []string{"landing.html", "demo.html", consolePage, adminPage} {
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, nil); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(buf.Bytes())
		pages[name] = &page{body: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return pages, nil
}

// ServeHTTP writes the page with its security headers.
func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.serve(w, r, pageCSP)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	http.Error(w, "404 page not found", http.StatusNotFound)
}
