package webhook_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley/webhook"
)

// TestVerify: a receiver accepts what Sign produced and refuses a changed
// body, another secret, a replay outside the tolerance and junk headers.
func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := "1800000000"
	body := []byte(`{"id":"c:1","event":"message"}`)
	sig := webhook.Sign("whsec_a", ts, body)
	if err := webhook.Verify("whsec_a", ts, sig, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("genuine delivery refused: %v", err)
	}
	for name, c := range map[string]struct {
		secret, ts, sig string
		body            []byte
		at              time.Time
	}{
		"changed body":  {"whsec_a", ts, sig, []byte(`{"id":"c:2","event":"message"}`), now},
		"other secret":  {"whsec_b", ts, sig, body, now},
		"replayed":      {"whsec_a", ts, sig, body, now.Add(6 * time.Minute)},
		"from future":   {"whsec_a", ts, sig, body, now.Add(-6 * time.Minute)},
		"bad timestamp": {"whsec_a", "yesterday", sig, body, now},
		"no signature":  {"whsec_a", ts, "", body, now},
		"other time":    {"whsec_a", "1800000001", sig, body, now},
	} {
		if err := webhook.Verify(c.secret, c.ts, c.sig, c.body, c.at, 5*time.Minute); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
