package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/httpapi"
)

// TestRatingsInViewsAndKPIs rates chats with known scores and checks the
// exact CSAT (share of 4 and 5) and mean, and that the chat view and the
// archive carry each rating.
func TestRatingsInViewsAndKPIs(t *testing.T) {
	s := newServer(t, conversation.Config{}, 10)
	admin := s.login("admin")
	s.presence(s.login("agent1"), "available")
	scores := []int{5, 4, 2, 5, 1} // 3 of 5 satisfied: CSAT 0.6, mean 3.4
	var ids []string
	for i, score := range scores {
		st := s.requestChat(1, "Visitor")
		s.must(204, "POST", "/api/v1/chats/"+st.Chat.ID+"/leave", st.VisitorToken, nil, nil)
		s.must(201, "POST", "/api/v1/chats/"+st.Chat.ID+"/rating", st.VisitorToken,
			map[string]any{"score": score, "comment": strings.Repeat("!", i)}, nil)
		ids = append(ids, st.Chat.ID)
	}
	unrated := s.requestChat(2, "Quiet")
	s.must(204, "POST", "/api/v1/chats/"+unrated.Chat.ID+"/leave", unrated.VisitorToken, nil, nil)

	var rep conversation.KPIReport
	s.must(200, "GET", "/api/v1/supervisor/kpis", admin, nil, &rep)
	if k := rep.Total; k.Rated != 5 || k.Satisfied != 3 || k.CSAT != 0.6 || k.AverageRating != 3.4 {
		t.Errorf("total: rated %d satisfied %d csat %v mean %v; want 5, 3, 0.6, 3.4", k.Rated, k.Satisfied, k.CSAT, k.AverageRating)
	}
	var rated, satisfied int
	for _, b := range rep.Total.Buckets {
		rated += b.Rated
		satisfied += b.Satisfied
	}
	if rated != 5 || satisfied != 3 {
		t.Errorf("buckets: rated %d satisfied %d; want 5 and 3", rated, satisfied)
	}
	for _, g := range rep.Groups {
		switch {
		case g.GroupID == 1 && (g.CSAT != 0.6 || g.Rated != 5):
			t.Errorf("Support: csat %v of %d", g.CSAT, g.Rated)
		case g.GroupID == 2 && (g.CSAT != -1 || g.Rated != 0):
			t.Errorf("Sales has no rating: csat %v of %d, want -1 of 0", g.CSAT, g.Rated)
		}
	}

	var view conversation.ChatView
	s.must(200, "GET", "/api/v1/chats/"+ids[3], admin, nil, &view)
	if view.Rating == nil || view.Rating.Score != 5 || view.Rating.Comment != "!!!" {
		t.Errorf("chat view rating %+v, want 5 with !!!", view.Rating)
	}
	var res conversation.ArchiveResult
	s.must(200, "GET", "/api/v1/archive", admin, nil, &res)
	byID := map[string]*parley.Rating{}
	for _, e := range res.Chats {
		byID[e.ID] = e.Rating
	}
	for i, id := range ids {
		if r := byID[id]; r == nil || r.Score != scores[i] {
			t.Errorf("archive rating of chat %d: %+v, want %d", i, r, scores[i])
		}
	}
	if r, ok := byID[unrated.Chat.ID]; !ok || r != nil {
		t.Errorf("unrated chat in the archive: listed %v, rating %+v", ok, r)
	}
	// The agents' log has the rating as a notice the visitor never sees.
	var agentLog httpapi.EventsBody
	s.must(200, "GET", "/api/v1/chats/"+ids[1]+"/events", admin, nil, &agentLog)
	found := false
	for _, e := range agentLog.Events {
		if e.Type == parley.EventNotice && e.Notice == parley.NoticeRated && len(e.Args) == 2 && e.Args[0] == "4" && e.Audience == parley.AudienceAgents {
			found = true
		}
	}
	if !found {
		t.Errorf("no rated notice for agents in %+v", agentLog.Events)
	}
}

