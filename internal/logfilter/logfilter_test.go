package logfilter

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValue(t *testing.T) {
	f, err := Parse(4, "a=copy; b=hide; c=hide-first,2; d=hide-last,2; e=unhide-first,2; f=unhide-last,2; api_key=copy")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"a": "secret", "b": Hidden, "c": "**cret", "d": "secr**", "e": "se****", "f": "****et",
		"A": "secret", "other": Hidden, "api_key": Hidden, "user_password": Hidden,
	} {
		if got := f.Value(key, "secret"); got != want {
			t.Errorf("%s: %q; want %q", key, got, want)
		}
	}
	if got := f.Value("c", "x"); got != "*" {
		t.Errorf("a count longer than the value: %q", got)
	}
	if got := f.Text("héllo world"); got != "héll…" {
		t.Errorf("Text = %q", got)
	}
	if got := (Filter{}).Text("anything"); got != Hidden {
		t.Errorf("zero filter Text = %q", got)
	}
	star, _ := Parse(0, "*=unhide-first,1")
	if got := star.Value("x", "abc"); got != "a**" {
		t.Errorf("default rule: %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, spec := range []string{"a", "=copy", "a=hide,3", "a=hide-first", "a=hide-first,x", "a=hide-first,-1", "a=shout"} {
		if _, err := Parse(0, spec); err == nil {
			t.Errorf("%q parsed", spec)
		}
	}
	if _, err := Parse(MaxPrintSize+1, ""); err == nil {
		t.Error("print size above the maximum parsed")
	}
}

// FuzzFilter: whatever the rules and values, filtering never panics,
// never shows more characters than the value has, and never shows a
// credential key's value.
func FuzzFilter(f *testing.F) {
	f.Add("a=hide-first,3;*=copy", "a", "value", 3)
	f.Add("k=unhide-last,100", "k", "ü", 0)
	f.Add("token=copy", "token", "s3cr3t", 7000)
	f.Fuzz(func(t *testing.T, spec, key, value string, size int) {
		flt, err := Parse(size, spec)
		if err != nil {
			return
		}
		v := flt.Value(key, value)
		if v != Hidden && utf8.RuneCountInString(v) != utf8.RuneCountInString(value) && utf8.ValidString(value) {
			t.Fatalf("Value(%q, %q) = %q: length changed", key, value, v)
		}
		if secret.MatchString(key) && v != Hidden {
			t.Fatalf("credential %q shown as %q", key, v)
		}
		if txt := flt.Text(value); size == 0 && txt != Hidden || size > 0 && strings.Count(txt, "") > size+2 && utf8.ValidString(value) {
			t.Fatalf("Text(%q) with size %d = %q", value, size, txt)
		}
	})
}
