package conversation_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

func TestAttachments(t *testing.T) {
	f := newFixture(t, conversation.Config{MaxAttachmentKB: 1})
	ctx := context.Background()
	f.available(f.alice)
	chatID, visitor := f.request(1, "Vera")

	e, err := f.svc.SendFile(ctx, visitor, chatID, `C:\Users\vera\pixel.png`, bytes.NewReader(pngHeader))
	if err != nil {
		t.Fatal(err)
	}
	att := e.File
	sum := sha256.Sum256(pngHeader)
	if e.Type != parley.EventFile || att.Name != "pixel.png" || att.Size != int64(len(pngHeader)) ||
		att.ContentType != "image/png" || att.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("file event = %+v, file %+v", e, att)
	}
	onDisk, err := os.ReadFile(filepath.Join(f.dir, "files", chatID, att.ID))
	if err != nil || !bytes.Equal(onDisk, pngHeader) {
		t.Fatalf("stored file = %q, %v", onDisk, err)
	}
	got, r, err := f.svc.OpenFile(ctx, visitor, chatID, att.ID)
	if err != nil {
		t.Fatal(err)
	}
	content, _ := io.ReadAll(r)
	r.Close()
	if got.ID != att.ID || !bytes.Equal(content, pngHeader) {
		t.Fatalf("OpenFile = %+v %q", got, content)
	}

	other, otherVisitor := f.request(1, "Otto")
	if _, _, err := f.svc.OpenFile(ctx, otherVisitor, chatID, att.ID); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("another visitor opening the file: %v; want forbidden", err)
	}
	if _, _, err := f.svc.OpenFile(ctx, otherVisitor, other, att.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("the file through another chat: %v; want not found", err)
	}

	before := f.chat(chatID).LastSeq
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0}, 64)...)
	tests := []struct {
		name    string
		content []byte
		code    string
	}{
		{"big.txt", bytes.Repeat([]byte("a"), 1025), parley.ETOOLARGE},
		{"setup.exe", exe, parley.EINVALID},
		{"SETUP.EXE", []byte("hello"), parley.EINVALID},
		{"holiday.png", exe, parley.EINVALID}, // an executable renamed
		{"notes.dat", exe, parley.EINVALID},   // an executable under an unknown name
		{"fake.png", []byte("just text"), parley.EINVALID},
		{"empty.txt", nil, parley.EINVALID},
		{"noextension", []byte("hello"), parley.EINVALID},
		{"", []byte("hello"), parley.EINVALID},
		{"bad\x01name.txt", []byte("hello"), parley.EINVALID},
	}
	for _, tt := range tests {
		_, err := f.svc.SendFile(ctx, visitor, chatID, tt.name, bytes.NewReader(tt.content))
		if parley.ErrorCode(err) != tt.code {
			t.Errorf("SendFile(%q) = %v; want code %s", tt.name, err, tt.code)
		}
	}
	if after := f.chat(chatID).LastSeq; after != before {
		t.Fatalf("refused files changed the log: %d → %d", before, after)
	}
	entries, _ := os.ReadDir(filepath.Join(f.dir, "files", chatID))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files dir holds %v; refused uploads must leave nothing", names)
	}
	if _, err := f.svc.SendFile(ctx, visitor, chatID, "notes.txt", strings.NewReader("plain notes\n")); err != nil {
		t.Fatalf("a text file: %v", err)
	}
}

func TestAttachmentLists(t *testing.T) {
	ctx := context.Background()
	t.Run("allowed list", func(t *testing.T) {
		f := newFixture(t, conversation.Config{AllowedAttachmentTypes: []string{"PNG", ".txt"}})
		f.available(f.alice)
		chatID, visitor := f.request(1, "Vera")
		if _, err := f.svc.SendFile(ctx, visitor, chatID, "a.png", bytes.NewReader(pngHeader)); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.SendFile(ctx, visitor, chatID, "a.pdf", strings.NewReader("%PDF-1.7"))
		wantCode(t, err, parley.EINVALID)
	})
	t.Run("turned off", func(t *testing.T) {
		f := newFixture(t, conversation.Config{MaxAttachmentKB: -1})
		f.available(f.alice)
		chatID, visitor := f.request(1, "Vera")
		_, err := f.svc.SendFile(ctx, visitor, chatID, "a.png", bytes.NewReader(pngHeader))
		wantCode(t, err, parley.EFORBIDDEN)
	})
}
