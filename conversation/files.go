package conversation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// SendFile stores an attachment from the actor and adds it to the chat.
// The name's extension and the content's real type must both pass the
// allowed or restricted list, and a content that contradicts its name
// (an executable named .png) is refused.
func (s *Service) SendFile(ctx context.Context, actor Actor, chatID, name string, content io.Reader) (*parley.Event, error) {
	name, ext, err := cleanFileName(name)
	if err != nil {
		return nil, err
	}
	// Check access and limits before reading the body, and read it without
	// holding the chat's lock: uploads can be slow.
	c, _, err := s.writableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	g, err := s.store.Group(ctx, c.GroupID)
	if err != nil {
		return nil, internal("load group", err)
	}
	lim := s.limits(g)
	if lim.maxFileKB < 0 {
		return nil, parley.Errorf(parley.EFORBIDDEN, "attachments are turned off")
	}
	if err := s.typeAllowed(ext); err != nil {
		return nil, err
	}
	att, err := s.storeFile(ctx, c.ID, name, ext, content, int64(lim.maxFileKB)*1024)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateAttachment(ctx, att); err != nil {
		s.removeFile(ctx, att)
		return nil, internal("record attachment", err)
	}
	e, err := s.post(ctx, actor, chatID, "", func(*parley.Chat, *parley.Group) (parley.Event, error) {
		return parley.Event{Type: parley.EventFile, Text: name, File: att}, nil
	})
	if err != nil {
		s.removeFile(ctx, att)
	}
	return e, err
}

// OpenFile returns an attachment of a chat the actor may read, and its
// content.
func (s *Service) OpenFile(ctx context.Context, actor Actor, chatID, fileID string) (*parley.Attachment, io.ReadSeekCloser, error) {
	if _, err := s.readableChat(ctx, actor, chatID); err != nil {
		return nil, nil, err
	}
	if !validID(fileID) {
		return nil, nil, parley.Errorf(parley.ENOTFOUND, "file not found")
	}
	att, err := s.store.Attachment(ctx, fileID)
	if err != nil {
		return nil, nil, internal("load attachment", err)
	}
	if att.ChatID != chatID {
		return nil, nil, parley.Errorf(parley.ENOTFOUND, "file not found")
	}
	f, err := s.files.Open(ctx, att.ChatID, att.ID)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, parley.Errorf(parley.ENOTFOUND, "the file was deleted") // DeleteFile
	} else if err != nil {
		return nil, nil, internal("open attachment", err)
	}
	return att, f, nil
}

func (s *Service) removeFile(ctx context.Context, att *parley.Attachment) {
	if err := s.files.Remove(context.WithoutCancel(ctx), att.ChatID, att.ID); err != nil {
		s.log.Warn("remove attachment", "file", att.ID, "err", err)
	}
}

