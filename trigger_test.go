package parley_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

func TestCheckTriggerPattern(t *testing.T) {
	ok := []string{
		"", `/pricing`, `^https://shop\.example\.com/(cart|checkout)(/|$)`, `[?&]utm_source=ads\b`,
		`/products/[0-9]{2,5}$`, `/a.*?b`, `(?:/de|/fr)/kontakt`, `\d+\.html`, `[\w.-]+@`, `x{3}`, `/blog/[^/]+/`,
		`[\]\[]`, `/a\{b\}`,
	}
	for _, p := range ok {
		if err := parley.CheckTriggerPattern(p); err != nil {
			t.Errorf("CheckTriggerPattern(%q) = %v; want nil", p, err)
		}
	}
	bad := []string{
		`(?i)/pricing`,           // flags
		`(?P<x>a)`,               // named group
		`(?=a)`,                  // look-ahead (Go refuses it too)
		`\pL`,                    // Unicode class
		`\Qa.b\E`,                // quoting
		`\x41`,                   // hex escape
		`\A/start`,               // Go-only anchor
		`[[:alpha:]]`,            // POSIX class
		`[]a]`,                   // "]" first: literal in Go, empty class in JS
		`[\b]`,                   // backspace in JS, refused by Go
		`(a+)+$`,                 // nested repetition: exponential in JS
		`((ab)*c)*`,              // nested, deeper
		`a{`,                     // literal brace
		`/café`,                  // non-ASCII
		"/a\tb",                  // control character
		`(unclosed`,              // Go compile error
		`\`,                      // trailing backslash
		strings.Repeat("a", 501), // too long
	}
	for _, p := range bad {
		err := parley.CheckTriggerPattern(p)
		if parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("CheckTriggerPattern(%q) = %v; want an invalid error", p, err)
		}
	}
}

func TestTriggerValidate(t *testing.T) {
	valid := func() *parley.Trigger {
		return &parley.Trigger{TenantID: 1, Name: " Pricing ", URLPattern: "/pricing", Message: " Hello ", SenderName: " Pia "}
	}
	tr := valid()
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	if tr.Name != "Pricing" || tr.Message != "Hello" || tr.SenderName != "Pia" {
		t.Errorf("not trimmed: %+v", tr)
	}
	for name, change := range map[string]func(*parley.Trigger){
		"no name":          func(t *parley.Trigger) { t.Name = " " },
		"no message":       func(t *parley.Trigger) { t.Message = "" },
		"no condition":     func(t *parley.Trigger) { t.URLPattern = "" },
		"negative time":    func(t *parley.Trigger) { t.TimeOnSite = -1 },
		"time too long":    func(t *parley.Trigger) { t.TimeOnSite = parley.MaxTriggerTimeOnSite + 1 },
		"long message":     func(t *parley.Trigger) { t.Message = strings.Repeat("x", parley.MaxTriggerMessage+1) },
		"long sender":      func(t *parley.Trigger) { t.SenderName = strings.Repeat("x", 101) },
		"control in name":  func(t *parley.Trigger) { t.Name = "a\x00b" },
		"bidi in sender":   func(t *parley.Trigger) { t.SenderName = "a\u202eb" },
		"invalid UTF-8":    func(t *parley.Trigger) { t.Message = "a\xffb" },
		"bad pattern":      func(t *parley.Trigger) { t.URLPattern = "(?i)x" },
		"negative group":   func(t *parley.Trigger) { t.GroupID = -1 },
		"newline in name":  func(t *parley.Trigger) { t.Name = "a\nb" },
		"long description": func(t *parley.Trigger) { t.Description = strings.Repeat("x", 1001) },
	} {
		tr := valid()
		change(tr)
		if err := tr.Validate(); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("%s: Validate() = %v; want an invalid error", name, err)
		}
	}
	tr = valid()
	tr.URLPattern, tr.ChatOpened, tr.Message = "", true, "line one\nline two"
	if err := tr.Validate(); err != nil {
		t.Errorf("chat opened alone, multi-line message: %v", err)
	}
}

// FuzzCheckTriggerPattern: any input gives nil or an invalid error, and a
// pattern it accepts compiles.
func FuzzCheckTriggerPattern(f *testing.F) {
	for _, s := range []string{"/pricing", `(a+)+`, `[[:x:]]`, `a{2,3}`, `(?:a|b)*`, `\`, `[\]]`, `x{`, "((("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		err := parley.CheckTriggerPattern(p)
		if err != nil && parley.ErrorCode(err) != parley.EINVALID {
			t.Fatalf("%q: %v", p, err)
		}
		if _, cerr := regexp.Compile(p); err == nil && cerr != nil {
			t.Fatalf("%q accepted but does not compile: %v", p, cerr)
		}
	})
}
