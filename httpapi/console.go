package httpapi

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// TranscriptRequestBody is POST /api/v1/chats/{id}/transcript.
type TranscriptRequestBody struct {
	// Email is the recipient; "" means the visitor's address.
	Email string `json:"email"`
}

// TranscriptQueuedBody answers a transcript request: the mail is in the
// outbox.
type TranscriptQueuedBody struct {
	ID     int64             `json:"id"`
	Status parley.MailStatus `json:"status"`
}

func (s *Server) mailTranscript(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b TranscriptRequestBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		m, err := s.svc.MailTranscript(r.Context(), a, r.PathValue("id"), b.Email)
		if err == nil {
			writeJSON(w, http.StatusAccepted, TranscriptQueuedBody{ID: m.ID, Status: m.Status})
		}
		return err
	})
}

func (s *Server) getMail(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		m, err := s.svc.Mail(r.Context(), a, id)
		if err == nil {
			writeJSON(w, http.StatusOK, m)
		}
		return err
	})
}

func (s *Server) getTranscript(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		text, err := s.svc.Transcript(r.Context(), a, r.PathValue("id"))
		if err == nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			_, _ = io.WriteString(w, text)
		}
		return err
	})
}

func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, parley.Errorf(parley.EINVALID, "query parameter %s must be a date (YYYY-MM-DD) or an RFC 3339 time", name)
}

func (s *Server) searchArchive(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		q := parley.ArchiveQuery{Customer: r.URL.Query().Get("customer"), Text: r.URL.Query().Get("text"),
			Before: r.URL.Query().Get("before"), VisitorID: r.URL.Query().Get("visitor_id")}
		var err error
		if q.AgentID, err = queryInt(r, "agent_id", 0); err != nil {
			return err
		}
		if q.GroupID, err = queryInt(r, "group_id", 0); err != nil {
			return err
		}
		limit, err := queryInt(r, "limit", 0)
		if err != nil {
			return err
		}
		if limit < 0 || limit > parley.MaxArchiveLimit {
			return parley.Errorf(parley.EINVALID, "limit must be between 1 and %d", parley.MaxArchiveLimit)
		}
		q.Limit = int(limit)
		if q.From, err = queryTime(r, "from"); err != nil {
			return err
		}
		if q.To, err = queryTime(r, "to"); err != nil {
			return err
		}
		if v := r.URL.Query().Get("to"); len(v) == len(time.DateOnly) {
			q.To = q.To.AddDate(0, 0, 1) // a date as "to" includes that day
		}
		res, err := s.svc.SearchArchive(r.Context(), a, q)
		if err == nil {
			writeJSON(w, http.StatusOK, res)
		}
		return err
	})
}

func (s *Server) visitorHistory(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		limit, err := queryInt(r, "limit", 0)
		if err != nil {
			return err
		}
		if limit < 0 || limit > 100 {
			return parley.Errorf(parley.EINVALID, "limit must be between 1 and 100")
		}
		res, err := s.svc.VisitorHistory(r.Context(), a, r.PathValue("id"), int(limit))
		if err == nil {
			writeJSON(w, http.StatusOK, res)
		}
		return err
	})
}

func (s *Server) listCanned(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		gid, err := queryInt(r, "group_id", 0)
		if err != nil {
			return err
		}
		list, err := s.svc.CannedResponses(r.Context(), a, gid)
		if err == nil {
			writeJSON(w, http.StatusOK, list)
		}
		return err
	})
}

// CannedRequestBody is POST /api/v1/canned.
type CannedRequestBody struct {
	GroupID  int64  `json:"group_id"`
	Folder   string `json:"folder"`
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

func (s *Server) createCanned(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b CannedRequestBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		c := &parley.CannedResponse{GroupID: b.GroupID, Folder: b.Folder, Shortcut: b.Shortcut, Title: b.Title, Text: b.Text}
		err := s.svc.CreateCanned(r.Context(), a, c)
		if err == nil {
			writeJSON(w, http.StatusCreated, c)
		}
		return err
	})
}

func (s *Server) updateCanned(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		var b conversation.CannedUpdate
		if err := decode(w, r, &b); err != nil {
			return err
		}
		c, err := s.svc.UpdateCanned(r.Context(), a, id, b)
		if err == nil {
			writeJSON(w, http.StatusOK, c)
		}
		return err
	})
}

