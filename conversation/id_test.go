package conversation

import "testing"

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for range 1000 {
		id := newID()
		if !validID(id) {
			t.Fatalf("validID(%q) = false", id)
		}
		if id[14] != '7' {
			t.Fatalf("%q is not version 7", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		if id[:13] < prev[:min(13, len(prev))] {
			t.Fatalf("%q sorts before the earlier %q", id, prev)
		}
		prev = id
	}
	for _, bad := range []string{"", "x", "0192ba3c-8f1e-7abc-9def-0123456789aG", "0192ba3c_8f1e-7abc-9def-0123456789ab", "../../etc/passwd"} {
		if validID(bad) {
			t.Errorf("validID(%q) = true", bad)
		}
	}
}
