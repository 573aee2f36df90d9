package conversation

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// Notice codes of the operations below (dialects that carry them, such
// as Genesys GMS, translate them back to their own event types).
const (
	// NoticeCustom is a custom notice from a party (GMS customNotice):
	// Text is the notice.
	NoticeCustom = "custom"
	// NoticeNickname says the visitor changed its name: Args are the old
	// and the new name.
	NoticeNickname = "nickname"
	// NoticeFileDeleted says a party deleted a file it had sent: Args
	// are the file's ID and name.
	NoticeFileDeleted = "file_deleted"
)

// MaxTypingPreview bounds the preview of a typing notice, in characters;
// a longer preview is cut.
const MaxTypingPreview = 1024

// TypingText is Typing with a preview of the text being typed (GMS
// startTyping's message), shown to the other side. The preview is not
// stored; an invalid one is refused, a long one cut.
func (s *Service) TypingText(ctx context.Context, actor Actor, chatID string, typing bool, preview string) error {
	if !utf8.ValidString(preview) {
		return parley.Errorf(parley.EINVALID, "the typing preview is not valid UTF-8")
	}
	if err := parley.CheckChars("the typing preview", preview, true); err != nil {
		return err
	}
	if utf8.RuneCountInString(preview) > MaxTypingPreview {
		preview = string([]rune(preview)[:MaxTypingPreview])
	}
	if !typing {
		preview = ""
	}
	c, v, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		return err
	}
	s.publish(ctx, parley.Event{
		ChatID: c.ID, Type: parley.EventTyping, At: s.now().UTC(), From: actor.party(v), Typing: typing, Text: preview,
	})
	if actor.IsVisitor() && typing {
		s.visitorActive(c.ID)
	}
	return nil
}

// CustomNotice stores a custom notice from the actor (GMS customNotice),
// which every participant sees.
func (s *Service) CustomNotice(ctx context.Context, actor Actor, chatID, text string) (*parley.Event, error) {
	return s.post(ctx, actor, chatID, "", func(c *parley.Chat, g *parley.Group) (parley.Event, error) {
		text, err := checkText(text, s.limits(g).maxLen)
		return parley.Event{Type: parley.EventNotice, Notice: NoticeCustom, Text: text}, err
	})
}

// ShareURL stores a page address the actor pushes to the other side (GMS
// pushUrl): an EventURL every participant sees.
func (s *Service) ShareURL(ctx context.Context, actor Actor, chatID, url string) (*parley.Event, error) {
	url = strings.TrimSpace(url)
	switch {
	case url == "":
		return nil, parley.Errorf(parley.EINVALID, "a URL is required")
	case !utf8.ValidString(url) || utf8.RuneCountInString(url) > parley.MaxContextURL:
		return nil, parley.Errorf(parley.EINVALID, "the URL is longer than %d characters", parley.MaxContextURL)
	case !parley.WebURL(url):
		return nil, parley.Errorf(parley.EINVALID, "the URL must be an absolute http or https address")
	}
	return s.post(ctx, actor, chatID, "", func(*parley.Chat, *parley.Group) (parley.Event, error) {
		return parley.Event{Type: parley.EventURL, URL: url}, nil
	})
}

// VisitorUpdate changes what the visitor told about itself during a chat;
// nil fields stay.
type VisitorUpdate struct {
	Name *string
	// PrivateData returns the new private data from the current one.
	PrivateData func(current string) string
}

// UpdateVisitor changes the details of the chat's visitor (GMS
// updateNickname and updateData). A new name is announced with a
// NoticeNickname event, which it returns; other changes store no event.
func (s *Service) UpdateVisitor(ctx context.Context, actor Actor, chatID string, u VisitorUpdate) (*parley.Event, error) {
	if !actor.IsVisitor() {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only the visitor changes its details")
	}
	unlock := s.lockChat(chatID)
	defer unlock()
	c, v, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	next := *v
	old := v.Name
	if u.Name != nil {
		next.Name = strings.TrimSpace(*u.Name)
		if next.Name == "" {
			return nil, parley.Errorf(parley.EINVALID, "the name is empty")
		}
	}
	if u.PrivateData != nil {
		next.PrivateData = u.PrivateData(v.PrivateData)
	}
	if err := next.Validate(); err != nil {
		return nil, err
	}
	if s.cfg.IgnoreCustomerDetails {
		next.Name = v.Name
	}
	if next.Name == v.Name && next.PrivateData == v.PrivateData {
		return nil, nil
	}
	if err := s.store.UpdateVisitor(ctx, &next); err != nil {
		return nil, internal("update visitor", err)
	}
	if next.Name == old {
		return nil, nil
	}
	e := parley.Event{
		ChatID: c.ID, Type: parley.EventNotice, At: s.now().UTC(), From: actor.party(&next),
		Notice: NoticeNickname, Args: []string{old, next.Name},
		Text: fmt.Sprintf("%s is now called %s.", nameOr(old, "The visitor"), next.Name),
	}
	stored, err := s.store.AppendEvents(ctx, c.ID, []parley.Event{e})
	if err != nil {
		return nil, internal("append event", err)
	}
	s.publish(ctx, stored...)
	return &stored[0], nil
}

func nameOr(name, other string) string {
	if name == "" {
		return other
	}
	return name
}

// DeleteFile deletes a file the actor sent in the chat (GMS file delete):
// its content is removed, later downloads find nothing, and a
// NoticeFileDeleted event tells the other side.
func (s *Service) DeleteFile(ctx context.Context, actor Actor, chatID, fileID string) (*parley.Event, error) {
	c, _, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if !validID(fileID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "file not found")
	}
	att, err := s.store.Attachment(ctx, fileID)
	if isCode(err, parley.ENOTFOUND) || (err == nil && att.ChatID != c.ID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "file not found")
	} else if err != nil {
		return nil, internal("load attachment", err)
	}
	// Only the party that sent the file deletes it.
	from := actor.party(nil)
	var sent bool
	for after := int64(0); !sent; {
		events, err := s.store.Events(ctx, c.ID, after, cursorPage)
		if err != nil {
			return nil, internal("read events", err)
		}
		for _, e := range events {
			after = e.Seq
			if e.Type == parley.EventFile && e.File != nil && e.File.ID == fileID {
				sent = e.From.Kind == from.Kind && e.From.AgentID == from.AgentID
			}
		}
		if len(events) < cursorPage {
			break
		}
	}
	if !sent {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only who sent a file deletes it")
	}
	if err := s.files.Stat(ctx, att.ChatID, att.ID); errors.Is(err, fs.ErrNotExist) {
		return nil, parley.Errorf(parley.ENOTFOUND, "the file was deleted already")
	}
	e, err := s.post(ctx, actor, chatID, "", func(*parley.Chat, *parley.Group) (parley.Event, error) {
		return parley.Event{Type: parley.EventNotice, Notice: NoticeFileDeleted, Args: []string{att.ID, att.Name},
			Text: fmt.Sprintf("%s was deleted.", att.Name)}, nil
	})
	if err != nil {
		return nil, err
	}
	s.removeFile(ctx, att)
	return e, nil
}
