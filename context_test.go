package parley

import "testing"

// TestChatContextCall: a chat's context names the call the visitor asked
// for, audio or video; anything else is refused.
func TestChatContextCall(t *testing.T) {
	for _, call := range []string{"", MediaAudio, MediaVideo} {
		c := ChatContext{URL: "https://shop.example/", Call: call}
		if err := c.Validate(); err != nil {
			t.Errorf("call %q: %v", call, err)
		}
	}
	for _, call := range []string{"screen", "Video", "video "} {
		c := ChatContext{Call: call}
		if err := c.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("call %q: got %v, want %s", call, err, EINVALID)
		}
	}
}
