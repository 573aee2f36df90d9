package conversation_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// TestVisitorOperations: custom notices, shared URLs, the visitor's new
// name and data, typing previews and file deletion, with what each
// refuses.
func TestVisitorOperations(t *testing.T) {
	f := newFixture(t, conversation.Config{MaxAttachmentKB: 1})
	ctx := context.Background()
	f.available(f.alice)
	chatID, visitor := f.request(1, "Vera")
	if _, err := f.svc.Accept(ctx, f.alice, chatID); err != nil {
		t.Fatal(err)
	}

	n, err := f.svc.CustomNotice(ctx, visitor, chatID, "cobrowse-request")
	if err != nil || n.Type != parley.EventNotice || n.Notice != conversation.NoticeCustom || n.Text != "cobrowse-request" || n.From.Kind != parley.PartyVisitor {
		t.Fatalf("CustomNotice = %+v, %v", n, err)
	}
	u, err := f.svc.ShareURL(ctx, visitor, chatID, " https://shop.example/a ")
	if err != nil || u.Type != parley.EventURL || u.URL != "https://shop.example/a" || u.Audience != parley.AudienceAll || u.Context != nil {
		t.Fatalf("ShareURL = %+v, %v", u, err)
	}
	name := "Vera L."
	nick, err := f.svc.UpdateVisitor(ctx, visitor, chatID, conversation.VisitorUpdate{Name: &name,
		PrivateData: func(cur string) string { return cur + "Tier: gold" }})
	if err != nil || nick.Notice != conversation.NoticeNickname || strings.Join(nick.Args, "|") != "Vera|Vera L." || nick.From.Name != "Vera L." {
		t.Fatalf("UpdateVisitor = %+v, %v", nick, err)
	}
	if v, err := f.svc.Chat(ctx, f.alice, chatID); err != nil || v.Visitor.Name != "Vera L." || !strings.HasSuffix(v.Visitor.PrivateData, "Tier: gold") {
		t.Fatalf("the agent sees %+v, %v", v.Visitor, err)
	}
	same, err := f.svc.UpdateVisitor(ctx, visitor, chatID, conversation.VisitorUpdate{Name: &name})
	if err != nil || same != nil {
		t.Fatalf("the same name again = %+v, %v; want no event", same, err)
	}

	before := f.chat(chatID).LastSeq
	empty, bad, long := "  ", "a\x07b", strings.Repeat("x", 300)
	refused := []struct {
		what string
		err  error
	}{
		{"an empty notice", func() error { _, err := f.svc.CustomNotice(ctx, visitor, chatID, " "); return err }()},
		{"a script URL", func() error { _, err := f.svc.ShareURL(ctx, visitor, chatID, "javascript:alert(1)"); return err }()},
		{"a relative URL", func() error { _, err := f.svc.ShareURL(ctx, visitor, chatID, "/orders"); return err }()},
		{"an empty name", func() error {
			_, err := f.svc.UpdateVisitor(ctx, visitor, chatID, conversation.VisitorUpdate{Name: &empty})
			return err
		}()},
		{"a control character", func() error {
			_, err := f.svc.UpdateVisitor(ctx, visitor, chatID, conversation.VisitorUpdate{Name: &bad})
			return err
		}()},
		{"a long name", func() error {
			_, err := f.svc.UpdateVisitor(ctx, visitor, chatID, conversation.VisitorUpdate{Name: &long})
			return err
		}()},
		{"an agent renaming the visitor", func() error {
			_, err := f.svc.UpdateVisitor(ctx, f.alice, chatID, conversation.VisitorUpdate{Name: &name})
			return err
		}()},
		{"a preview with control characters", f.svc.TypingText(ctx, visitor, chatID, true, "a\x00b")},
	}
	for _, r := range refused {
		if r.err == nil {
			t.Errorf("%s was accepted", r.what)
		} else if c := parley.ErrorCode(r.err); c != parley.EINVALID && c != parley.EFORBIDDEN {
			t.Errorf("%s: %v", r.what, r.err)
		}
	}
	if after := f.chat(chatID).LastSeq; after != before {
		t.Fatalf("refusals stored events: last seq %d → %d", before, after)
	}
	if err := f.svc.TypingText(ctx, visitor, chatID, true, strings.Repeat("é", conversation.MaxTypingPreview+10)); err != nil {
		t.Fatalf("a long preview is cut, not refused: %v", err)
	}

	// Files: only who sent one deletes it.
	vf, err := f.svc.SendFile(ctx, visitor, chatID, "pixel.png", bytes.NewReader(pngHeader))
	if err != nil {
		t.Fatal(err)
	}
	af, err := f.svc.SendFile(ctx, f.alice, chatID, "reply.txt", strings.NewReader("the answer"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DeleteFile(ctx, f.alice, chatID, vf.File.ID); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("the agent deleting the visitor's file: %v", err)
	}
	if _, err := f.svc.DeleteFile(ctx, visitor, chatID, af.File.ID); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Fatalf("the visitor deleting the agent's file: %v", err)
	}
	other, otherVisitor := f.request(1, "Otto")
	if _, err := f.svc.DeleteFile(ctx, otherVisitor, other, vf.File.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("the file through another chat: %v", err)
	}
	del, err := f.svc.DeleteFile(ctx, visitor, chatID, vf.File.ID)
	if err != nil || del.Notice != conversation.NoticeFileDeleted || del.Args[0] != vf.File.ID {
		t.Fatalf("DeleteFile = %+v, %v", del, err)
	}
	if _, _, err := f.svc.OpenFile(ctx, f.alice, chatID, vf.File.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("opening a deleted file: %v; want not found", err)
	}
	if _, err := f.svc.DeleteFile(ctx, visitor, chatID, vf.File.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, _, err := f.svc.OpenFile(ctx, visitor, chatID, af.File.ID); err != nil {
		t.Fatalf("the agent's file is still there: %v", err)
	}
}
