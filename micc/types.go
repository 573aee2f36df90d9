package micc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// The request and response types below carry the names and types of the
// reference's type tables ("Chat Service API", "Types"). Field names are
// PascalCase on the wire; decoding matches them case-insensitively, as Go's
// encoding/json does.

// RequestChatRequest asks for a chat session.
type RequestChatRequest struct {
	SessionID        string
	CustomerID       string
	CustomerName     string
	EmailAddress     string
	PhoneNumber      string
	TenantID         int64
	ServiceGroupID   int64
	ServiceGroupName string
	PrivateData      string
	TimeZoneOffset   int
	// InitialMessage is not in the type table; the stock toolbox sends the
	// customer's first question with the request, so it is accepted too.
	InitialMessage string
}

// RequestChatResponse is the result of RequestChat. ChatID is null when the
// group is closed; Message then holds the group-closed message.
type RequestChatResponse struct {
	ChatID            *string
	Message           string
	SessionID         int
	QueuePosition     int
	EstimatedWaitTime int
}

// LeaveChatRequest leaves a chat session.
type LeaveChatRequest struct {
	ChatID string
}

// SendChatMessageRequest sends a message, or an attachment whose base file
// name is in Message.
type SendChatMessageRequest struct {
	ChatID     string
	Message    string
	Attachment Bytes
}

// SendTypingRequest tells the agent the customer is typing.
type SendTypingRequest struct {
	ChatID string
}

// GetEventsRequest waits up to Timeout milliseconds for events.
type GetEventsRequest struct {
	ChatID  string
	Timeout int
	// Cursor is a Parley extension: the X-Parley-Cursor value of the last
	// response the client received. When set, the events after it are
	// returned, whatever the server-side cursor says.
	Cursor *int64
}

// GetEventsResponse lists received events.
type GetEventsResponse struct {
	Events []ChatEvent
}

// GetChatInfoRequest asks for a chat's state.
type GetChatInfoRequest struct {
	ChatID string
}

// GetChatInfoResponse is a chat's state.
type GetChatInfoResponse struct {
	State         int
	QueuePosition int
}

// GetQueueInfoRequest asks for a service group's state.
type GetQueueInfoRequest struct {
	TenantID         int64
	ServiceGroupID   int64
	ServiceGroupName string
}

// GetQueueInfoResponse is a service group's state.
type GetQueueInfoResponse struct {
	EstimatedWaitTime int
	Open              bool
}

// GetChatConfigurationResponse is the global chat configuration.
type GetChatConfigurationResponse struct {
	MaxMessageLength          int
	MaxAttachmentSize         int
	AllowedAttachmentTypes    []string
	RestrictedAttachmentTypes []string
}

// ChatEventType values (enum int).
const (
	EventMessageReceived = 0
	EventAgentJoined     = 1
	EventAgentLeft       = 2
	EventAgentTyping     = 3
	EventChatState       = 4
)

// ChatEvent is one event; Data is one of the *Event types by EventType.
type ChatEvent struct {
	EventType int
	Data      any
}

// MessageReceivedEvent is a message from the agent or the system.
type MessageReceivedEvent struct {
	ChatID     string
	Name       string
	Message    string
	System     bool
	TimeStamp  Time
	Attachment Bytes
}

// AgentJoinedEvent says an agent joined.
type AgentJoinedEvent struct {
	ChatID string
	Name   string
}

// AgentLeftEvent says an agent left.
type AgentLeftEvent struct {
	ChatID string
	Name   string
}

// AgentTypingEvent says the agent is typing.
type AgentTypingEvent struct {
	ChatID string
	Name   string
}

// ChatStateEvent says the chat's state changed.
type ChatStateEvent struct {
	ChatID            string
	State             int
	QueuePosition     int
	EstimatedWaitTime int
	TerminationCause  int
}

// Fault is the body of every failure: a client-safe message and a Parley
// error code.
type Fault struct {
	Message string
	Code    string
}

