package parley_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func TestValidEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"a@example.com": true, "first.last+tag@sub.example.org": true,
		"": false, "plain": false, "Name <a@example.com>": false, "a@example.com, b@example.com": false,
		"a@example.com\r\nBcc: x@y.z": false, "<a@example.com>": false, strings.Repeat("a", 320) + "@x.y": false,
	} {
		if got := parley.ValidEmail(s); got != want {
			t.Errorf("ValidEmail(%q) = %v; want %v", s, got, want)
		}
	}
}

func TestFromPriority(t *testing.T) {
	p, err := parley.ParseFromPriority(" Phone, email ,id")
	if err != nil || !slices.Equal(p, []parley.FromField{parley.FromPhone, parley.FromEmail, parley.FromID}) {
		t.Fatalf("parse = %v, %v", p, err)
	}
	if p, err := parley.ParseFromPriority(""); err != nil || !slices.Equal(p, parley.DefaultFromPriority) {
		t.Errorf("empty = %v, %v", p, err)
	}
	if _, err := parley.ParseFromPriority("email,fax"); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("fax accepted: %v", err)
	}
	v := &parley.Visitor{Name: "Vera", Phone: "+1 555", CustomerID: "C-1"}
	for _, tc := range []struct {
		prio []parley.FromField
		want string
	}{
		{nil, "+1 555"}, // email, phone, id: no email
		{[]parley.FromField{parley.FromID, parley.FromPhone}, "C-1"},
		{[]parley.FromField{parley.FromEmail}, "Vera"}, // nothing set: the name
	} {
		if got := v.From(tc.prio); got != tc.want {
			t.Errorf("From(%v) = %q; want %q", tc.prio, got, tc.want)
		}
	}
}

func TestCannedValidate(t *testing.T) {
	c := &parley.CannedResponse{Folder: " Greetings / /Formal/ ", Shortcut: " /Greet", Title: " Hello ", Text: "Hi"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Folder != "Greetings/Formal" || c.Shortcut != "greet" || c.Title != "Hello" {
		t.Errorf("normalised to %+v", c)
	}
	for name, bad := range map[string]parley.CannedResponse{
		"no title":        {Text: "x"},
		"blank text":      {Title: "x", Text: "  "},
		"shortcut spaces": {Title: "x", Text: "y", Shortcut: "a b"},
		"deep folder":     {Title: "x", Text: "y", Folder: "a/b/c/d/e/f"},
		"long text":       {Title: "x", Text: strings.Repeat("y", 4001)},
		"bad utf-8":       {Title: "x", Text: "\xff"},
		"negative group":  {Title: "x", Text: "y", GroupID: -2},
	} {
		if err := bad.Validate(); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTranscriptAndArchiveValidate(t *testing.T) {
	for name, tr := range map[string]parley.GroupTranscript{
		"sender":  {Sender: "nope"},
		"subject": {Subject: "a\nb"},
	} {
		if err := tr.Validate(); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := (&parley.GroupTranscript{Sender: "chat@example.com", Subject: "Chat with $Agent$", HTML: true}).Validate(); err != nil {
		t.Error(err)
	}
	q := parley.ArchiveQuery{Customer: "  vera "}
	if err := q.Validate(); err != nil || q.Limit != parley.DefaultArchiveLimit || q.Customer != "vera" {
		t.Errorf("validated %+v, %v", q, err)
	}
	now := time.Now()
	for name, bad := range map[string]parley.ArchiveQuery{
		"limit":      {Limit: parley.MaxArchiveLimit + 1},
		"negative":   {Limit: -1},
		"from to":    {From: now, To: now},
		"long text":  {Text: strings.Repeat("x", 1001)},
		"long email": {Customer: strings.Repeat("x", 321)},
	} {
		if err := bad.Validate(); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}
