package gms

import (
	"context"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// FileLimits are the file quotas of one chat session, with the keys GMS
// reports them under.
type FileLimits struct {
	// MaxFiles is upload-max-files: files the client may upload (5).
	MaxFiles int
	// MaxFileSize is upload-max-file-size in bytes: the server's
	// attachment limit.
	MaxFileSize int64
	// MaxTotalSize is upload-max-total-size in bytes (3 × MaxFileSize).
	MaxTotalSize int64
	// DownloadAttempts is download-attempts: downloads per session (20).
	DownloadAttempts int
	// NoAgentNeeded turns off upload-need-agent, which refuses uploads
	// until an agent has joined.
	NoAgentNeeded bool
	// FileTypes is upload-file-types: the extensions accepted. Empty
	// means the server's allowed list, or a common list of documents and
	// images when it has none.
	FileTypes []string
	// KeepSlotOnDelete turns off delete-file: by default a deleted file
	// gives its upload slot and bytes back.
	KeepSlotOnDelete bool
}

// DefaultFileTypes are the upload-file-types when neither the options
// nor the server's allowed list name any.
var DefaultFileTypes = []string{"jpg", "jpeg", "png", "gif", "pdf", "txt", "doc", "docx", "xls", "xlsx"}

func (l FileLimits) withDefaults(cfg conversation.Config) FileLimits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = 5
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = int64(max(cfg.MaxAttachmentKB, 0)) * 1024
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = 3 * l.MaxFileSize
	}
	if l.DownloadAttempts <= 0 {
		l.DownloadAttempts = 20
	}
	if len(l.FileTypes) == 0 {
		l.FileTypes = cfg.AllowedAttachmentTypes
	}
	if len(l.FileTypes) == 0 {
		l.FileTypes = DefaultFileTypes
	}
	var types []string
	for _, t := range l.FileTypes {
		t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "."))
		if t != "" && !slices.Contains(types, t) && !slices.Contains(cfg.RestrictedAttachmentTypes, t) {
			types = append(types, t)
		}
	}
	l.FileTypes = types
	return l
}

// usage counts the client's uploads in the log: files and bytes still
// counted against the quota. s.mu is held.
func (s *session) usage() (files int, bytes int64) {
	deleted := map[string]bool{}
	if !s.h.opt.Limits.KeepSlotOnDelete {
		for _, e := range s.log {
			if e.msg.Type == TypeFileDeleted && e.msg.From.Type == PartyClient {
				deleted[e.msg.UserData["file-id"]] = true
			}
		}
	}
	for _, e := range s.log {
		if e.msg.Type == TypeFileUploaded && e.msg.From.Type == PartyClient && !deleted[e.msg.UserData["file-id"]] {
			files++
			n, _ := strconv.ParseInt(e.msg.UserData["file-size"], 10, 64)
			bytes += n
		}
	}
	return files, bytes
}

// limits returns the session's limits and use as GMS reports them.
// s.mu is held.
func (s *session) limits() map[string]string {
	l := s.h.opt.Limits
	files, bytes := s.usage()
	return map[string]string{
		"download-attempts":          strconv.Itoa(l.DownloadAttempts),
		"upload-max-files":           strconv.Itoa(l.MaxFiles),
		"upload-max-file-size":       strconv.FormatInt(l.MaxFileSize, 10),
		"upload-max-total-size":      strconv.FormatInt(l.MaxTotalSize, 10),
		"upload-need-agent":          strconv.FormatBool(!l.NoAgentNeeded),
		"upload-file-types":          strings.Join(l.FileTypes, ":"),
		"used-upload-max-files":      strconv.Itoa(files),
		"used-upload-max-total-size": strconv.FormatInt(bytes, 10),
		"used-download-attempts":     strconv.Itoa(s.downloads),
		"delete-file":                strconv.FormatBool(!l.KeepSlotOnDelete),
	}
}

// limitsEnvelope answers a limits request: the limits in a Notice whose
// text is file-client-cfg-get, as GMS does, and at the top level too.
func (s *session) limitsEnvelope() Envelope {
	env := s.envelope()
	lim := s.limits()
	env.UserData = lim
	env.Messages = []Message{{From: s.party(parley.Party{Kind: parley.PartySystem}), Index: s.lastSeq, Type: TypeNotice,
		UTCTime: time.Now().UnixMilli(), Text: "file-client-cfg-get", UserData: lim}}
	return env
}

// fileLimits serves POST …/{chatId}/file/limits.
func (h *Handler) fileLimits(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r, 0)
	if err != nil {
		return err
	}
	defer f.close()
	s, err := h.sess.open(r.Context(), r.PathValue("chat"), f.get("secureKey"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.drain(r.Context()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.limitsEnvelope())
	return nil
}

// uploadLimit is the body limit of an upload.
func (h *Handler) uploadLimit() int64 { return max(h.opt.Limits.MaxFileSize, 1) }

// upload serves POST …/{chatId}/file (multipart).
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r, h.uploadLimit())
	if err != nil {
		return err
	}
	defer f.close()
	s, err := h.sess.open(r.Context(), r.PathValue("chat"), f.get("secureKey"))
	if err != nil {
		return err
	}
	env, err := h.storeUpload(r.Context(), s, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, env)
	return nil
}

