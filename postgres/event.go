package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/parleychat/parley"
)

// eventData is the JSON in events.data: the payload fields without a
// column of their own.
type eventData struct {
	Args    []string            `json:"args,omitempty"`
	URL     string              `json:"url,omitempty"`
	Context *parley.ChatContext `json:"context,omitempty"`
	State   *stateData          `json:"state,omitempty"`
	File    *parley.Attachment  `json:"file,omitempty"`
	Signal  json.RawMessage     `json:"signal,omitempty"`
	Seen    int64               `json:"seen,omitempty"`
	MType   string              `json:"message_type,omitempty"`
}

// stateData stores a StateChange by number rather than through its text
// marshaling, which cannot read back an unknown state or cause.
type stateData struct {
	State int               `json:"state"`
	Cause int               `json:"cause"`
	Queue *parley.QueueInfo `json:"queue,omitempty"`
}

// checkEvents refuses, before anything is written, events the log of chat
// chatID cannot hold.
func checkEvents(chatID string, events []parley.Event) error {
	for i := range events {
		e := &events[i]
		switch {
		case e.Type == "":
			return parley.Errorf(parley.EINVALID, "event type is required")
		case e.Type.Ephemeral():
			return parley.Errorf(parley.EINVALID, "%s events are not stored", e.Type)
		case e.ChatID != "" && e.ChatID != chatID:
			return parley.Errorf(parley.EINVALID, "event of chat %q given for chat %q", e.ChatID, chatID)
		case len(e.Signal) > 0 && !json.Valid(e.Signal):
			return parley.Errorf(parley.EINVALID, "signal is not valid JSON")
		}
	}
	return nil
}

