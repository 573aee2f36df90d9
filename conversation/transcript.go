package conversation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/transcript"
)

// MailTranscript queues the chat's transcript for mailing to email, or to
// the visitor's address when email is empty. The visitor of the chat and
// the agents who may read it can ask; the group (or the server) must have
// a sender address. Each agent request queues a mail; a visitor may name
// at most MaxVisitorTranscripts addresses.
func (s *Service) MailTranscript(ctx context.Context, actor Actor, chatID, email string) (*parley.OutboxMail, error) {
	c, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	email = strings.TrimSpace(email)
	if email != "" && !parley.ValidEmail(email) {
		return nil, parley.Errorf(parley.EINVALID, "email %q is not an address", email)
	}
	if !actor.IsVisitor() {
		return s.queueTranscript(ctx, c, email, "")
	}
	// A visitor's requests are bounded so that a chat cannot be used to
	// send mail to any number of addresses: asking again for the same
	// address returns the queued mail. The abuse limits bound how often.
	if err := s.transcriptAllowed(ctx, actor.VisitorID); err != nil {
		return nil, err
	}
	if email == "" {
		v, err := s.store.Visitor(ctx, c.VisitorID)
		if err != nil {
			return nil, internal("load visitor", err)
		}
		email = v.Email
	}
	for i := 1; i <= MaxVisitorTranscripts; i++ {
		m, err := s.queueTranscript(ctx, c, email, fmt.Sprintf("visitor:%s:%d", c.ID, i))
		if err != nil || strings.EqualFold(m.To, email) {
			return m, err
		}
	}
	return nil, parley.Errorf(parley.ECONFLICT, "at most %d transcript addresses per chat", MaxVisitorTranscripts)
}

// MaxVisitorTranscripts is how many addresses a visitor may have a chat's
// transcript mailed to.
const MaxVisitorTranscripts = 3

// transcriptOnClose queues the transcript of an ended chat when its group
// says so and the visitor gave an address. It runs once per chat: the
// outbox key is the chat.
func (s *Service) transcriptOnClose(ctx context.Context, chatID string) {
	c, err := s.store.Chat(ctx, chatID)
	if err != nil {
		s.log.Error("transcript on close: load chat", "chat", chatID, "err", err)
		return
	}
	g, err := s.store.Group(ctx, c.GroupID)
	if err != nil || !g.Transcript.OnClose {
		return
	}
	v, err := s.store.Visitor(ctx, c.VisitorID)
	if err != nil || !parley.ValidEmail(v.Email) {
		return // no address to mail to
	}
	_, err = s.queueTranscript(ctx, c, v.Email, "close:"+c.ID)
	switch {
	case isCode(err, parley.ECONFLICT):
		s.log.Warn("transcript on close: no sender address for the group", "chat", chatID, "group", c.GroupID)
	case err != nil:
		s.log.Error("transcript on close", "chat", chatID, "err", err)
	}
}

// closeMailWindow is how far back Start looks for ended chats whose
// automatic transcript may not have been queued.
const closeMailWindow = time.Hour

// recoverCloseMails queues the automatic transcripts of chats that ended
// in the last closeMailWindow in groups that mail on close: a chat's end
// is stored before its mail is queued, so a process that stopped in
// between would otherwise lose the mail. Mails queued already are not
// queued again (their key is the chat).
func (s *Service) recoverCloseMails(ctx context.Context, tenantID int64, groups []*parley.Group) error {
	onClose := map[int64]bool{}
	for _, g := range groups {
		if g.Transcript.OnClose {
			onClose[g.ID] = true
		}
	}
	// Chats are found by creation time: those created in the last day.
	q := parley.ArchiveQuery{TenantID: tenantID, From: s.now().Add(-24 * time.Hour), Limit: parley.MaxArchiveLimit}
	since := s.now().Add(-closeMailWindow)
	for len(onClose) > 0 {
		page, err := s.store.SearchChats(ctx, q)
		if err != nil {
			return fmt.Errorf("conversation: recover transcripts: %w", err)
		}
		for _, c := range page.Chats {
			if onClose[c.GroupID] && c.State == parley.StateTerminated && c.EndedAt.After(since) {
				s.transcriptOnClose(ctx, c.ID)
			}
		}
		if page.Next == "" {
			return nil
		}
		q.Before = page.Next
	}
	return nil
}