// storeFile copies content (at most limit bytes) into the files store,
// checking its type, and returns the record to store.
func (s *Service) storeFile(ctx context.Context, chatID, name, ext string, content io.Reader, limit int64) (*parley.Attachment, error) {
	tmp, err := s.files.Create(ctx, chatID)
	if err != nil {
		return nil, internal("create upload", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Abort()
		}
	}()
	sum := sha256.New()
	head := &headBuffer{max: 4096}
	n, err := io.Copy(io.MultiWriter(tmp, sum, head), io.LimitReader(content, limit+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || n > limit:
		return nil, parley.Errorf(parley.ETOOLARGE, "the file is larger than the limit of %d KB", limit/1024)
	case err != nil:
		return nil, parley.Errorf(parley.EINVALID, "the upload was interrupted")
	case n == 0:
		return nil, parley.Errorf(parley.EINVALID, "the file is empty")
	}
	kind := sniff(head.Bytes())
	if err := matchContent(ext, kind); err != nil {
		return nil, err
	}
	if kind.ext != "" && kind.ext != ext {
		// An executable or archive under another name is judged as what
		// it really is.
		if err := s.typeAllowed(kind.ext); err != nil {
			return nil, err
		}
	}
	att := &parley.Attachment{
		ID: newID(), ChatID: chatID, Name: name, ContentType: kind.mime, Size: n,
		SHA256: hex.EncodeToString(sum.Sum(nil)),
	}
	committed = true // Commit drops the upload when it fails
	if err := tmp.Commit(att.ID); err != nil {
		return nil, internal("store upload", err)
	}
	return att, nil
}

// typeAllowed applies the allowed list, or else the restricted list.
func (s *Service) typeAllowed(ext string) error {
	if len(s.cfg.AllowedAttachmentTypes) > 0 {
		if !slices.Contains(s.cfg.AllowedAttachmentTypes, ext) {
			return parley.Errorf(parley.EINVALID, "files of type .%s are not allowed", ext)
		}
		return nil
	}
	if slices.Contains(s.cfg.RestrictedAttachmentTypes, ext) {
		return parley.Errorf(parley.EINVALID, "files of type .%s are not allowed", ext)
	}
	return nil
}

// cleanFileName keeps the base name and returns its lower-case extension.
func cleanFileName(name string) (string, string, error) {
	name = strings.TrimSpace(filepath.Base(strings.ReplaceAll(name, `\`, "/")))
	switch {
	case name == "" || name == "." || name == "/":
		return "", "", parley.Errorf(parley.EINVALID, "a file name is required")
	case !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool {
		// Format characters (e.g. right-to-left overrides) can disguise
		// "gpj.exe" as "exe.jpg".
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}) >= 0:
		return "", "", parley.Errorf(parley.EINVALID, "the file name contains invalid characters")
	case utf8.RuneCountInString(name) > 255:
		return "", "", parley.Errorf(parley.EINVALID, "the file name is longer than 255 characters")
	}
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	if ext == "" {
		return "", "", parley.Errorf(parley.EINVALID, "the file name needs an extension")
	}
	return name, ext, nil
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	bytes.Buffer
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - h.Len(); room > 0 {
		h.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// fileKind is what a file's first bytes say it is.
type fileKind struct {
	family string // signature family, "" when unknown
	ext    string // the extension that family implies for list checks
	mime   string // the content type it is served with
}

var signatures = []struct {
	magic  string
	offset int
	kind   fileKind
}{
	{"MZ", 0, fileKind{"exe", "exe", "application/octet-stream"}},
	{"\x7fELF", 0, fileKind{"exe", "exe", "application/octet-stream"}},
	{"\xcf\xfa\xed\xfe", 0, fileKind{"exe", "exe", "application/octet-stream"}},
	{"\xfe\xed\xfa\xcf", 0, fileKind{"exe", "exe", "application/octet-stream"}},
	{"\xca\xfe\xba\xbe", 0, fileKind{"exe", "exe", "application/octet-stream"}},
	{"\x89PNG\r\n\x1a\n", 0, fileKind{"png", "", "image/png"}},
	{"\xff\xd8\xff", 0, fileKind{"jpeg", "", "image/jpeg"}},
	{"GIF87a", 0, fileKind{"gif", "", "image/gif"}},
	{"GIF89a", 0, fileKind{"gif", "", "image/gif"}},
	{"WEBP", 8, fileKind{"webp", "", "image/webp"}},
	{"BM", 0, fileKind{"bmp", "", "image/bmp"}},
	{"%PDF-", 0, fileKind{"pdf", "", "application/pdf"}},
	{"PK\x03\x04", 0, fileKind{"zip", "", "application/zip"}},
	{"PK\x05\x06", 0, fileKind{"zip", "", "application/zip"}},
	{"\x1f\x8b", 0, fileKind{"gzip", "", "application/gzip"}},
	{"Rar!\x1a\x07", 0, fileKind{"rar", "", "application/vnd.rar"}},
	{"7z\xbc\xaf\x27\x1c", 0, fileKind{"7z", "", "application/x-7z-compressed"}},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, fileKind{"ole", "", "application/octet-stream"}},
	{"ftyp", 4, fileKind{"mp4", "", "video/mp4"}},
	{"OggS", 0, fileKind{"ogg", "", "audio/ogg"}},
	{"ID3", 0, fileKind{"mp3", "", "audio/mpeg"}},
	{"\x1a\x45\xdf\xa3", 0, fileKind{"webm", "", "video/webm"}},
}

// sniff identifies content by its signature, then by whether it is text.
func sniff(head []byte) fileKind {
	for _, sig := range signatures {
		if len(head) >= sig.offset+len(sig.magic) && string(head[sig.offset:sig.offset+len(sig.magic)]) == sig.magic {
			if sig.kind.family == "webp" && !bytes.HasPrefix(head, []byte("RIFF")) {
				continue
			}
			return sig.kind
		}
	}
	if looksLikeText(head) {
		return fileKind{family: "text", mime: "text/plain; charset=utf-8"}
	}
	return fileKind{mime: "application/octet-stream"}
}

func looksLikeText(b []byte) bool {
	// Cut a possibly split rune at the end of the sample.
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r == 0 || (unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' && r != '\f') {
			return false
		}
	}
	return true
}

// expectedFamily lists, per extension, the signature families its content
// may have. Extensions not listed are accepted with any content that is
// not an executable.
var expectedFamily = map[string][]string{
	"png": {"png"}, "jpg": {"jpeg"}, "jpeg": {"jpeg"}, "gif": {"gif"}, "webp": {"webp"},
	"bmp": {"bmp"}, "pdf": {"pdf"}, "zip": {"zip"}, "gz": {"gzip"}, "tgz": {"gzip"},
	"docx": {"zip"}, "xlsx": {"zip"}, "pptx": {"zip"}, "odt": {"zip"}, "ods": {"zip"}, "odp": {"zip"},
	"doc": {"ole"}, "xls": {"ole"}, "ppt": {"ole"}, "msg": {"ole"},
	"rar": {"rar"}, "7z": {"7z"}, "mp4": {"mp4"}, "m4a": {"mp4"}, "mov": {"mp4"},
	"ogg": {"ogg"}, "oga": {"ogg"}, "mp3": {"mp3"}, "webm": {"webm"},
	"txt": {"text"}, "csv": {"text"}, "log": {"text"}, "md": {"text"}, "json": {"text"},
	"xml": {"text"}, "html": {"text"}, "htm": {"text"},
	"exe": {"exe"}, "dll": {"exe"}, "com": {"exe", "text", ""},
}

// matchContent refuses a file whose content contradicts its extension.
func matchContent(ext string, kind fileKind) error {
	want, known := expectedFamily[ext]
	if known && !slices.Contains(want, kind.family) {
		// MP3 files often start with a frame sync instead of ID3.
		if ext == "mp3" && kind.family == "" {
			return nil
		}
		return parley.Errorf(parley.EINVALID, "the content of the file is not %s", describe(ext))
	}
	if !known && kind.family == "exe" {
		return parley.Errorf(parley.EINVALID, "the content of the file is not .%s", ext)
	}
	return nil
}

func describe(ext string) string {
	return fmt.Sprintf("a .%s file", ext)
}
