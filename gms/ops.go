package gms

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// maxMessageType bounds send's messageType.
const maxMessageType = 100

// requestChat starts a chat: POST /genesys/2/chat/{service}.
func (h *Handler) requestChat(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r, 0)
	if err != nil {
		return err
	}
	defer f.close()
	env, _, err := h.startChat(r.Context(), r.PathValue("service"), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, env)
	return nil
}

// startChat requests a chat for the form's client and returns the first
// envelope (with the chat's first events) and the new session.
func (h *Handler) startChat(ctx context.Context, service string, f *form) (Envelope, *session, error) {
	t, err := h.target(service)
	if err != nil {
		return Envelope{}, nil, err
	}
	name := strings.TrimSpace(f.get("nickname"))
	if name == "" {
		name = strings.TrimSpace(strings.TrimSpace(f.get("firstName")) + " " + strings.TrimSpace(f.get("lastName")))
	}
	if name == "" {
		return Envelope{}, nil, parley.Errorf(parley.EINVALID, "nickname, or firstName and lastName, is required")
	}
	v := parley.Visitor{Name: name, Email: strings.TrimSpace(f.get("emailAddress"))}
	if v.Email == "" {
		v.Email = strings.TrimSpace(f.userData["EmailAddress"])
	}
	if tz, ok := f.userData["TimeZone"]; ok && tz != "" {
		if v.TZOffset, err = strconv.Atoi(strings.TrimSpace(tz)); err != nil {
			return Envelope{}, nil, parley.Errorf(parley.EINVALID, "userData[TimeZone] must be the offset from UTC in minutes")
		}
	}
	data := f.userData
	var rest []string
	for k := range f.userData {
		if k != "Subject" {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	keys := rest
	if subject := strings.TrimSpace(f.get("subject")); subject != "" {
		if err := checkUserData("Subject", subject); err != nil {
			return Envelope{}, nil, err
		}
		data = maps(data, "Subject", subject)
	}
	if hasKey(data, "Subject") {
		keys = append([]string{"Subject"}, rest...)
	}
	v.PrivateData = encodeUserData(keys, data)
	started, err := h.svc.RequestChat(ctx, conversation.ChatRequest{
		TenantID: t.TenantID, GroupName: t.Group, Visitor: v, Message: f.get("text"),
	})
	switch parley.ErrorCode(err) {
	case "":
	case parley.ENOTFOUND:
		return Envelope{}, nil, &gmsError{code: CodeNotFound, status: http.StatusNotFound, err: parley.Errorf(parley.ENOTFOUND, "unknown service %q", clip(service))}
	case parley.ECLOSED:
		return Envelope{}, nil, &gmsError{code: CodeClosed, status: http.StatusOK, err: err}
	default:
		return Envelope{}, nil, err
	}
	actor, err := h.svc.Authenticate(ctx, started.VisitorToken)
	if err != nil {
		return Envelope{}, nil, err
	}
	s, err := h.sess.add(ctx, actor, started.Chat, started.VisitorToken, service)
	if err != nil {
		return Envelope{}, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.drain(ctx); err != nil {
		return Envelope{}, nil, err
	}
	env, n, err := s.transcript(ctx, 1, s.restN)
	if err != nil {
		return Envelope{}, nil, err
	}
	s.restN = n
	env.SecureKey = started.VisitorToken
	return env, s, nil
}

func maps(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// envelope is a success envelope of the session. s.mu is held. Only
// answers that carry the transcript say nextPosition, so a client that
// takes it from every answer skips no event.
func (s *session) envelope() Envelope {
	return Envelope{Alias: s.h.opt.Alias, UserID: s.actor.VisitorID, ChatID: s.chatID, ChatEnded: s.ended,
		Messages: []Message{}}
}

// transcript is envelope with the messages from pos (and the ephemeral
// ones after ephN) and nextPosition. s.mu is held.
func (s *session) transcript(ctx context.Context, pos int64, ephN uint64) (Envelope, uint64, error) {
	env := s.envelope()
	msgs, n, err := s.since(ctx, pos, ephN)
	if err != nil {
		return Envelope{}, ephN, err
	}
	env.Messages, env.NextPosition = msgs, s.next()
	return env, n, nil
}

// operation serves POST /genesys/2/chat/{service}/{chatId}/{op}.
func (h *Handler) operation(w http.ResponseWriter, r *http.Request) error {
	op := r.PathValue("op")
	if _, ok := ops[op]; !ok {
		return &gmsError{code: CodeNotFound, status: http.StatusNotFound, err: parley.Errorf(parley.ENOTFOUND, "unknown operation %q", clip(op))}
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
	env, err := h.do(r.Context(), s, op, f, true)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if op == "refresh" && env.ChatEnded && h.opt.Disconnected400 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, env)
	return nil
}

// ops are the operations on a chat, shared by REST and CometD (whose
// names differ only for send).
var ops = map[string]func(h *Handler, ctx context.Context, s *session, f *form) (int64, error){
	"send":    (*Handler).send,
	"refresh": func(*Handler, context.Context, *session, *form) (int64, error) { return 0, nil },
	"startTyping": func(h *Handler, ctx context.Context, s *session, f *form) (int64, error) {
		return 0, h.typing(ctx, s, f, true)
	},
	"stopTyping": func(h *Handler, ctx context.Context, s *session, f *form) (int64, error) {
		return 0, h.typing(ctx, s, f, false)
	},
	"disconnect":     (*Handler).disconnect,
	"pushUrl":        (*Handler).pushURL,
	"customNotice":   (*Handler).customNotice,
	"updateNickname": (*Handler).updateNickname,
	"updateData":     (*Handler).updateData,
	"readReceipt":    (*Handler).readReceipt,
}

// do runs op for the session and returns its envelope. The messages from
// transcriptPosition are included when withMessages (REST); a refresh
// without transcriptPosition returns the whole transcript.
func (h *Handler) do(ctx context.Context, s *session, op string, f *form, withMessages bool) (Envelope, error) {
	pos := int64(-1)
	if f.has("transcriptPosition") && op != "readReceipt" {
		p, err := position(f.get("transcriptPosition"))
		if err != nil {
			return Envelope{}, err
		}
		pos = p
	} else if op == "refresh" {
		pos = 1
	}
	seq, err := ops[op](h, ctx, s, f)
	if err != nil {
		if parley.ErrorCode(err) == parley.ECLOSED {
			err = &gmsError{code: CodeLoggedOut, status: http.StatusBadRequest, chatEnded: true, err: err}
		}
		return Envelope{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.waitFor(ctx, seq); err != nil {
		return Envelope{}, err
	}
	if !withMessages || pos < 0 {
		return s.envelope(), nil
	}
	env, n, err := s.transcript(ctx, pos, s.restN)
	if err != nil {
		return Envelope{}, err
	}
	s.restN = n
	return env, nil
}

// position reads a transcriptPosition: 0 for no events, N for the events
// from index N.
func position(v string) (int64, error) {
	p, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || p < 0 {
		return 0, parley.Errorf(parley.EINVALID, "transcriptPosition must be a number from 0")
	}
	return p, nil
}

func (h *Handler) send(ctx context.Context, s *session, f *form) (int64, error) {
	if !f.has("message") {
		return 0, parley.Errorf(parley.EINVALID, "message is required")
	}
	if len(f.get("messageType")) > maxMessageType {
		return 0, parley.Errorf(parley.EINVALID, "messageType is longer than %d bytes", maxMessageType)
	}
	e, err := h.svc.Send(ctx, s.actor, s.chatID, f.get("message"), conversation.SendOptions{})
	if err != nil {
		return 0, err
	}
	return e.Seq, nil
}

func (h *Handler) typing(ctx context.Context, s *session, f *form, on bool) error {
	return h.svc.TypingText(ctx, s.actor, s.chatID, on, f.get("message"))
}

func (h *Handler) disconnect(ctx context.Context, s *session, _ *form) (int64, error) {
	if err := h.svc.Leave(ctx, s.actor, s.chatID); err != nil {
		return 0, err
	}
	v, err := h.svc.Chat(ctx, s.actor, s.chatID)
	if err != nil {
		return 0, err
	}
	return v.LastSeq, nil
}

func (h *Handler) pushURL(ctx context.Context, s *session, f *form) (int64, error) {
	e, err := h.svc.ShareURL(ctx, s.actor, s.chatID, f.get("pushUrl"))
	if err != nil {
		return 0, err
	}
	return e.Seq, nil
}

func (h *Handler) customNotice(ctx context.Context, s *session, f *form) (int64, error) {
	e, err := h.svc.CustomNotice(ctx, s.actor, s.chatID, f.get("message"))
	if err != nil {
		return 0, err
	}
	return e.Seq, nil
}

func (h *Handler) updateNickname(ctx context.Context, s *session, f *form) (int64, error) {
	name := f.get("nickname")
	e, err := h.svc.UpdateVisitor(ctx, s.actor, s.chatID, conversation.VisitorUpdate{Name: &name})
	if err != nil || e == nil {
		return 0, err
	}
	return e.Seq, nil
}

// updateData merges userData into what the client sent before (the
// visitor's private data agents see).
func (h *Handler) updateData(ctx context.Context, s *session, f *form) (int64, error) {
	if len(f.userData) == 0 {
		return 0, parley.Errorf(parley.EINVALID, "userData is required")
	}
	_, err := h.svc.UpdateVisitor(ctx, s.actor, s.chatID, conversation.VisitorUpdate{PrivateData: func(cur string) string {
		keys, data := decodeUserData(cur)
		added := []string{}
		for k, v := range f.userData {
			if !hasKey(data, k) {
				added = append(added, k)
			}
			data[k] = v
		}
		slices.Sort(added)
		return encodeUserData(append(keys, added...), data)
	}})
	return 0, err
}

// readReceipt records that the client has read the transcript up to
// transcriptPosition.
func (h *Handler) readReceipt(ctx context.Context, s *session, f *form) (int64, error) {
	p, err := position(f.get("transcriptPosition"))
	if err != nil || p < 1 {
		return 0, parley.Errorf(parley.EINVALID, "transcriptPosition must be a number from 1")
	}
	s.mu.Lock()
	last := s.lastSeq
	s.mu.Unlock()
	if p > last {
		p = last
	}
	if p < 1 {
		return 0, nil
	}
	_, err = h.svc.MarkSeen(ctx, s.actor, s.chatID, p)
	return 0, err
}