// storeUpload checks the quotas and sends the form's file into the chat.
func (h *Handler) storeUpload(ctx context.Context, s *session, f *form) (Envelope, error) {
	if f.file == nil {
		return Envelope{}, parley.Errorf(parley.EINVALID, "a multipart part named file is required")
	}
	l := h.opt.Limits
	name := filepath.Base(strings.ReplaceAll(f.file.Filename, `\`, "/"))
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	if !slices.Contains(l.FileTypes, ext) {
		return Envelope{}, parley.Errorf(parley.EINVALID, "files of this type are not accepted; upload-file-types is %s", strings.Join(l.FileTypes, ":"))
	}
	// The session's lock is held over the upload so two uploads cannot
	// both take the last slot; the body is read already.
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.drain(ctx); err != nil {
		return Envelope{}, err
	}
	if s.ended {
		return Envelope{}, &gmsError{code: CodeLoggedOut, status: http.StatusBadRequest, chatEnded: true, err: parley.Errorf(parley.ECLOSED, "the chat has ended")}
	}
	if !l.NoAgentNeeded && !s.agent {
		return Envelope{}, parley.Errorf(parley.EFORBIDDEN, "files can be sent once an agent has joined (upload-need-agent)")
	}
	files, bytes := s.usage()
	switch {
	case files >= l.MaxFiles:
		return Envelope{}, parley.Errorf(parley.ETOOMANY, "the session's %d uploads are used (upload-max-files)", l.MaxFiles)
	case f.file.Size > l.MaxFileSize:
		return Envelope{}, parley.Errorf(parley.ETOOLARGE, "the file is larger than %d bytes (upload-max-file-size)", l.MaxFileSize)
	case bytes+f.file.Size > l.MaxTotalSize:
		return Envelope{}, parley.Errorf(parley.ETOOMANY, "the file would exceed the session's %d bytes (upload-max-total-size)", l.MaxTotalSize)
	}
	content, err := f.file.Open()
	if err != nil {
		return Envelope{}, parley.Errorf(parley.EINVALID, "the file could not be read")
	}
	defer content.Close()
	e, err := h.svc.SendFile(ctx, s.actor, s.chatID, name, content)
	if err != nil {
		return Envelope{}, err
	}
	if err := s.waitFor(ctx, e.Seq); err != nil {
		return Envelope{}, err
	}
	env := s.envelope()
	env.UserData = map[string]string{"file-id": e.File.ID}
	if d := f.userData["file-description"]; d != "" {
		env.UserData["file-description"] = d
	}
	return env, nil
}

// fileOp serves POST …/{chatId}/file/{fileId}/download and …/delete.
func (h *Handler) fileOp(w http.ResponseWriter, r *http.Request) error {
	fop := r.PathValue("fop")
	if fop != "download" && fop != "delete" {
		return &gmsError{code: CodeNotFound, status: http.StatusNotFound, err: parley.Errorf(parley.ENOTFOUND, "unknown file operation %q", clip(fop))}
	}
	f, err := readForm(w, r, 0)
	if err != nil {
		return err
	}
	defer f.close()
	s, err := h.sess.open(r.Context(), r.PathValue("chat"), f.get("secureKey"))
	if err != nil {
		return err
	}
	if fop == "delete" {
		e, err := h.svc.DeleteFile(r.Context(), s.actor, s.chatID, r.PathValue("file"))
		if err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.waitFor(r.Context(), e.Seq); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.envelope())
		return nil
	}
	return h.download(w, r, s, r.PathValue("file"))
}

// download streams a file of the chat, counting the attempt.
func (h *Handler) download(w http.ResponseWriter, r *http.Request, s *session, fileID string) error {
	s.mu.Lock()
	if s.downloads >= h.opt.Limits.DownloadAttempts {
		s.mu.Unlock()
		return parley.Errorf(parley.ETOOMANY, "the session's %d downloads are used (download-attempts)", h.opt.Limits.DownloadAttempts)
	}
	s.downloads++
	s.mu.Unlock()
	att, content, err := h.svc.OpenFile(r.Context(), s.actor, s.chatID, fileID)
	if err != nil {
		s.mu.Lock()
		s.downloads-- // nothing was downloaded
		s.mu.Unlock()
		return err
	}
	defer content.Close()
	hd := w.Header()
	hd.Set("Content-Type", att.ContentType)
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": att.Name}))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Length", strconv.FormatInt(att.Size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, content); err != nil {
		h.log.Debug("gms: download cut short", "chat", s.chatID, "err", err)
	}
	return nil
}

// chatNtf serves POST /genesys/2/chat-ntf, the file endpoint of CometD
// clients: multipart or form-encoded, operation fileUpload,
// fileGetLimits, fileDownload (fileId) or fileDelete (fileId), the
// session found by secureKey (and chatId when sent).
func (h *Handler) chatNtf(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r, h.uploadLimit())
	if err != nil {
		return err
	}
	defer f.close()
	var s *session
	if id := f.get("chatId"); id != "" {
		s, err = h.sess.open(r.Context(), id, f.get("secureKey"))
	} else {
		s, err = h.sess.byKey(r.Context(), f.get("secureKey"))
	}
	if err != nil {
		return err
	}
	switch op := f.get("operation"); op {
	case "fileUpload":
		env, err := h.storeUpload(r.Context(), s, f)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, env)
	case "fileGetLimits":
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.drain(r.Context()); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.limitsEnvelope())
	case "fileDownload":
		return h.download(w, r, s, f.get("fileId"))
	case "fileDelete":
		e, err := h.svc.DeleteFile(r.Context(), s.actor, s.chatID, f.get("fileId"))
		if err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.waitFor(r.Context(), e.Seq); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.envelope())
	default:
		return parley.Errorf(parley.EINVALID, "operation must be fileUpload, fileGetLimits, fileDownload or fileDelete, not %q", clip(op))
	}
	return nil
}
