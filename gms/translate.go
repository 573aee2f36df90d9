package gms

import (
	"context"
	"fmt"
	"strconv"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// Transcript event types (GMS ChatV2MessageType).
const (
	TypeParticipantJoined = "ParticipantJoined"
	TypeParticipantLeft   = "ParticipantLeft"
	TypeMessage           = "Message"
	TypePushURL           = "PushUrl"
	TypeTypingStarted     = "TypingStarted"
	TypeTypingStopped     = "TypingStopped"
	TypeNicknameUpdated   = "NicknameUpdated"
	TypeFileUploaded      = "FileUploaded"
	TypeFileDeleted       = "FileDeleted"
	TypeCustomNotice      = "CustomNotice"
	TypeNotice            = "Notice"
)

// Party types of from.type.
const (
	PartyClient   = "Client"
	PartyAgent    = "Agent"
	PartyExternal = "External"
)

// partyKey names a participant whatever its current name.
type partyKey struct {
	kind    parley.PartyKind
	agentID int64
}

// party returns the author of an event; participant IDs are given in the
// order parties first appear in the chat's log (the client is 1).
func (s *session) party(p parley.Party) Party {
	k := partyKey{p.Kind, p.AgentID}
	id, ok := s.parties[k]
	if !ok {
		id = len(s.parties) + 1
		s.parties[k] = id
	}
	out := Party{Nickname: p.Name, ParticipantID: id}
	switch p.Kind {
	case parley.PartyVisitor:
		out.Type = PartyClient
	case parley.PartyAgent:
		out.Type = PartyAgent
	default:
		out.Type = PartyExternal
		if out.Nickname == "" {
			out.Nickname = "System"
		}
	}
	return out
}

// translate turns one event of the chat into the transcript's messages
// and follows the chat's state (ended, agent present).
func (s *session) translate(ctx context.Context, e *parley.Event) []Message {
	out := s.translateOld(e)
	switch e.Type {
	case parley.EventJoined:
		if e.From.Kind == parley.PartyAgent {
			s.agent = true
		}
	case parley.EventState:
		if e.State != nil {
			s.agent = e.State.State == parley.StateHandling
			if e.State.State == parley.StateTerminated {
				s.ended = true
			}
			if e.State.State == parley.StateQueued && e.State.Queue == nil {
				// The stored event has no position: the chat's place now,
				// when it is still waiting.
				if s.view == nil {
					s.view, _ = s.h.svc.Chat(ctx, s.actor, s.chatID)
				}
				if s.view != nil && s.view.State == parley.StateQueued && s.view.Queue != nil && len(out) == 1 {
					out[0] = queueNotice(out[0], s.view.Queue)
				}
			}
		}
	}
	return out
}

// translateOld translates an event without following the chat's state,
// for events read again.
func (s *session) translateOld(e *parley.Event) []Message {
	m := Message{From: s.party(e.From), Index: e.Seq, UTCTime: e.At.UnixMilli()}
	if e.Seq == 0 {
		// Ephemeral: it takes the index of the last stored event, so a
		// client that counts on from the highest index misses nothing.
		m.Index = s.lastSeq
	}
	switch e.Type {
	case parley.EventJoined:
		m.Type = TypeParticipantJoined
	case parley.EventLeft:
		m.Type = TypeParticipantLeft
	case parley.EventMessage:
		m.Type, m.Text = TypeMessage, e.Text
	case parley.EventURL:
		m.Type, m.Text = TypePushURL, e.URL
	case parley.EventFile:
		if e.File == nil {
			return nil
		}
		m.Type, m.Text = TypeFileUploaded, e.File.Name
		m.UserData = map[string]string{
			"file-id": e.File.ID, "file-name": e.File.Name, "file-size": strconv.FormatInt(e.File.Size, 10),
			"file-type": e.File.ContentType, "file-source": fileSource(e.From.Kind),
		}
	case parley.EventNotice:
		switch e.Notice {
		case conversation.NoticeCustom:
			m.Type, m.Text = TypeCustomNotice, e.Text
		case conversation.NoticeNickname:
			m.Type = TypeNicknameUpdated
			if len(e.Args) == 2 {
				m.Text = e.Args[1]
			}
		case conversation.NoticeFileDeleted:
			m.Type, m.Text = TypeFileDeleted, e.Text
			if len(e.Args) == 2 {
				m.UserData = map[string]string{"file-id": e.Args[0], "file-name": e.Args[1]}
			}
		default:
			m.Type, m.Text, m.MessageType = TypeNotice, e.Text, e.Notice
		}
	case parley.EventTyping:
		m.Type, m.Text = TypeTypingStopped, ""
		if e.Typing {
			m.Type, m.Text = TypeTypingStarted, e.Text
		}
	case parley.EventQueue:
		if e.Queue == nil {
			return nil
		}
		m = queueNotice(m, e.Queue)
	case parley.EventState:
		if e.State == nil || e.State.State != parley.StateQueued {
			// Joins and leaves say the rest.
			return nil
		}
		m.Type, m.Text, m.MessageType = TypeNotice, "Waiting for an agent.", "queued"
		if e.State.Queue != nil {
			m = queueNotice(m, e.State.Queue)
		}
	default:
		// Read receipts and call signaling have no GMS form.
		return nil
	}
	return []Message{m}
}

// queueNotice makes m the notice of the chat's place in the queue.
func queueNotice(m Message, q *parley.QueueInfo) Message {
	m.Type, m.MessageType = TypeNotice, "queue-position"
	m.UserData = map[string]string{"queue-position": strconv.Itoa(q.Position), "estimated-wait": strconv.Itoa(q.EstimatedWait)}
	switch {
	case q.Position == 0:
		m.Text = "An agent is being connected."
	case q.EstimatedWait >= 0:
		m.Text = fmt.Sprintf("You are number %d in the queue. Estimated wait: %d seconds.", q.Position, q.EstimatedWait)
	default:
		m.Text = fmt.Sprintf("You are number %d in the queue.", q.Position)
	}
	return m
}

func fileSource(k parley.PartyKind) string {
	if k == parley.PartyVisitor {
		return "client"
	}
	return "agent"
}