// Time is a DateTime on the wire: ISO-8601 in UTC with milliseconds.
type Time time.Time

// MarshalJSON writes t as "2006-01-02T15:04:05.000Z".
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z07:00") + `"`), nil
}

// Bytes is a byte[] on the wire. It is written as a base64 string and read
// from a base64 string or an array of numbers 0–255 (the form .NET's
// DataContractJsonSerializer writes); null means none.
type Bytes []byte

// MarshalJSON writes b as base64, or null when b is nil.
func (b Bytes) MarshalJSON() ([]byte, error) {
	if b == nil {
		return []byte("null"), nil
	}
	return json.Marshal([]byte(b))
}

// UnmarshalJSON reads a base64 string, an array of bytes or null.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*b = nil
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return parley.Errorf(parley.EINVALID, "Attachment is not a valid string")
		}
		out, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return parley.Errorf(parley.EINVALID, "Attachment is not valid base64")
		}
		*b = out
		return nil
	case len(data) > 0 && data[0] == '[':
		// Parse numbers by hand: a []int would need 8 bytes per byte.
		body := bytes.TrimSpace(data[1 : len(data)-1])
		out := make([]byte, 0, len(body)/3)
		for len(body) > 0 {
			i := bytes.IndexByte(body, ',')
			var num []byte
			if i < 0 {
				num, body = body, nil
			} else {
				num, body = body[:i], body[i+1:]
				if len(bytes.TrimSpace(body)) == 0 {
					return parley.Errorf(parley.EINVALID, "Attachment is not a byte array")
				}
			}
			n, err := strconv.ParseUint(string(bytes.TrimSpace(num)), 10, 8)
			if err != nil {
				return parley.Errorf(parley.EINVALID, "Attachment must be a base64 string or an array of numbers from 0 to 255")
			}
			out = append(out, byte(n))
		}
		*b = out
		return nil
	}
	return parley.Errorf(parley.EINVALID, "Attachment must be a base64 string or an array of numbers from 0 to 255")
}

// decodeRequest reads a method's parameter from body into v. The body is
// {"request": {…}} as the reference shows, or the bare object; an empty
// body reads as an empty object. Unknown members are ignored, as the
// MiCC service ignores them; malformed JSON and wrong types are faults.
func decodeRequest(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	var top map[string]json.RawMessage
	if err := strictUnmarshal(body, &top); err != nil {
		return err
	}
	if top == nil {
		return parley.Errorf(parley.EINVALID, "the body must be a JSON object")
	}
	if len(top) == 1 {
		for k, inner := range top {
			if strings.EqualFold(k, "request") {
				inner = bytes.TrimSpace(inner)
				if len(inner) == 0 || inner[0] != '{' {
					return parley.Errorf(parley.EINVALID, "request must be a JSON object")
				}
				body = inner
			}
		}
	}
	return strictUnmarshal(body, v)
}

// strictUnmarshal decodes exactly one JSON value and turns decoding errors
// into client-safe messages.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return parley.Errorf(parley.EINVALID, "the body holds more than one JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		domainErr *parley.Error
	)
	switch {
	case errors.As(err, &domainErr):
		return domainErr
	case errors.As(err, &syntax):
		return parley.Errorf(parley.EINVALID, "malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return parley.Errorf(parley.EINVALID, "the body must be a JSON object")
		}
		return parley.Errorf(parley.EINVALID, "%s must be %s", typeErr.Field, wireType(typeErr.Type.String()))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return parley.Errorf(parley.EINVALID, "malformed JSON: unexpected end")
	}
	return parley.Errorf(parley.EINVALID, "malformed JSON")
}

// wireType names a Go type as the reference does.
func wireType(goType string) string {
	switch goType {
	case "int", "int64", "*int64":
		return "an int"
	case "string":
		return "a string"
	case "bool":
		return "a bool"
	}
	return "an object"
}
