package gms_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/gms"
)

// FuzzOperations posts fuzzed bodies to a live chat's operations: every
// answer is an envelope or a download; a refusal has a non-zero
// statusCode and stores nothing.
func FuzzOperations(f *testing.F) {
	for _, seed := range []struct{ op, ct, body string }{
		{"send", "application/x-www-form-urlencoded", "message=hello"},
		{"send", "application/x-www-form-urlencoded", "message=%00%01"},
		{"send", "application/x-www-form-urlencoded", "message=" + strings.Repeat("x", 2000)},
		{"refresh", "application/x-www-form-urlencoded", "transcriptPosition=99999999999999999999"},
		{"startTyping", "application/x-www-form-urlencoded", "message=%E2%80%AEevil"},
		{"pushUrl", "application/x-www-form-urlencoded", "pushUrl=javascript:alert(1)"},
		{"customNotice", "application/x-www-form-urlencoded", "message=<script>alert(1)</script>"},
		{"updateNickname", "application/x-www-form-urlencoded", "nickname=%0A"},
		{"updateData", "application/x-www-form-urlencoded", "userData[k]=" + strings.Repeat("v", 5000)},
		{"readReceipt", "application/x-www-form-urlencoded", "transcriptPosition=0"},
		{"file", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x.exe\"\r\n\r\nMZ\r\n--B--\r\n"},
		{"file/limits", "text/plain", "x"},
		{"file/nope/download", "application/x-www-form-urlencoded", ""},
		{"file/nope/delete", "application/x-www-form-urlencoded", ""},
	} {
		f.Add(seed.op, seed.ct, seed.body)
	}
	s := newServer(f, gms.Options{})
	tok := s.agent()
	c := newClient(f, s.URL, gms.DefaultService)
	c.request(url.Values{"nickname": {"Fuzz"}})
	id := s.acceptOffered(tok)
	c.await(typed("ParticipantJoined", "Agent"))
	last := func() int64 {
		ch, err := s.ts.Store.Chat(context.Background(), id)
		if err != nil {
			f.Fatal(err)
		}
		return ch.LastSeq
	}
	f.Fuzz(func(t *testing.T, op, ct, body string) {
		if strings.ContainsAny(op, "?#%") || strings.Contains(op, "..") {
			return // not a path of the chat
		}
		if strings.ContainsFunc(ct, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return // net/http sends no such header
		}
		before := last()
		// The client's own key is added, so the chat's client is not removed.
		q := "secureKey=" + url.QueryEscape(c.key)
		req, err := http.NewRequest("POST", c.base+"/"+c.chatID+"/"+op+"?"+q, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			return // a download
		}
		var env struct {
			StatusCode *int `json:"statusCode"`
			Errors     []struct {
				Code   int    `json:"code"`
				Advice string `json:"advice"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(data, &env); err != nil || env.StatusCode == nil {
			t.Fatalf("%s: %d %q is not an envelope", op, resp.StatusCode, data)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s: %d %s", op, resp.StatusCode, data)
		}
		if *env.StatusCode == 0 {
			return
		}
		if resp.StatusCode < 400 || len(env.Errors) == 0 || env.Errors[0].Advice == "" {
			t.Fatalf("%s: refusal %d %s without an error", op, resp.StatusCode, data)
		}
		if after := last(); after != before {
			t.Fatalf("%s: refused (%s) but the chat's log went from %d to %d", op, data, before, after)
		}
	})
}
