// Package logfilter decides how much chat text and attached data reaches
// the log, as Genesys Chat Server configures it: message-log-print-size
// (how many characters of a message are printed, 0 = none) and per-key
// filters of attached data ([log-filter-data] key=filter). Without
// configuration nothing of either is logged; keys that name credentials
// are hidden whatever the configuration says.
package logfilter

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Rules of a key's value.
const (
	Copy        = "copy"         // the value as it is
	Hide        = "hide"         // nothing of the value
	HideFirst   = "hide-first"   // the first N characters masked
	HideLast    = "hide-last"    // the last N characters masked
	UnhideFirst = "unhide-first" // only the first N characters shown
	UnhideLast  = "unhide-last"  // only the last N characters shown
)

// Rule is a filter of one key.
type Rule struct {
	Kind string
	N    int
}

// Filter is the log's switches. The zero value logs no text and hides
// every value.
type Filter struct {
	// PrintSize is how many characters of a message are logged; 0 none.
	PrintSize int
	// Default applies to keys without a rule of their own; zero is Hide.
	Default Rule
	// Keys holds the rules by key, case-insensitively (lower case).
	Keys map[string]Rule
}

// MaxPrintSize is the largest print size (Genesys: 7000).
const MaxPrintSize = 7000

// Hidden stands for a value or text that is not logged.
const Hidden = "[hidden]"

var secret = regexp.MustCompile(`(?i)password|passwd|secret|token|authorization|api_?key`)

// Parse reads the rules "key=filter;key=filter,N;…"; the key "*" sets
// the default. Filters: copy, hide, hide-first,N, hide-last,N,
// unhide-first,N, unhide-last,N.
func Parse(printSize int, spec string) (Filter, error) {
	f := Filter{PrintSize: printSize, Keys: map[string]Rule{}}
	if printSize < 0 || printSize > MaxPrintSize {
		return f, fmt.Errorf("message-log-print-size must be between 0 and %d", MaxPrintSize)
	}
	for part := range strings.SplitSeq(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, rule, ok := strings.Cut(part, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || key == "" {
			return f, fmt.Errorf("%q is not key=filter", part)
		}
		r, err := parseRule(strings.TrimSpace(rule))
		if err != nil {
			return f, fmt.Errorf("%s: %w", key, err)
		}
		if key == "*" {
			f.Default = r
		} else {
			f.Keys[key] = r
		}
	}
	return f, nil
}

func parseRule(s string) (Rule, error) {
	kind, n, hasN := strings.Cut(s, ",")
	kind = strings.ToLower(strings.TrimSpace(kind))
	switch kind {
	case Copy, Hide:
		if hasN {
			return Rule{}, fmt.Errorf("%s takes no count", kind)
		}
		return Rule{Kind: kind}, nil
	case HideFirst, HideLast, UnhideFirst, UnhideLast:
		v, err := strconv.Atoi(strings.TrimSpace(n))
		if !hasN || err != nil || v < 0 || v > MaxPrintSize {
			return Rule{}, fmt.Errorf("%s needs a count: %s,N", kind, kind)
		}
		return Rule{Kind: kind, N: v}, nil
	}
	return Rule{}, fmt.Errorf("unknown filter %q (copy, hide, hide-first,N, hide-last,N, unhide-first,N, unhide-last,N)", s)
}

// Text returns what the log may show of a message: its first PrintSize
// characters, or Hidden.
func (f Filter) Text(s string) string {
	if f.PrintSize <= 0 {
		return Hidden
	}
	if utf8.RuneCountInString(s) <= f.PrintSize {
		return s
	}
	r := []rune(s)
	return string(r[:f.PrintSize]) + "…"
}

// Value returns what the log may show of the value of key.
func (f Filter) Value(key, value string) string {
	if secret.MatchString(key) {
		return Hidden
	}
	r, ok := f.Keys[strings.ToLower(key)]
	if !ok {
		r = f.Default
	}
	v := []rune(value)
	n := min(r.N, len(v))
	mask := func(k int) string { return strings.Repeat("*", k) }
	switch r.Kind {
	case Copy:
		return value
	case HideFirst:
		return mask(n) + string(v[n:])
	case HideLast:
		return string(v[:len(v)-n]) + mask(n)
	case UnhideFirst:
		return string(v[:n]) + mask(len(v)-n)
	case UnhideLast:
		return mask(len(v)-n) + string(v[len(v)-n:])
	}
	return Hidden
}

// Data returns data with every value filtered, for a log attribute.
func (f Filter) Data(data map[string]string) map[string]string {
	out := make(map[string]string, len(data))
	for k, v := range data {
		out[k] = f.Value(k, v)
	}
	return out
}
