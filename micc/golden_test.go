package micc_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

var isoUTC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestGolden runs every method with the requests in testdata/golden and
// compares the answers with the responses there, which follow the type
// tables of the reference. "<ChatID>" stands for the ChatID RequestChat
// returned, "<TimeStamp>" for an ISO-8601 UTC time, "<Version>" for the
// server version. An empty response file means 204 without a body.
func TestGolden(t *testing.T) {
	s := newServer(t, conversation.Config{QueuePush: 1 << 62})
	var agent, chatID, nativeID string
	before := map[string]func(){
		"03_GetQueueInfo": func() {
			agent = s.login()
			s.presence(agent, "available", "not_ready")
		},
		"12_GetEvents_handling": func() {
			s.presence(agent, "available", "ready")
			nativeID = s.offeredChat(agent)
			if nativeID != parleyID(chatID) {
				t.Fatalf("offered %s, want the chat %s", nativeID, chatID)
			}
			s.native(200, "POST", "/api/v1/chats/"+nativeID+"/accept", agent, nil)
			s.native(201, "POST", "/api/v1/chats/"+nativeID+"/messages", agent, map[string]string{"text": "How can I help?"})
		},
		"15_GetEvents_attachment": func() {
			got, out := s.do("POST", "/api/v1/chats/"+nativeID+"/files?name=reply.txt", agent, []byte("the answer\n"))
			if got != 201 {
				t.Fatalf("upload = %d %s", got, out)
			}
		},
	}
	status := map[string]int{
		"07_RequestChat_no_group":           400,
		"16_SendMessage_oversize":           413,
		"17_SendMessage_refused_attachment": 400,
		"18_GetChatInfo_unknown":            404,
	}

	files, err := filepath.Glob("testdata/golden/*.request.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".request.json")
		method := strings.Split(name, "_")[1]
		if fn := before[name]; fn != nil {
			fn()
		}
		req := read(t, f)
		req = bytes.ReplaceAll(req, []byte("<ChatID>"), []byte(chatID))
		code, body := s.do("POST", "/ChatService/"+method, "", req)
		want := bytes.TrimSpace(read(t, strings.Replace(f, ".request.", ".response.", 1)))
		wantCode := status[name]
		switch {
		case wantCode != 0:
		case len(want) == 0:
			wantCode = 204
		default:
			wantCode = 200
		}
		if code != wantCode {
			t.Fatalf("%s: status %d %s; want %d", name, code, body, wantCode)
		}
		if len(want) == 0 {
			if len(body) != 0 {
				t.Fatalf("%s: body %s; want none", name, body)
			}
			continue
		}
		var got any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: %q is not JSON: %v", name, body, err)
		}
		if method == "RequestChat" && chatID == "" {
			if m, ok := got.(map[string]any); ok {
				if id, ok := m["ChatID"].(string); ok {
					chatID = id
				}
			}
		}
		got = placeholders(t, name, got, chatID)
		var exp any
		if err := json.Unmarshal(bytes.ReplaceAll(want, []byte("<Version>"), []byte(parley.Version)), &exp); err != nil {
			t.Fatalf("%s: bad golden file: %v", name, err)
		}
		if !reflect.DeepEqual(got, exp) {
			g, _ := json.MarshalIndent(got, "", "  ")
			t.Fatalf("%s:\n got %s\nwant %s", name, g, want)
		}
	}
	if chatID == "" {
		t.Fatal("RequestChat gave no ChatID")
	}
}

// placeholders replaces the values that differ from run to run.
func placeholders(t *testing.T, name string, v any, chatID string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch s, _ := val.(string); {
			case k == "ChatID" && s != "" && s == chatID:
				x[k] = "<ChatID>"
			case k == "ChatID" && s != "":
				t.Fatalf("%s: ChatID %q is not the requested chat's %q", name, s, chatID)
			case k == "TimeStamp":
				if !isoUTC.MatchString(s) {
					t.Fatalf("%s: TimeStamp %q is not ISO-8601 UTC", name, s)
				}
				x[k] = "<TimeStamp>"
			default:
				x[k] = placeholders(t, name, val, chatID)
			}
		}
	case []any:
		for i := range x {
			x[i] = placeholders(t, name, x[i], chatID)
		}
	}
	return v
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
