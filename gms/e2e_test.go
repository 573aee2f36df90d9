package gms_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/gms"
)

// TestClientEndToEnd plays a GMS client, with form posts only, through a
// whole chat with a Parley agent on the native API.
func TestClientEndToEnd(t *testing.T) {
	s := newServer(t, gms.Options{Limits: gms.FileLimits{MaxFiles: 2}})
	c := newClient(t, s.URL, gms.DefaultService)

	// Requested while the only agent is online but not ready: the client
	// joins and waits.
	tok := s.ts.Login("agent1")
	s.ts.Presence(tok, "available", "not_ready")
	env := c.request(url.Values{
		"firstName": {"Ada"}, "lastName": {"Lovelace"}, "subject": {"Order 42"},
		"emailAddress": {"ada@example.com"}, "userData[TimeZone]": {"-480"}, "userData[OrderID]": {"42"},
	})
	joined := c.await(typed("ParticipantJoined", "Client"))
	if joined.From.Nickname != "Ada Lovelace" || joined.From.ParticipantID != 1 || joined.Index != 1 || joined.UTCTime == 0 {
		t.Fatalf("client joined = %+v", joined)
	}
	queued := c.await(func(m message) bool { return m.UserData["queue-position"] == "1" })
	if queued.Type != "Notice" || queued.Text == "" {
		t.Fatalf("queue notice = %+v", queued)
	}
	if env.UserID == "" || env.Alias == "" || env.NextPosition < 2 {
		t.Fatalf("requestChat envelope = %+v", env)
	}

	// The agent gets ready, accepts and types.
	s.ts.Presence(tok, "available", "ready")
	chatID := s.acceptOffered(tok)
	if chatID != c.chatID {
		t.Fatalf("offered chat %s, client chat %s", chatID, c.chatID)
	}
	var view struct {
		Visitor struct {
			Name        string `json:"name"`
			Email       string `json:"email"`
			TZOffset    int    `json:"tz_offset"`
			PrivateData string `json:"private_data"`
		} `json:"visitor"`
	}
	s.ts.Must(http.StatusOK, "GET", "/api/v1/chats/"+chatID, tok, nil, &view)
	if v := view.Visitor; v.Name != "Ada Lovelace" || v.Email != "ada@example.com" || v.TZOffset != -480 ||
		v.PrivateData != "Subject: Order 42\nOrderID: 42\nTimeZone: -480" {
		t.Fatalf("the agent sees the visitor as %+v", v)
	}
	agentJoined := c.await(typed("ParticipantJoined", "Agent"))
	if agentJoined.From.Nickname != "Alice" || agentJoined.From.ParticipantID == 1 {
		t.Fatalf("agent joined = %+v", agentJoined)
	}
	s.ts.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+chatID+"/typing", tok, map[string]bool{"typing": true}, nil)
	c.await(typed("TypingStarted", "Agent"))

	// The client types with a preview, which the agent sees.
	cur := s.agentCursor(tok, chatID)
	c.op("startTyping", url.Values{"message": {"Where is my"}})
	typing := waitEvent(t, cur, func(e *parley.Event) bool { return e.Type == parley.EventTyping && e.From.Kind == parley.PartyVisitor })
	if !typing.Typing || typing.Text != "Where is my" {
		t.Fatalf("the agent sees typing %+v", typing)
	}
	c.op("stopTyping", nil)

	// Messages both ways; send with transcriptPosition returns the new events.
	sent := c.op("send", url.Values{"message": {"Where is my order?"}, "transcriptPosition": {strconv.FormatInt(c.next, 10)}})
	if len(sent.Messages) == 0 || sent.Messages[len(sent.Messages)-1].Text != "Where is my order?" || sent.Messages[len(sent.Messages)-1].From.Type != "Client" {
		t.Fatalf("send returned %+v", sent.Messages)
	}
	waitEvent(t, cur, func(e *parley.Event) bool { return e.Type == parley.EventMessage && e.Text == "Where is my order?" })
	s.ts.Must(http.StatusCreated, "POST", "/api/v1/chats/"+chatID+"/messages", tok, map[string]string{"text": "On its way."}, nil)
	reply := c.await(typed("Message", "Agent"))
	if reply.Text != "On its way." || reply.Index <= sent.Messages[len(sent.Messages)-1].Index {
		t.Fatalf("agent message = %+v", reply)
	}

	// Files: limits, upload, quota, download, delete.
	lim := c.op("file/limits", nil)
	if len(lim.Messages) != 1 || lim.Messages[0].Text != "file-client-cfg-get" || lim.Messages[0].UserData["upload-max-files"] != "2" ||
		lim.Messages[0].UserData["used-upload-max-files"] != "0" || lim.Messages[0].UserData["upload-file-types"] == "" {
		t.Fatalf("limits = %+v", lim.Messages)
	}
	var ids []string
	for i := range 2 {
		status, up := c.upload("photo"+strconv.Itoa(i)+".png", png(i))
		if status != 200 || up.StatusCode != 0 || up.UserData["file-id"] == "" {
			t.Fatalf("upload %d = %d %+v", i, status, up)
		}
		ids = append(ids, up.UserData["file-id"])
	}
	status, over := c.upload("photo2.png", png(2))
	if status != http.StatusTooManyRequests || over.StatusCode != 2 || over.Errors[0].Code != gms.CodeQuota {
		t.Fatalf("third upload = %d %+v; want the quota refused", status, over)
	}
	up := c.await(func(m message) bool { return m.Type == "FileUploaded" && m.UserData["file-id"] == ids[0] })
	if up.Text != "photo0.png" || up.From.Type != "Client" {
		t.Fatalf("FileUploaded = %+v", up)
	}
	waitEvent(t, cur, func(e *parley.Event) bool { return e.Type == parley.EventFile && e.File.ID == ids[1] })
	resp, err := http.PostForm(c.base+"/"+c.chatID+"/file/"+ids[1]+"/download", c.creds(nil))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, png(1)) || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("download = %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), got)
	}
	c.op("file/"+ids[0]+"/delete", nil)
	del := c.await(typed("FileDeleted", "Client"))
	if del.UserData["file-id"] != ids[0] {
		t.Fatalf("FileDeleted = %+v", del)
	}
	waitEvent(t, cur, func(e *parley.Event) bool {
		return e.Type == parley.EventNotice && e.Notice == conversation.NoticeFileDeleted
	})
	if status, again := c.upload("photo3.png", png(3)); status != 200 || again.StatusCode != 0 {
		t.Fatalf("upload after a delete = %d %+v; the slot comes back", status, again)
	}
	lim = c.op("file/limits", nil)
	if lim.UserData["used-upload-max-files"] != "2" || lim.UserData["used-download-attempts"] != "1" {
		t.Fatalf("limits after use = %+v", lim.UserData)
	}

	// pushUrl and customNotice reach the agent; nickname and data change.
	c.op("pushUrl", url.Values{"pushUrl": {"https://shop.example/orders/42"}})
	pushed := waitEvent(t, cur, func(e *parley.Event) bool { return e.Type == parley.EventURL })
	if pushed.URL != "https://shop.example/orders/42" || pushed.From.Kind != parley.PartyVisitor || pushed.Audience != parley.AudienceAll {
		t.Fatalf("the agent sees the pushed URL as %+v", pushed)
	}
	c.op("customNotice", url.Values{"message": {"cobrowse-request"}})
	notice := waitEvent(t, cur, func(e *parley.Event) bool {
		return e.Type == parley.EventNotice && e.Notice == conversation.NoticeCustom
	})
	if notice.Text != "cobrowse-request" || notice.From.Kind != parley.PartyVisitor {
		t.Fatalf("the agent sees the custom notice as %+v", notice)
	}
	c.op("updateNickname", url.Values{"nickname": {"Ada L."}})
	if nick := c.await(typed("NicknameUpdated", "Client")); nick.Text != "Ada L." || nick.From.Nickname != "Ada L." {
		t.Fatalf("NicknameUpdated = %+v", nick)
	}
	c.op("updateData", url.Values{"userData[OrderID]": {"43"}, "userData[Tier]": {"gold"}})
	s.ts.Must(http.StatusOK, "GET", "/api/v1/chats/"+chatID, tok, nil, &view)
	if view.Visitor.PrivateData != "Subject: Order 42\nOrderID: 43\nTimeZone: -480\nTier: gold" || view.Visitor.Name != "Ada L." {
		t.Fatalf("after updateData the agent sees %+v", view.Visitor)
	}
	c.op("readReceipt", url.Values{"transcriptPosition": {strconv.FormatInt(reply.Index, 10)}})
	seen := waitEvent(t, cur, func(e *parley.Event) bool { return e.Type == parley.EventSeen })
	if seen.Seen != reply.Index {
		t.Fatalf("read receipt = %+v; want up to %d", seen, reply.Index)
	}

	// The agent ends the chat.
	s.ts.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+chatID+"/end", tok, nil, nil)
	left := c.await(typed("ParticipantLeft", "Agent"))
	if left.From.Nickname != "Alice" {
		t.Fatalf("ParticipantLeft = %+v", left)
	}
	if end := c.refresh(); !end.ChatEnded {
		t.Fatalf("refresh after the end = %+v; want chatEnded", end)
	}
	ended := c.fail("send", url.Values{"message": {"hello?"}}, 2, gms.CodeLoggedOut)
	if !ended.ChatEnded {
		t.Fatalf("send after the end = %+v", ended)
	}

	// The whole transcript, from position 1, has 1-based increasing indices.
	all := c.op("refresh", url.Values{"transcriptPosition": {"1"}})
	last := int64(0)
	for _, m := range all.Messages {
		if m.Index < last || m.Index < 1 {
			t.Fatalf("indices go back: %+v", all.Messages)
		}
		last = m.Index
	}
	if data, _ := json.Marshal(all); !contains(string(data), `"chatEnded":true`) {
		t.Fatalf("final envelope %s", data)
	}
}
