package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEstosConfigShape: a config.json written for estos LiveChat sets the
// widget's colors from its "colors" object; "lib" is reported as ignored;
// the estos color names also work flat, as attributes.
func TestEstosConfigShape(t *testing.T) {
	h := Handler(Options{})
	got := fetchConfig(t, h, url.Values{"file": {`{"lib": {"ucsid": "x"}, "colors": {"headerBackground": "#00BCD4",
		"headerFontActive": "#ffffff", "headerFontInactive": "#eaeaea", "highlight": "#006064", "footer": "#000000"}}`}})
	want := map[string]string{"headerBackground": "#00BCD4", "headerText": "#ffffff", "headerTextInactive": "#eaeaea", "highlight": "#006064"}
	for k, v := range want {
		if got.Config[k] != v {
			t.Errorf("%s = %v, want %s", k, got.Config[k], v)
		}
	}
	var keys []string
	for _, p := range got.Problems {
		keys = append(keys, p.Layer+":"+p.Key)
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "file:colors.footer,file:lib" {
		t.Errorf("problems %v, want the unknown color and lib", got.Problems)
	}

	// A flat key beside the object wins; a malformed color is refused.
	got = fetchConfig(t, h, url.Values{"file": {`{"headerBackground": "#112233", "colors": {"headerBackground": "#00BCD4", "highlight": "red"}}`}})
	if got.Config["headerBackground"] != "#112233" || got.Config["highlight"] != "#4f46e5" || len(got.Problems) != 1 || got.Problems[0].Key != "highlight" {
		t.Errorf("flat key and bad color: %v %v %v", got.Config["headerBackground"], got.Config["highlight"], got.Problems)
	}
	if got := fetchConfig(t, h, url.Values{"file": {`{"colors": "teal"}`}}); len(got.Problems) != 1 || got.Problems[0].Key != "colors" {
		t.Errorf("colors that is no object: problems %v", got.Problems)
	}
	got = fetchConfig(t, h, url.Values{"attrs": {`{"headerfontactive": "#000000", "headerfontinactive": "#333333"}`}})
	if got.Config["headerText"] != "#000000" || got.Config["headerTextInactive"] != "#333333" {
		t.Errorf("estos color names as attributes: %v %v", got.Config["headerText"], got.Config["headerTextInactive"])
	}
}

// TestMitelToolboxServed: the toolbox answers at MiCC's address in any
// case, like /widget.js (CORS, short cache, gzip), and is the loader
// followed by the Mitel interface.
func TestMitelToolboxServed(t *testing.T) {
	h := Handler(Options{})
	set := embeddedAssets(t)
	for _, p := range []string{"/CustomerChat/Chat/Toolbox", "/customerchat/chat/toolbox", "/CUSTOMERCHAT/CHAT/TOOLBOX"} {
		res := get(t, h, p)
		b := body(t, res)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", p, res.StatusCode)
		}
		for k, want := range map[string]string{
			"Content-Type":                "text/javascript; charset=utf-8",
			"Cache-Control":               "public, max-age=300",
			"Access-Control-Allow-Origin": "*",
			"X-Content-Type-Options":      "nosniff",
		} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s: %s %q, want %q", p, k, got, want)
			}
		}
		if !bytes.HasPrefix(b, set.bySource["widget/loader.js"].body) || !bytes.HasSuffix(b, set.bySource["widget/mitel.js"].body) {
			t.Errorf("%s is not the loader followed by mitel.js", p)
		}
	}
	if res := get(t, h, "/CustomerChat/Chat/Toolbox", "Accept-Encoding", "gzip"); res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("no gzip: %q", res.Header.Get("Content-Encoding"))
	}
	req := httptest.NewRequest(http.MethodPost, "/CustomerChat/Chat/Toolbox", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("POST: status %d, want 404", rec.Code)
	}
}

// TestMitelSamplePageServed: the sample page answers at /CustomerChat/Chat
// with the toolbox's script tag; its one inline script (the sample code)
// is allowed by its hash and nothing else inline is.
func TestMitelSamplePageServed(t *testing.T) {
	h := Handler(Options{})
	for _, p := range []string{"/CustomerChat/Chat", "/customerchat/chat/"} {
		res := get(t, h, p)
		page := string(body(t, res))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", p, res.StatusCode)
		}
		if !strings.Contains(page, `<script src="/CustomerChat/Chat/Toolbox"></script>`) {
			t.Errorf("%s lacks the toolbox's script tag", p)
		}
		m := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(page)
		if m == nil || !strings.Contains(m[1], "Mitel.ChatToolbox.customizePage = function") || !strings.Contains(m[1], "Mitel.ChatToolbox.customizeRequest = function") {
			t.Fatalf("%s: no sample code", p)
		}
		sum := sha256.Sum256([]byte(m[1]))
		want := strings.Replace(pageCSP, "script-src 'self'", "script-src 'self' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'", 1)
		if got := res.Header.Get("Content-Security-Policy"); got != want {
			t.Errorf("CSP %q, want %q", got, want)
		}
		tags, err := scanTags(page)
		if err != nil {
			t.Fatal(err)
		}
		var others []tag
		n := 0
		for _, tg := range tags {
			if tg.name == "script" && tg.attrs["src"] == "" {
				n++
				continue
			}
			others = append(others, tg)
		}
		if n != 1 {
			t.Errorf("%s: %d inline scripts, want 1", p, n)
		}
		checkInline(t, others)
	}
}
