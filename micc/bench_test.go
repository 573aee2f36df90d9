package micc_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// BenchmarkGetEvents is one GetEvents call of a chat's customer: with an
// agent's message waiting (the call delivers it and moves the stored
// position), and with nothing new (Timeout 0: the position is read, not
// written). The message is sent through the native API outside the
// timer.
func BenchmarkGetEvents(b *testing.B) {
	s := newServer(b, quiet)
	agent := s.login()
	s.presence(agent, "available", "ready")
	body, _ := json.Marshal(map[string]any{"request": map[string]any{"TenantID": -1, "ServiceGroupName": "Support", "CustomerName": "Bea"}})
	var started struct{ ChatID *string }
	post(b, s.URL+"/ChatService/RequestChat", body, &started)
	chatID := *started.ChatID
	id := parleyID(chatID)
	if got := s.offeredChat(agent); got != id {
		b.Fatalf("offered %s, want %s", got, id)
	}
	s.native(200, "POST", "/api/v1/chats/"+id+"/accept", agent, nil)
	poll := func(timeout int) int {
		req, _ := json.Marshal(map[string]any{"request": map[string]any{"ChatID": chatID, "Timeout": timeout}})
		var res struct{ Events []chatEvent }
		post(b, s.URL+"/ChatService/GetEvents", req, &res)
		return len(res.Events)
	}
	for poll(0) > 0 {
	}
	b.Run("message", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s.native(201, "POST", "/api/v1/chats/"+id+"/messages", agent, map[string]string{"text": "hello"})
			b.StartTimer()
			if n := poll(5000); n != 1 {
				b.Fatalf("GetEvents returned %d events; want the message", n)
			}
		}
	})
	b.Run("nothing", func(b *testing.B) {
		for b.Loop() {
			if n := poll(0); n != 0 {
				b.Fatalf("GetEvents returned %d events; want none", n)
			}
		}
	})
}

func post(b *testing.B, url string, body []byte, out any) {
	b.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.Fatalf("%s = %d %s", url, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		b.Fatal(err)
	}
}
