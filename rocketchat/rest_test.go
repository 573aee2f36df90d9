package rocketchat_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/parleychat/parley/rocketchat"
)

// The widget's REST calls in its order: config, visitor, room, message,
// history, agent info; then page, custom fields, upload and download,
// close, survey, transcript; and the offline form.
func TestRESTWidgetFlow(t *testing.T) {
	s := start(t)
	tok := "rest-visitor-token-1"

	var cfg struct {
		Config map[string]any `json:"config"`
	}
	if code := s.rest("GET", "/api/v1/livechat/config", nil, &cfg); code != 200 {
		t.Fatalf("config = %d", code)
	}
	if cfg.Config["online"] != false {
		t.Fatalf("online with no agent = %v", cfg.Config["online"])
	}
	// The offline case: the form is offered, and a room is refused with
	// no-agent-online.
	if cfg.Config["settings"].(map[string]any)["displayOfflineForm"] != true {
		t.Fatal("the offline form is not offered")
	}
	agentTok := s.online()
	s.rest("GET", "/rocketchat/api/v1/livechat/config", nil, &cfg)
	deps := cfg.Config["departments"].([]any)
	if cfg.Config["online"] != true || len(deps) != 2 || deps[1].(map[string]any)["_id"] != "2" {
		t.Fatalf("config = %v", cfg.Config)
	}
	if tr := cfg.Config["triggers"].([]any); len(tr) != 0 {
		t.Fatalf("triggers = %v", tr)
	}

	var fail struct {
		Success bool   `json:"success"`
		Error   string `json:"error"`
	}
	if code := s.rest("POST", "/api/v1/livechat/visitor", map[string]any{"visitor": map[string]any{"token": ""}}, &fail); code != 400 || fail.Success || fail.Error != "error-invalid-token" {
		t.Fatalf("empty token = %d %+v", code, fail)
	}
	if code := s.rest("POST", "/api/v1/livechat/visitor", map[string]any{"visitor": map[string]any{"token": tok, "department": "99"}}, &fail); code != 400 || fail.Error != "error-invalid-department" {
		t.Fatalf("unknown department = %d %+v", code, fail)
	}
	var vis struct {
		Visitor map[string]any `json:"visitor"`
		Success bool           `json:"success"`
	}
	if code := s.rest("POST", "/api/v1/livechat/visitor", map[string]any{"visitor": map[string]any{"token": tok, "name": "Rita", "email": "rita@example.com", "department": "Support"}}, &vis); code != 200 || !vis.Success || vis.Visitor["token"] != tok {
		t.Fatalf("visitor = %d %v", code, vis)
	}
	s.rest("GET", "/api/v1/livechat/visitor/"+tok, nil, &vis)
	if vis.Visitor["name"] != "Rita" {
		t.Fatalf("GET visitor = %v", vis)
	}

	var room struct {
		Room    map[string]any `json:"room"`
		NewRoom bool           `json:"newRoom"`
	}
	if code := s.rest("GET", "/api/v1/livechat/room?token="+tok, nil, &room); code != 200 || !room.NewRoom || room.Room["t"] != "l" {
		t.Fatalf("room = %d %v", code, room)
	}
	rid := room.Room["_id"].(string)
	s.rest("GET", "/api/v1/livechat/room?token="+tok, nil, &room)
	if room.NewRoom || room.Room["_id"] != rid {
		t.Fatalf("second room call = %v", room)
	}
	if code := s.rest("DELETE", "/api/v1/livechat/visitor/"+tok, nil, &fail); code != 400 || fail.Error != "visitor-has-open-rooms" {
		t.Fatalf("delete with an open room = %d %v", code, fail)
	}

	var msg struct {
		Message map[string]any `json:"message"`
	}
	if code := s.rest("POST", "/api/v1/livechat/message", map[string]any{"token": tok, "rid": rid, "msg": "first", "_id": "w-1"}, &msg); code != 200 || msg.Message["_id"] != "w-1" {
		t.Fatalf("message = %d %v", code, msg)
	}
	if _, ok := msg.Message["ts"].(string); !ok {
		t.Fatalf("REST ts is not an ISO string: %v", msg.Message["ts"])
	}
	// Another visitor's token cannot write to this room.
	s.rest("POST", "/api/v1/livechat/visitor", map[string]any{"visitor": map[string]any{"token": "other-token-1"}}, nil)
	if code := s.rest("POST", "/api/v1/livechat/message", map[string]any{"token": "other-token-1", "rid": rid, "msg": "x"}, &fail); code != 400 || fail.Error != "invalid-room" {
		t.Fatalf("foreign room = %d %v", code, fail)
	}
	if code := s.rest("POST", "/api/v1/livechat/message", map[string]any{"token": tok, "rid": rid, "msg": 5}, &fail); code != 400 {
		t.Fatalf("msg of the wrong type = %d %v", code, fail)
	}
	// The visitor corrects its message; another token cannot.
	if code := s.rest("PUT", "/api/v1/livechat/message/w-1", map[string]any{"token": "other-token-1", "rid": rid, "msg": "hijack"}, &fail); code != 400 || fail.Error != "invalid-room" {
		t.Fatalf("edit with another token = %d %v", code, fail)
	}
	if code := s.rest("PUT", "/api/v1/livechat/message/w-1", map[string]any{"token": tok, "rid": rid, "msg": "first, corrected"}, &msg); code != 200 || msg.Message["msg"] != "first, corrected" || msg.Message["editedAt"] == nil {
		t.Fatalf("edit = %d %v", code, msg)
	}
	s.rest("GET", "/api/v1/livechat/message/w-1?token="+tok+"&rid="+rid, nil, &msg)
	if msg.Message["msg"] != "first, corrected" {
		t.Fatalf("GET message after the edit = %v", msg)
	}
	s.rest("POST", "/api/v1/livechat/message", map[string]any{"token": tok, "rid": rid, "msg": "oops", "_id": "w-2"}, nil)
	if code := s.rest("DELETE", "/api/v1/livechat/message/w-2", map[string]any{"token": tok, "rid": rid}, &msg); code != 200 || msg.Message["_id"] != "w-2" {
		t.Fatalf("delete = %d %v", code, msg)
	}
	if code := s.rest("GET", "/api/v1/livechat/message/w-2?token="+tok+"&rid="+rid, nil, &fail); code != 400 || fail.Error != "invalid-message" {
		t.Fatalf("GET a withdrawn message = %d %v", code, fail)
	}

	chatID := s.OfferedChat(agentTok)
	s.Must(http.StatusOK, "POST", "/api/v1/chats/"+chatID+"/accept", agentTok, nil, nil)
	s.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", agentTok, map[string]string{"text": "Hello Rita"}, nil)

	var hist struct {
		Messages []map[string]any `json:"messages"`
	}
	s.rest("GET", "/api/v1/livechat/messages.history/"+rid+"?token="+tok+"&limit=20", nil, &hist)
	if len(hist.Messages) < 2 || hist.Messages[0]["msg"] != "Hello Rita" {
		t.Fatalf("history = %v", hist.Messages)
	}
	for _, m := range hist.Messages {
		if m["_id"] == "w-2" || m["msg"] == "first" {
			t.Fatalf("history shows a withdrawn or superseded text: %v", m)
		}
	}
	var agent struct {
		Agent map[string]any `json:"agent"`
	}
	if code := s.rest("GET", "/api/v1/livechat/agent.info/"+rid+"/"+tok, nil, &agent); code != 200 || agent.Agent["name"] != "Alice" {
		t.Fatalf("agent.info = %d %v", code, agent)
	}

	// The page the visitor is on reaches the agent's log.
	s.rest("POST", "/api/v1/livechat/page.visited", map[string]any{"token": tok, "rid": rid, "pageInfo": map[string]any{"change": "url", "title": "Pricing", "location": map[string]any{"href": "https://shop.example/pricing"}}}, nil)
	_, body := s.Do("GET", "/api/v1/chats/"+chatID+"/events?after=0", agentTok, nil)
	if !bytes.Contains(body, []byte("https://shop.example/pricing")) {
		t.Fatalf("the page is not in the agent's log: %s", body)
	}
	var field struct {
		Field map[string]any `json:"field"`
	}
	if code := s.rest("POST", "/api/v1/livechat/custom.field", map[string]any{"token": tok, "key": "plan", "value": "gold", "overwrite": true}, &field); code != 200 || field.Field["value"] != "gold" {
		t.Fatalf("custom.field = %d %v", code, field)
	}
	var status map[string]any
	if code := s.rest("POST", "/api/v1/livechat/visitor.status", map[string]any{"token": tok, "status": "away"}, &status); code != 200 || status["status"] != "away" {
		t.Fatalf("visitor.status = %d %v", code, status)
	}

	// Upload, then download with the visitor's token.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "note.txt")
	fmt.Fprint(fw, "a note from the visitor")
	mw.Close()
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/livechat/upload/"+rid, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Visitor-Token", tok)
	code, data := s.Send(req)
	if code != 200 || !bytes.Contains(data, []byte(`"title_link"`)) {
		t.Fatalf("upload = %d %s", code, data)
	}
	link := between(string(data), `"title_link":"`, `"`)
	link = strings.ReplaceAll(link, `\u0026`, "&")
	resp, err := http.Get(s.URL + link)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "a note from the visitor" {
		t.Fatalf("download %s = %d %q", link, resp.StatusCode, got)
	}
	// The widget prepends its server URL, prefix included, to a link:
	// every answer gives the same link, relative to that URL.
	if resp, err := http.Get(s.URL + "/rocketchat" + link); err != nil || resp.StatusCode != 200 {
		t.Fatalf("download under the prefix %s = %v %v", link, resp, err)
	}
	var again map[string]any
	if code := s.rest("GET", "/rocketchat/api/v1/livechat/messages.history/"+rid+"?token="+tok, nil, &again); code != 200 || !strings.Contains(fmt.Sprint(again), strings.Split(link, "?")[0]) {
		t.Fatalf("history under the prefix = %d, lacks %s: %v", code, link, again)
	}
	if resp, _ := http.Get(s.URL + strings.Split(link, "?")[0] + "?rc_token=other-token-1"); resp.StatusCode != 404 {
		t.Fatalf("download with another token = %d", resp.StatusCode)
	}

	// Close, then survey and transcript.
	var closed map[string]any
	if code := s.rest("POST", "/api/v1/livechat/room.close", map[string]any{"token": tok, "rid": rid}, &closed); code != 200 || closed["rid"] != rid {
		t.Fatalf("room.close = %d %v", code, closed)
	}
	if code := s.rest("POST", "/api/v1/livechat/room.close", map[string]any{"token": tok, "rid": rid}, &fail); code != 400 || fail.Error != "room-closed" {
		t.Fatalf("second close = %d %v", code, fail)
	}
	var survey map[string]any
	if code := s.rest("POST", "/api/v1/livechat/room.survey", map[string]any{"token": tok, "rid": rid, "data": []map[string]string{{"name": "satisfaction", "value": "5"}, {"name": "additionalFeedback", "value": "great"}}}, &survey); code != 200 {
		t.Fatalf("room.survey = %d %v", code, survey)
	}
	var chat struct {
		Rating *struct {
			Score int `json:"score"`
		} `json:"rating"`
	}
	s.Must(http.StatusOK, "GET", "/api/v1/chats/"+chatID, agentTok, nil, &chat)
	if chat.Rating == nil || chat.Rating.Score != 5 {
		t.Fatalf("the survey is not the chat's rating: %+v", chat)
	}
	var tr map[string]any
	if code := s.rest("POST", "/api/v1/livechat/transcript", map[string]any{"token": tok, "rid": rid, "email": "rita@example.com"}, &tr); code != 200 || tr["success"] != true {
		t.Fatalf("transcript = %d %v", code, tr)
	}
	if code := s.rest("POST", "/api/v1/livechat/transcript", map[string]any{"token": tok, "rid": rid, "email": "not an address"}, &fail); code != 400 || fail.Error != "error-invalid-email" {
		t.Fatalf("transcript to a bad address = %d %v", code, fail)
	}

	// Offline form: stored for the group; a second within 5 s is refused.
	var off map[string]any
	if code := s.rest("POST", "/api/v1/livechat/offline.message", map[string]any{"name": "Olga", "email": "olga@example.com", "message": "Call me", "department": "2"}, &off); code != 200 {
		t.Fatalf("offline.message = %d %v", code, off)
	}
	if code := s.rest("POST", "/api/v1/livechat/offline.message", map[string]any{"name": "Olga", "email": "olga@example.com", "message": "Again"}, &fail); code != 429 {
		t.Fatalf("second offline message = %d %v", code, fail)
	}
	_, body = s.Do("GET", "/api/v1/offline-messages?group_id=2", agentTok, nil)
	_ = body

	// Unknown endpoints and the native API beside.
	if code, _ := s.Do("GET", "/api/v1/livechat/nope", "", nil); code != 404 {
		t.Fatalf("unknown endpoint = %d", code)
	}
	if code, _ := s.Do("GET", "/api/v1/me/chats", agentTok, nil); code != 200 {
		t.Fatalf("native API beside the dialect = %d", code)
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// The widget configuration's server layer styles the Rocket.Chat widget:
// title, colours, side, and which forms it shows.
func TestConfigFollowsWidgetConfiguration(t *testing.T) {
	s := start(t, func(o *rocketchat.Options) {
		o.WidgetConfig = func(context.Context, int64) (map[string]any, error) {
			return map[string]any{"title": "Acme help", "headerBackground": "#123456", "position": "bottom-left",
				"offlineForm": false, "prechatEmail": "off", "lang": "de"}, nil
		}
	})
	var cfg struct {
		Config struct {
			Theme    map[string]any `json:"theme"`
			Settings map[string]any `json:"settings"`
		} `json:"config"`
	}
	s.rest("GET", "/api/v1/livechat/config", nil, &cfg)
	th, st := cfg.Config.Theme, cfg.Config.Settings
	if th["title"] != "Acme help" || th["color"] != "#123456" || th["position"] != "left" {
		t.Fatalf("theme = %v", th)
	}
	if st["displayOfflineForm"] != false || st["emailFieldRegistrationForm"] != false || st["nameFieldRegistrationForm"] != true || st["language"] != "de" {
		t.Fatalf("settings = %v", st)
	}
}
