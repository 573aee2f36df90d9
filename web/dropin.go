package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strings"
)

// Drop-in addresses for pages written for Mitel MiCC's stock chat client:
// the toolbox script and its sample page at the URLs MiCC serves them, so
// such a page works after changing only the host name. (Pages written for
// estos LiveChat need no address of their own: /widget.js knows the
// <estos-widget> and <estos-directchat> elements.)

//go:embed dropin/customerchat.html
var dropinFiles embed.FS

// The MiCC CustomerChat paths. IIS matches paths without regard to case,
// so Parley does too.
const (
	toolboxPath = "/CustomerChat/Chat/Toolbox"
	samplePath  = "/CustomerChat/Chat"
)

// dropin serves the Mitel toolbox and the sample page.
type dropin struct {
	toolbox   *asset
	sample    *page
	sampleCSP string
}

// newDropin builds the toolbox (the loader followed by the Mitel
// interface, one script as MiCC's is) and renders the sample page.
func newDropin(set *assetSet) (*dropin, error) {
	loader, ok1 := set.bySource["widget/loader.js"]
	mitel, ok2 := set.bySource["widget/mitel.js"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("no widget/loader.js or widget/mitel.js")
	}
	body := append(append(append([]byte{}, loader.body...), '\n'), mitel.body...)
	sum := sha256.Sum256(body)
	gz, err := compress(body)
	if err != nil {
		return nil, err
	}
	h := hex.EncodeToString(sum[:])[:hashLen]
	toolbox := &asset{source: "CustomerChat/Chat/Toolbox", name: toolboxPath, ctype: contentType(".js"), body: body, gz: gz, hash: h}

	t, err := template.New("").Funcs(template.FuncMap{"asset": set.URL}).ParseFS(files, "templates/layout.html")
	if err == nil {
		t, err = t.ParseFS(dropinFiles, "dropin/customerchat.html")
	}
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "customerchat.html", nil); err != nil {
		return nil, err
	}
	// The sample shows its code inline, as MiCC's does; the policy allows
	// exactly that script by its hash.
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllSubmatch(buf.Bytes(), -1)
	if len(scripts) != 1 {
		return nil, fmt.Errorf("customerchat.html: %d inline scripts, want 1", len(scripts))
	}
	ssum := sha256.Sum256(scripts[0][1])
	csp := strings.Replace(pageCSP, "script-src 'self'", "script-src 'self' 'sha256-"+base64.StdEncoding.EncodeToString(ssum[:])+"'", 1)
	psum := sha256.Sum256(buf.Bytes())
	return &dropin{
		toolbox:   toolbox,
		sample:    &page{body: buf.Bytes(), etag: `"` + hex.EncodeToString(psum[:8]) + `"`},
		sampleCSP: csp,
	}, nil
}

// route returns the handler of a drop-in path, matched without regard to
// case (a trailing slash on the sample page is fine), or nil.
func (d *dropin) route(path string) http.HandlerFunc {
	switch {
	case strings.EqualFold(path, toolboxPath):
		return d.serveToolbox
	case strings.EqualFold(strings.TrimSuffix(path, "/"), samplePath):
		return d.serveSample
	}
	return nil
}

// serveToolbox answers the toolbox script like /widget.js: public,
// CORS-readable, cached briefly.
func (d *dropin) serveToolbox(w http.ResponseWriter, r *http.Request) {
	writeHostScript(w, r, d.toolbox)
}

func (d *dropin) serveSample(w http.ResponseWriter, r *http.Request) {
	d.sample.serve(w, r, d.sampleCSP)
}