// TestArchiveSnippet finds a chat by a word and gets the message around it.
func TestArchiveSnippet(t *testing.T) {
	s := newServer(t, conversation.Config{}, 10)
	admin := s.login("admin")
	s.presence(s.login("agent1"), "available")
	st := s.requestChat(1, "Vera")
	long := strings.Repeat("lorem ipsum ", 10) + "my parcel <b>number</b> is 4711 and it has not arrived " + strings.Repeat("dolor sit ", 12)
	s.must(201, "POST", "/api/v1/chats/"+st.Chat.ID+"/messages", st.VisitorToken, map[string]any{"text": long}, nil)
	var res conversation.ArchiveResult
	s.must(200, "GET", "/api/v1/archive?text="+url.QueryEscape("PARCEL"), admin, nil, &res)
	if len(res.Chats) != 1 {
		t.Fatalf("%d chats match", len(res.Chats))
	}
	sn := res.Chats[0].Snippet
	if !strings.Contains(sn, "my parcel <b>number</b> is 4711") || !strings.HasPrefix(sn, "…") || !strings.HasSuffix(sn, "…") || len([]rune(sn)) > 40+6+80+2 {
		t.Errorf("snippet %q", sn)
	}
	var all conversation.ArchiveResult
	s.must(200, "GET", "/api/v1/archive", admin, nil, &all)
	if all.Chats[0].Snippet != "" {
		t.Errorf("snippet without a text search: %q", all.Chats[0].Snippet)
	}
}

// TestVisitorContext sends the page and browser with the chat request and
// a page change; agents see both as url events, the visitor neither.
func TestVisitorContext(t *testing.T) {
	s := newServer(t, conversation.Config{}, 10)
	agent := s.login("agent1")
	s.presence(agent, "available")
	ctx := map[string]any{"url": "https://shop.example/cart?id=7", "title": "Cart", "referrer": "https://search.example/?q=x",
		"user_agent": "Mozilla/5.0 Firefox/133.0", "language": "de-DE", "time_zone": "Europe/Berlin"}
	var st httpapi.ChatStartedBody
	s.must(201, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera", "message": "hi", "context": ctx}, &st)
	page := "/api/v1/chats/" + st.Chat.ID + "/page"
	s.must(201, "POST", page, st.VisitorToken, map[string]any{"url": "https://shop.example/checkout", "title": "Checkout"}, nil)
	for _, bad := range []map[string]any{
		{"url": "javascript:alert(1)"},
		{"url": ""},
		{"url": "/relative"},
		{"url": "https://x.example/", "title": strings.Repeat("t", 301)},
		{"url": "https://x.example/", "title": "a\x07b"},
	} {
		s.fail(400, "invalid", "POST", page, st.VisitorToken, bad)
	}
	s.fail(403, "forbidden", "POST", page, agent, map[string]any{"url": "https://x.example/"})
	for _, bad := range []map[string]any{{"referrer": "data:text/html,x"}, {"time_zone": "../etc"}, {"language": strings.Repeat("x", 40)}} {
		s.fail(400, "invalid", "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "X", "context": bad})
	}

	var log httpapi.EventsBody
	s.must(200, "GET", "/api/v1/chats/"+st.Chat.ID+"/events", agent, nil, &log)
	var urls []parley.Event
	for _, e := range log.Events {
		if e.Type == parley.EventURL {
			urls = append(urls, e)
		}
	}
	if len(urls) != 2 {
		t.Fatalf("%d url events for agents, want 2", len(urls))
	}
	first, next := urls[0].Context, urls[1].Context
	if first == nil || first.URL != ctx["url"] || first.UserAgent != ctx["user_agent"] || first.TimeZone != "Europe/Berlin" || first.Referrer != ctx["referrer"] || first.Language != "de-DE" {
		t.Errorf("first context %+v", first)
	}
	if next == nil || next.URL != "https://shop.example/checkout" || next.Title != "Checkout" || urls[1].Audience != parley.AudienceAgents {
		t.Errorf("page change %+v", urls[1])
	}
	var vlog httpapi.EventsBody
	s.must(200, "GET", "/api/v1/chats/"+st.Chat.ID+"/events", st.VisitorToken, nil, &vlog)
	for _, e := range vlog.Events {
		if e.Type == parley.EventURL {
			t.Errorf("the visitor sees its own context: %+v", e)
		}
	}
}
