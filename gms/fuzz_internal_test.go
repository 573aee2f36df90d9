package gms

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// checkDecoded holds for every form a decoder accepts: parameters are
// valid UTF-8 and userData entries pass their rules.
func checkDecoded(t *testing.T, f *form) {
	t.Helper()
	if len(f.userData) > maxUserData {
		t.Fatalf("%d userData entries", len(f.userData))
	}
	for k, vs := range f.values {
		if !utf8.ValidString(k) {
			t.Fatalf("invalid parameter name %q", k)
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				t.Fatalf("invalid value of %q", k)
			}
		}
	}
	for k, v := range f.userData {
		if err := checkUserData(k, v); err != nil {
			t.Fatalf("userData[%q] accepted: %v", k, err)
		}
	}
}

// checkRefused holds for every refusal: a client error with a message,
// never an internal one.
func checkRefused(t *testing.T, err error) {
	t.Helper()
	switch parley.ErrorCode(err) {
	case parley.EINVALID, parley.ETOOLARGE:
	default:
		t.Fatalf("refused with %v; want invalid or too_large", err)
	}
	if _, sc, status, _ := classify(err); sc == 0 || status < 400 || status >= 500 {
		t.Fatalf("%v: statusCode %d, HTTP %d", err, sc, status)
	}
}

func FuzzFormDecoder(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "nickname=Ada&userData%5BTimeZone%5D=-480&subject=hi")
	f.Add("application/x-www-form-urlencoded", "secureKey=%zz")
	f.Add("application/x-www-form-urlencoded", "userData[]=x&userData[a:b]=y")
	f.Add("application/x-www-form-urlencoded; charset=utf-8", "message=%FF%FE")
	f.Add("", "message=hello")
	f.Add("text/plain", "message=hello")
	f.Add("application/x-www-form-urlencoded", strings.Repeat("userData[k]=v&", 60))
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/genesys/2/chat/s/c/send", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		got, err := readForm(httptest.NewRecorder(), r, 0)
		if err != nil {
			checkRefused(t, err)
			return
		}
		defer got.close()
		checkDecoded(t, got)
	})
}

func FuzzMultipartDecoder(f *testing.F) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.SetBoundary("XyZ")
	_ = w.WriteField("secureKey", "v_key")
	_ = w.WriteField("userData[file-description]", "a picture")
	fw, _ := w.CreateFormFile("file", "a.png")
	_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\nabc"))
	_ = w.Close()
	f.Add(buf.String(), true)
	f.Add(buf.String(), false)
	f.Add("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n", true)
	f.Add("--XyZ--\r\n", true)
	f.Add("--XyZ\r\nContent-Disposition: form-data; name=\"userData[\x01]\"\r\n\r\nb\r\n--XyZ--\r\n", true)
	f.Fuzz(func(t *testing.T, body string, withFile bool) {
		r := httptest.NewRequest("POST", "/genesys/2/chat/s/c/file", strings.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary=XyZ")
		limit := int64(0)
		if withFile {
			limit = 1 << 16
		}
		got, err := readForm(httptest.NewRecorder(), r, limit)
		if err != nil {
			checkRefused(t, err)
			return
		}
		defer got.close()
		checkDecoded(t, got)
		if got.file != nil && !withFile {
			t.Fatal("a file was kept for an operation without files")
		}
	})
}

func FuzzCometDDecoder(f *testing.F) {
	f.Add(`[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"id":"1"}]`)
	f.Add(`{"channel":"/service/chatV2/customer-support","clientId":"ab","id":2,"data":{"operation":"requestChat","nickname":"Ada","userData":{"TimeZone":"-480"}}}`)
	f.Add(`[{"channel":"/service/chatV2/x","data":{"operation":"requestNotifications","secureKey":"k","transcriptPosition":3}}]`)
	f.Add(`[{"channel":"/service/chatV2/x","data":{"operation":"sendMessage","userData":{"a":{"b":1}}}}]`)
	f.Add(`[]`)
	f.Add(`[{"channel":""}]`)
	f.Add(`{"data":[1,2]}`)
	f.Add(`nonsense`)
	f.Fuzz(func(t *testing.T, body string) {
		msgs, err := decodeBayeux([]byte(body))
		if err != nil {
			checkRefused(t, err)
			return
		}
		if len(msgs) == 0 || len(msgs) > maxCometBatch {
			t.Fatalf("%d messages accepted", len(msgs))
		}
		for _, m := range msgs {
			if m.Channel == "" {
				t.Fatal("a message without a channel was accepted")
			}
			if len(m.Data) == 0 {
				continue
			}
			got, err := cometForm(m.Data)
			if err != nil {
				checkRefused(t, err)
				continue
			}
			checkDecoded(t, got)
			if _, err := json.Marshal(got.values); err != nil {
				t.Fatal(err)
			}
		}
	})
}