// canMailTranscript reports whether the group's transcripts can be
// mailed: it, or the server, has a sender address.
func (s *Service) canMailTranscript(g *parley.Group) bool {
	return g.Transcript.Sender != "" || s.cfg.MailFrom != ""
}

func (s *Service) queueTranscript(ctx context.Context, c *parley.Chat, to, key string) (*parley.OutboxMail, error) {
	g, err := s.store.Group(ctx, c.GroupID)
	if err != nil {
		return nil, internal("load group", err)
	}
	v, err := s.store.Visitor(ctx, c.VisitorID)
	if err != nil {
		return nil, internal("load visitor", err)
	}
	if to == "" {
		to = v.Email
	}
	if to == "" {
		return nil, parley.Errorf(parley.EINVALID, "no email address: give one, the visitor has none")
	}
	if !parley.ValidEmail(to) {
		return nil, parley.Errorf(parley.EINVALID, "the address %q is not an email address", to)
	}
	from := g.Transcript.Sender
	if from == "" {
		from = s.cfg.MailFrom
	}
	if from == "" {
		return nil, parley.Errorf(parley.ECONFLICT, "transcripts cannot be mailed: the group has no sender address")
	}
	g.Transcript.Sender = from
	events, err := s.store.Events(ctx, c.ID, 0, 0)
	if err != nil {
		return nil, internal("read events", err)
	}
	var agent *parley.Agent
	if id := lastAgent(c); id != 0 {
		if agent, err = s.store.Agent(ctx, id); err != nil && !isCode(err, parley.ENOTFOUND) {
			return nil, internal("load agent", err)
		}
	}
	now := s.now().UTC()
	r := transcript.Render(transcript.Data{Group: g, Agent: agent, Customer: v, Events: events, Now: now, Received: c.CreatedAt})
	m := &parley.OutboxMail{
		TenantID: c.TenantID, Key: key, ChatID: c.ID, MessageID: transcript.MessageID(from),
		From: from, To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
	}
	if _, err := s.store.EnqueueMail(ctx, m); err != nil {
		return nil, internal("enqueue mail", err)
	}
	if s.cfg.MailWake != nil {
		s.cfg.MailWake()
	}
	return m, nil
}

// lastAgent returns the agent who handled the chat last, or 0.
func lastAgent(c *parley.Chat) int64 {
	if c.AgentID != 0 {
		return c.AgentID
	}
	for i := len(c.Participants) - 1; i >= 0; i-- {
		if p := c.Participants[i]; p.Kind == parley.PartyAgent {
			return p.AgentID
		}
	}
	return 0
}

// Transcript returns the chat as plain text for agents: every event they
// may see, whispers marked.
func (s *Service) Transcript(ctx context.Context, actor Actor, chatID string) (string, error) {
	if actor.Agent == nil {
		return "", parley.Errorf(parley.EFORBIDDEN, "only agents read transcripts here; visitors ask for a mail")
	}
	c, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		return "", err
	}
	events, err := s.store.Events(ctx, c.ID, 0, 0)
	if err != nil {
		return "", internal("read events", err)
	}
	return transcript.Text(events, true), nil
}

// Mail returns an outbox mail of a chat the actor may read, to follow its
// delivery.
func (s *Service) Mail(ctx context.Context, actor Actor, id int64) (*parley.OutboxMail, error) {
	m, err := s.store.Mail(ctx, id)
	if isCode(err, parley.ENOTFOUND) || (err == nil && (m.TenantID != actor.TenantID || m.ChatID == "")) {
		return nil, parley.Errorf(parley.ENOTFOUND, "mail not found")
	} else if err != nil {
		return nil, internal("load mail", err)
	}
	if _, err := s.readableChat(ctx, actor, m.ChatID); err != nil {
		if isCode(err, parley.EFORBIDDEN) {
			return nil, parley.Errorf(parley.ENOTFOUND, "mail not found")
		}
		return nil, err
	}
	return m, nil
}
