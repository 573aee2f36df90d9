package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The widget's string bundles: en, de and fr are embedded; files named
// <data>/i18n/<culture>.json override single strings of a bundle or add
// a culture, without rebuilding (read when the server starts).

//go:embed i18n/*.json
var i18nFiles embed.FS

// bundles holds the string bundle of each culture, keyed by lower-case
// culture name ("fr", "fr-be").
type bundles struct {
	byCulture map[string]map[string]string
}

var culturePattern = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})?$`)

// loadBundles reads the embedded bundles and the overrides in dataDir.
func loadBundles(dataDir string) (*bundles, error) {
	b := &bundles{byCulture: map[string]map[string]string{}}
	if err := b.read(i18nFiles, "i18n"); err != nil {
		return nil, err
	}
	if _, ok := b.byCulture["en"]; !ok {
		return nil, fmt.Errorf("no English bundle")
	}
	if dataDir != "" {
		dir := filepath.Join(dataDir, "i18n")
		if _, err := os.Stat(dir); err == nil {
			if err := b.read(os.DirFS(dir), "."); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// read merges every <culture>.json of dir in fsys over what is loaded.
func (b *bundles) read(fsys fs.FS, dir string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		culture := strings.ToLower(strings.TrimSuffix(name, ".json"))
		if e.IsDir() || !strings.HasSuffix(name, ".json") || !culturePattern.MatchString(culture) {
			continue
		}
		data, err := fs.ReadFile(fsys, filepath.ToSlash(filepath.Join(dir, name)))
		if err != nil {
			return err
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("i18n bundle %s: must be a JSON object of strings: %w", name, err)
		}
		into := b.byCulture[culture]
		if into == nil {
			into = map[string]string{}
			b.byCulture[culture] = into
		}
		for k, v := range m {
			into[k] = v
		}
	}
	return nil
}

// lookup returns the strings for culture with fallback: fr-BE takes what
// fr-be defines, then fr, then en. It also returns the culture whose
// bundle was found first ("fr" for fr-BE without an fr-be bundle).
func (b *bundles) lookup(culture string) (map[string]string, string) {
	chain := fallbackChain(culture)
	out := map[string]string{}
	resolved := "en"
	for i := len(chain) - 1; i >= 0; i-- {
		m, ok := b.byCulture[chain[i]]
		if !ok {
			continue
		}
		resolved = chain[i]
		for k, v := range m {
			out[k] = v
		}
	}
	return out, resolved
}

// fallbackChain lists the cultures to try, most specific first:
// "fr-BE" → fr-be, fr, en.
func fallbackChain(culture string) []string {
	c := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(culture), "_", "-"))
	var chain []string
	if culturePattern.MatchString(c) {
		chain = append(chain, c)
		if lang, _, ok := strings.Cut(c, "-"); ok {
			chain = append(chain, lang)
		}
	}
	if len(chain) == 0 || chain[len(chain)-1] != "en" {
		chain = append(chain, "en")
	}
	return chain
}
