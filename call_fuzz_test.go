package parley

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecodeCallSignal: whatever a client sends, the decoder answers a
// signal or a coded error, never panics, and what it accepts is within
// the limits and reads back the same after encoding.
func FuzzDecodeCallSignal(f *testing.F) {
	for _, s := range []string{
		`{"action":"invite","media":"video"}`,
		`{"action":"accept","call":"c1"}`,
		`{"action":"hangup","call":"c1"}`,
		`{"action":"offer","call":"c1","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"}`,
		`{"action":"candidate","call":"c1","candidate":{"candidate":"candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"aB3d"}}`,
		`{"action":"candidate","call":"c1","candidate":{"candidate":""}}`,
		`{"action":"media","call":"c1","audio":false,"video":true}`,
		`{"action":"media","call":"c1","screen":true}`,
		`{"action":"accept","call":"c1","screen":false}`,
		`{"action":"offer","call":"c1","sdp":"v=0\n\u0000"}`,
		`{"action":"hangup","call":"c1","outcome":"completed"}`,
		`[]`, `null`, `{"action":"invite","media":"video"} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sig, err := DecodeCallSignal(data)
		if err != nil {
			if c := ErrorCode(err); c != EINVALID && c != ETOOLARGE {
				t.Fatalf("error code %q for %q", c, data)
			}
			if !reflect.DeepEqual(sig, CallSignal{}) {
				t.Fatalf("a refused signal came back filled: %+v", sig)
			}
			return
		}
		if len(sig.SDP) > MaxSDP || (sig.Candidate != nil && len(sig.Candidate.Candidate) > MaxCandidate) {
			t.Fatalf("accepted over the limits: %q", data)
		}
		if sig.Outcome != "" || sig.Duration != 0 || sig.Action == CallEnd {
			t.Fatalf("a client set what only the server sets: %q", data)
		}
		if sig.SDP != "" && (!strings.HasPrefix(sig.SDP, "v=0") || strings.ContainsAny(sig.SDP, "\x00\x1b")) {
			t.Fatalf("accepted SDP %q", sig.SDP)
		}
		out, err := json.Marshal(sig)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeCallSignal(out)
		if err != nil || !reflect.DeepEqual(again, sig) {
			t.Fatalf("%s reads back as %+v, %v; was %+v", out, again, err, sig)
		}
	})
}
