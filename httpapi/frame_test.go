package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/parleychat/parley"
)

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		in   string
		code string // "" when valid
	}{
		{`{"type":"hello","token":"pv_x","chats":{"a":3}}`, ""},
		{`{"type":"subscribe","chat_id":"a","after":2}`, ""},
		{`{"type":"send","ref":"1","chat_id":"a","text":"hi","client_id":"c"}`, ""},
		{`{"type":"typing","chat_id":"a","typing":true}`, ""},
		{`{"type":"seen","chat_id":"a","seq":7}`, ""},
		{`{"type":"seen","chat_id":"a"}`, parley.EINVALID},
		{`{"type":"seen","seq":7}`, parley.EINVALID},
		{`{"type":"ping"}`, ""},
		{`{"type":"unsubscribe","chat_id":"a"}`, ""},
		{``, parley.EINVALID},
		{`null`, parley.EINVALID},
		{`[]`, parley.EINVALID},
		{`{"type":"send"}`, parley.EINVALID},
		{`{"type":"subscribe","chat_id":"a","after":-1}`, parley.EINVALID},
		{`{"type":"hello","chats":{"a":-5}}`, parley.EINVALID},
		{`{"type":"teleport"}`, parley.EINVALID},
		{`{"typ":"ping"}`, parley.EINVALID},
		{`{"type":"ping"} {"type":"ping"}`, parley.EINVALID},
		{`{"type":1}`, parley.EINVALID},
		{`{"type":"ping","ref":"` + string(make([]byte, 65)) + `"}`, parley.EINVALID},
	}
	for _, tt := range tests {
		_, err := decodeFrame([]byte(tt.in))
		if got := parley.ErrorCode(err); got != tt.code {
			t.Errorf("decodeFrame(%q) = %v; want code %q", tt.in, err, tt.code)
		}
	}
	if _, err := decodeFrame(make([]byte, maxFrame+1)); parley.ErrorCode(err) != parley.ETOOLARGE {
		t.Errorf("oversize frame: %v", err)
	}
}

// FuzzDecodeFrame feeds the WebSocket frame decoder arbitrary bytes: it
// must never panic, and whatever it accepts must be a known frame type
// that survives a round trip.
func FuzzDecodeFrame(f *testing.F) {
	for _, seed := range []string{
		`{"type":"hello","token":"pv_x","chats":{"a":3}}`,
		`{"type":"send","ref":"1","chat_id":"a","text":"hi","client_id":"c"}`,
		`{"type":"typing","chat_id":"a","typing":true}`,
		`{"type":"subscribe","chat_id":"a","after":9007199254740993}`,
		`{"type":"ping"}`, `{"type":"send","text":"\u0000"}`, `{"chats":{"":1e400}}`, `{`, `"`,
	} {
		f.Add([]byte(seed))
	}
	known := map[string]bool{frameHello: true, frameSubscribe: true, frameUnsubscribe: true, frameSend: true, frameTyping: true, framePing: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := decodeFrame(data)
		if err != nil {
			if code := parley.ErrorCode(err); code != parley.EINVALID && code != parley.ETOOLARGE {
				t.Fatalf("error code %q for %q", code, data)
			}
			return
		}
		if !known[fr.Type] {
			t.Fatalf("accepted unknown type %q", fr.Type)
		}
		again, err := json.Marshal(fr)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeFrame(again)
		if err != nil {
			t.Fatalf("re-encoded frame %s rejected: %v", again, err)
		}
		if back.Type != fr.Type || back.ChatID != fr.ChatID || back.Text != fr.Text || back.After != fr.After {
			t.Fatalf("round trip changed the frame: %+v → %+v", fr, back)
		}
	})
}
