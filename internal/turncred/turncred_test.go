package turncred

import (
	"errors"
	"testing"
	"time"
)

func TestIssueParse(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	name, pw := Issue("s3cret", "chat:call:v", now.Add(time.Hour))
	if name != "1700003600:chat:call:v" {
		t.Errorf("user name %q", name)
	}
	if pw != Password("s3cret", name) || pw == Password("other", name) {
		t.Errorf("password %q is not the HMAC of the name under the secret alone", pw)
	}
	user, exp, err := Parse(name, now)
	if err != nil || user != "chat:call:v" || !exp.Equal(now.Add(time.Hour)) {
		t.Errorf("Parse = %q %v %v", user, exp, err)
	}
	if _, _, err := Parse(name, now.Add(time.Hour)); !errors.Is(err, ErrExpired) {
		t.Errorf("at the expiry: %v, want ErrExpired", err)
	}
	for _, bad := range []string{"", "chat", ":user", "12:", "-5:user", "x1:user"} {
		if _, _, err := Parse(bad, now); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}
