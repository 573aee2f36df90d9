package rocketchat_test

import (
	"testing"

	"github.com/parleychat/parley/rocketchat"
)

// The DDP frame decoder takes any bytes without panicking; what it
// accepts has a msg.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"msg":"connect","version":"1","support":["1","pre2","pre1"]}`,
		`{"msg":"ping","id":"7"}`,
		`{"msg":"method","id":"1","method":"sendMessageLivechat","params":[{"_id":"a","rid":"r","msg":"m","token":"t"}]}`,
		`{"msg":"sub","id":"s","name":"stream-room-messages","params":["r",{"useCollection":false,"args":[{"token":"t"}]}]}`,
		`{"msg":`, `[]`, `{"msg":1}`, `{"msg":"x"} {"msg":"y"}`, "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := rocketchat.DecodeFrame(data)
		if err == nil && fr.Msg == "" {
			t.Fatalf("accepted a frame without msg: %q", data)
		}
	})
}

// The REST body decoder refuses what is not one JSON object of the right
// types, without panicking.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"visitor":{"token":"t","name":"n","customFields":[{"key":"k","value":"v"}]}}`,
		`{"token":"t","rid":"r","msg":"m","_id":"i"}`,
		`{"token":"t","rid":"r","data":[{"name":"satisfaction","value":"5"}]}`,
		`{"token":5}`, `null`, `{}{}`, `{"visitor":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v struct {
			Token   string `json:"token"`
			RID     string `json:"rid"`
			Msg     string `json:"msg"`
			Visitor struct {
				Token string `json:"token"`
			} `json:"visitor"`
			Data []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"data"`
		}
		_ = rocketchat.DecodeBody(data, &v)
	})
}