func (s *Server) deleteCanned(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		err = s.svc.DeleteCanned(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

// maxImport bounds a canned response import file.
const maxImport = 4 << 20

func (s *Server) importCanned(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		gid, err := queryInt(r, "group_id", 0)
		if err != nil {
			return err
		}
		format := r.URL.Query().Get("format")
		if format == "" {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			switch mt {
			case "text/csv":
				format = "csv"
			case "application/json":
				format = "json"
			}
		}
		// Read the whole file first so that an oversize one is refused as
		// such, not as a malformed one.
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImport))
		if err != nil {
			return jsonError(err)
		}
		res, err := s.svc.ImportCanned(r.Context(), a, gid, strings.ToLower(format), bytes.NewReader(data))
		if err == nil {
			writeJSON(w, http.StatusOK, res)
		}
		return err
	})
}

func (s *Server) chatCanned(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		list, err := s.svc.ChatCanned(r.Context(), a, r.PathValue("id"))
		if err == nil {
			writeJSON(w, http.StatusOK, list)
		}
		return err
	})
}

func (s *Server) kpis(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		since, err := queryTime(r, "since")
		if err != nil {
			return err
		}
		if tz := r.URL.Query().Get("tz"); tz != "" {
			loc, err := time.LoadLocation(tz)
			if err != nil || len(tz) > 64 {
				return parley.Errorf(parley.EINVALID, "tz must be an IANA time zone such as Europe/Berlin")
			}
			if since.IsZero() {
				y, m, d := time.Now().In(loc).Date()
				since = time.Date(y, m, d, 0, 0, 0, 0, loc)
			} else if v := r.URL.Query().Get("since"); len(v) == len(time.DateOnly) {
				since = time.Date(since.Year(), since.Month(), since.Day(), 0, 0, 0, 0, loc)
			}
		}
		sl, err := queryInt(r, "service_level_seconds", 0)
		if err != nil {
			return err
		}
		if sl < 0 || sl > 86400 {
			return parley.Errorf(parley.EINVALID, "service_level_seconds must be between 1 and 86400")
		}
		rep, err := s.svc.KPIs(r.Context(), a, since, time.Duration(sl)*time.Second)
		if err == nil {
			writeJSON(w, http.StatusOK, rep)
		}
		return err
	})
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		ov, err := s.svc.Overview(r.Context(), a)
		if err == nil {
			writeJSON(w, http.StatusOK, ov)
		}
		return err
	})
}

func (s *Server) whisper(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b MessageBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		e, err := s.svc.Whisper(r.Context(), a, r.PathValue("id"), b.Text, conversation.SendOptions{ClientID: b.ClientID})
		if err == nil {
			writeJSON(w, http.StatusCreated, e)
		}
		return err
	})
}

func (s *Server) barge(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		v, err := s.svc.Barge(r.Context(), a, r.PathValue("id"))
		if err == nil {
			writeJSON(w, http.StatusOK, v)
		}
		return err
	})
}

// ConferenceBody is POST /api/v1/chats/{id}/conference.
type ConferenceBody struct {
	AgentID int64 `json:"agent_id"`
}

func (s *Server) conference(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b ConferenceBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		v, err := s.svc.Conference(r.Context(), a, r.PathValue("id"), b.AgentID)
		if err == nil {
			writeJSON(w, http.StatusOK, v)
		}
		return err
	})
}

// InternalBody is POST /api/v1/agents/{id}/messages.
type InternalBody struct {
	Text string `json:"text"`
}

func (s *Server) internalHistory(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		before, err := queryInt(r, "before", 0)
		if err != nil {
			return err
		}
		limit, err := queryInt(r, "limit", 0)
		if err != nil {
			return err
		}
		if limit < 0 || limit > 500 {
			return parley.Errorf(parley.EINVALID, "limit must be between 1 and 500")
		}
		list, err := s.svc.InternalHistory(r.Context(), a, id, before, int(limit))
		if err == nil {
			writeJSON(w, http.StatusOK, list)
		}
		return err
	})
}

func (s *Server) sendInternal(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		id, err := pathInt(r, "id")
		if err != nil {
			return err
		}
		var b InternalBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		m, err := s.svc.SendInternal(r.Context(), a, id, b.Text)
		if err == nil {
			writeJSON(w, http.StatusCreated, m)
		}
		return err
	})
}