// encodeData returns the value of events.data for e (nil when e has none
// of its fields) and normalizes e's Signal and File to what a later read
// returns: compact JSON and a UTC time.
func encodeData(e *parley.Event) (any, error) {
	d := eventData{Args: e.Args, URL: e.URL, Context: e.Context, Seen: e.Seen, MType: e.MessageType}
	if e.State != nil {
		d.State = &stateData{State: int(e.State.State), Cause: int(e.State.Cause), Queue: e.State.Queue}
	}
	if e.File != nil {
		f := *e.File
		f.CreatedAt = f.CreatedAt.UTC()
		e.File, d.File = &f, &f
	}
	if len(e.Signal) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, e.Signal); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "signal is not valid JSON")
		}
		e.Signal, d.Signal = buf.Bytes(), buf.Bytes()
	}
	if len(d.Args) == 0 && d.URL == "" && d.Context == nil && d.State == nil && d.File == nil && d.Signal == nil && d.Seen == 0 && d.MType == "" {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep the signal byte-for-byte as compacted
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("postgres: encode event data: %w", err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

const eventColumns = `chat_id, seq, type, at, from_kind, from_agent_id, from_name, audience,
	client_id, text, notice, data`

func scanEvent(sc scanner) (parley.Event, error) {
	var e parley.Event
	var clientID, data sql.NullString
	err := sc.Scan(&e.ChatID, &e.Seq, &e.Type, &e.At, &e.From.Kind, &e.From.AgentID, &e.From.Name,
		&e.Audience, &clientID, &e.Text, &e.Notice, &data)
	if err != nil {
		return e, err
	}
	e.At = e.At.UTC()
	e.ClientID = clientID.String
	if data.Valid {
		var d eventData
		if err := json.Unmarshal([]byte(data.String), &d); err != nil {
			return e, fmt.Errorf("decode data of event %s/%d: %w", e.ChatID, e.Seq, err)
		}
		e.Args, e.URL, e.Context, e.File, e.Signal, e.Seen = d.Args, d.URL, d.Context, d.File, d.Signal, d.Seen
		e.MessageType = d.MType
		if d.State != nil {
			e.State = &parley.StateChange{
				State: parley.State(d.State.State),
				Cause: parley.Cause(d.State.Cause),
				Queue: d.State.Queue,
			}
		}
	}
	return e, nil
}

// appendEvents stores events at the end of the log of chat chatID inside
// tx, and returns them as stored along with the chat's new last_seq. An
// event whose ClientID the chat already has, in the log or earlier in
// events, is replaced by the stored one and takes no seq.
func (s *Store) appendEvents(ctx context.Context, tx *sql.Tx, chatID string, events []parley.Event) ([]parley.Event, int64, error) {
	out, last, _, err := s.appendEventsTx(ctx, tx, chatID, events)
	return out, last, err
}

// appendEventsTx is appendEvents that also reports whether it wrote
// anything before an error: everything that can refuse the events (a
// missing chat, data that does not encode) is checked before the first
// write, so that a group commit can drop one refused append and commit
// the rest of its batch.
//
// It first locks the chat's row, which proves the chat exists and makes
// appends to one chat, from any node, take turns: the ClientIDs looked up
// next cannot be stored meanwhile by another transaction.
func (s *Store) appendEventsTx(ctx context.Context, tx *sql.Tx, chatID string, events []parley.Event) (out []parley.Event, last int64, wrote bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT last_seq FROM chats WHERE id = $1 FOR UPDATE`, chatID).Scan(&last)
	if err != nil {
		return nil, 0, false, notFound(err, "lock chat", "chat not found")
	}
	out = make([]parley.Event, len(events))
	copy(out, events)
	first := make(map[string]int) // ClientID → index in out of its first new event
	dupOf := make(map[int]int)    // index in out → index of the new event it repeats
	var fresh []int               // indexes in out of the events that may be new
	for i := range out {
		if id := out[i].ClientID; id != "" {
			if j, ok := first[id]; ok {
				dupOf[i] = j
				continue
			}
			first[id] = i
		}
		fresh = append(fresh, i)
	}

	data := make([]any, len(fresh))
	for k, i := range fresh {
		e := &out[i]
		e.Typing, e.Queue = false, nil // ephemeral-only fields are not kept
		if data[k], err = encodeData(e); err != nil {
			return nil, 0, false, err
		}
	}

	// A client id is looked up only when its insert finds it taken: a
	// retry is rare, so the common append is one INSERT per event and one
	// UPDATE of the chat's last seq.
	base := last
	for k, i := range fresh {
		e := &out[i]
		e.ChatID, e.Seq, e.At = chatID, last+1, s.stamp(e.At)
		res, err := tx.ExecContext(ctx, `INSERT INTO events (`+eventColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (chat_id, client_id) WHERE client_id IS NOT NULL DO NOTHING`,
			e.ChatID, e.Seq, e.Type, e.At, e.From.Kind, e.From.AgentID, e.From.Name, e.Audience,
			nullString(e.ClientID), e.Text, e.Notice, data[k])
		if err != nil {
			return nil, 0, true, dbError(err, "insert event", "an event with this client id already exists", "")
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, 0, true, fmt.Errorf("postgres: insert event: %w", err)
		} else if n == 1 {
			last++
			continue
		}
		// A retry of an event the chat has: answer with the stored one.
		stored, err := scanEvent(tx.QueryRowContext(ctx,
			`SELECT `+eventColumns+` FROM events WHERE chat_id = $1 AND client_id = $2`, chatID, e.ClientID))
		if err != nil {
			return nil, 0, true, fmt.Errorf("postgres: select event by client id: %w", err)
		}
		out[i] = stored
	}
	if last > base {
		if _, err := tx.ExecContext(ctx, `UPDATE chats SET last_seq = $2 WHERE id = $1`, chatID, last); err != nil {
			return nil, 0, true, fmt.Errorf("postgres: take event seqs: %w", err)
		}
	}
	for i, j := range dupOf {
		out[i] = out[j]
	}
	return out, last, len(fresh) > 0, nil
}

// Events returns up to limit events of the chat with Seq > after, in order;
// limit <= 0 means no limit. A chat that does not exist gives ENOTFOUND.
func (s *Store) Events(ctx context.Context, chatID string, after int64, limit int) ([]parley.Event, error) {
	query := `SELECT ` + eventColumns + ` FROM events WHERE chat_id = $1 AND seq > $2 ORDER BY seq`
	args := []any{chatID, after}
	if limit > 0 {
		query += ` LIMIT $3`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: select events: %w", err)
	}
	defer rows.Close()
	es := []parley.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: scan event: %w", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: select events: %w", err)
	}
	if len(es) == 0 {
		// Chats are never deleted, so checking outside the query's
		// snapshot cannot report a chat missing that had events.
		var one int
		err := s.db.QueryRowContext(ctx, `SELECT 1 FROM chats WHERE id = $1`, chatID).Scan(&one)
		if err != nil {
			return nil, notFound(err, "select chat", "chat not found")
		}
	}
	return es, nil
}
