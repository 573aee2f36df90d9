package rocketchat

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

// A chat refused at the configured load limit (parley.EUNAVAILABLE from
// conversation) is "service-unavailable" in both wire forms: 503 with
// Retry-After over REST, the Meteor error over DDP.
func TestUnavailableIsServiceUnavailable(t *testing.T) {
	err := parley.Errorf(parley.EUNAVAILABLE, "the server is at its chat limit")
	h := &Handler{log: New(nil, Options{}).log}
	w := httptest.NewRecorder()
	h.fail(w, httptest.NewRequest("GET", "/api/v1/livechat/room", nil), err)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("REST: %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if body := w.Body.String(); !strings.Contains(body, `"error":"service-unavailable"`) || !strings.Contains(body, `"success":false`) {
		t.Fatalf("REST body %s", body)
	}
	s := &session{h: h}
	me := s.methodError("sendMessageLivechat", err)
	if me.Error != "service-unavailable" || !strings.Contains(me.Reason, "chat limit") || me.ErrorType != "Meteor.Error" {
		t.Fatalf("DDP error = %+v", me)
	}
	// Other codes keep Rocket.Chat's 400.
	w = httptest.NewRecorder()
	h.fail(w, httptest.NewRequest("GET", "/", nil), parley.Errorf(parley.ENOTFOUND, "no such chat"))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"error":"invalid-room"`) {
		t.Fatalf("not found: %d %s", w.Code, w.Body)
	}
}
