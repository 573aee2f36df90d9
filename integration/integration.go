// Package integration serves the integration API (Genesys ESP's
// counterpart) under /integration/v1/: workflows and bots, authenticated
// by a tenant's API key, post messages and notices into running chats as
// an external party, attach data, read a chat's events, take part as a
// bot and hand a chat over to the agents. Its admin endpoints, for a
// tenant's admins, manage API keys, bot-first groups and webhooks. Like
// the dialects it only translates HTTP to conversation.Service (and the
// webhook sender); the rules live there.
package integration

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/internal/httperr"
	"github.com/parleychat/parley/webhook"
)

// Prefix is the path every endpoint is under.
const Prefix = "/integration/"

// Options configure a Handler.
type Options struct {
	// Webhooks manages the webhook subscriptions; nil answers the
	// webhook endpoints with "unavailable".
	Webhooks *webhook.Sender
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
}

// Handler is the integration API.
type Handler struct {
	svc   *conversation.Service
	hooks *webhook.Sender
	log   *slog.Logger
	mux   *http.ServeMux

	// stopping ends long-polls at shutdown.
	stopping context.Context
	stop     context.CancelFunc
}

// New returns the integration API over svc.
func New(svc *conversation.Service, opt Options) *Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{svc: svc, hooks: opt.Webhooks, log: opt.Logger, mux: http.NewServeMux()}
	h.stopping, h.stop = context.WithCancel(context.Background())
	for _, r := range []struct {
		pattern string
		fn      func(*Handler, http.ResponseWriter, *http.Request) (any, int, error)
	}{
		{"GET /integration/v1/chats/{id}", (*Handler).getChat},
		{"GET /integration/v1/chats/{id}/events", (*Handler).events},
		{"POST /integration/v1/chats/{id}/messages", (*Handler).postMessage},
		{"POST /integration/v1/chats/{id}/notices", (*Handler).postNotice},
		{"GET /integration/v1/chats/{id}/data", (*Handler).getData},
		{"PUT /integration/v1/chats/{id}/data", (*Handler).putData},
		{"POST /integration/v1/chats/{id}/bot", (*Handler).addBot},
		{"POST /integration/v1/chats/{id}/handover", (*Handler).handover},
		{"POST /integration/v1/chats/{id}/end", (*Handler).end},
		{"GET /integration/v1/bot/chats", (*Handler).botChats},
		{"POST /integration/v1/telephony/calls", (*Handler).callState},
		{"GET /integration/v1/admin/api-keys", (*Handler).listKeys},
		{"POST /integration/v1/admin/api-keys", (*Handler).createKey},
		{"DELETE /integration/v1/admin/api-keys/{id}", (*Handler).revokeKey},
		{"PUT /integration/v1/admin/groups/{id}/bot", (*Handler).setGroupBot},
		{"GET /integration/v1/admin/webhooks", (*Handler).listWebhooks},
		{"POST /integration/v1/admin/webhooks", (*Handler).createWebhook},
		{"DELETE /integration/v1/admin/webhooks/{id}", (*Handler).deleteWebhook},
		{"GET /integration/v1/admin/webhooks/{id}/deliveries", (*Handler).deliveries},
	} {
		fn := r.fn
		h.mux.HandleFunc(r.pattern, func(w http.ResponseWriter, req *http.Request) {
			v, status, err := fn(h, w, req)
			switch {
			case err != nil:
				h.fail(w, req, err)
			case status == http.StatusNoContent:
				w.WriteHeader(status)
			default:
				dialect.JSON(w, status, v)
			}
		})
	}
	h.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, parley.Errorf(parley.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return h
}

// Wrap serves the integration API in front of next.
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, Prefix) {
			h.mux.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Shutdown answers waiting long-polls.
func (h *Handler) Shutdown() { h.stop() }

// ErrorBody is the shape of every error: the native API's.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

var dialect = httperr.Dialect{
	ContentType: "application/json",
	Newline:     true,
	Shape: func(code, message string) any {
		var b ErrorBody
		b.Error.Code, b.Error.Message = code, message
		return b
	},
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if parley.ErrorCode(err) == parley.EINTERNAL {
		h.log.Error("integration request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	dialect.Error(w, err)
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// integration authenticates the request's API key.
func (h *Handler) integration(r *http.Request) (*conversation.Integration, error) {
	return h.svc.AuthenticateKey(r.Context(), bearer(r))
}

// admin authenticates an admin's session token.
func (h *Handler) admin(r *http.Request) (conversation.Actor, error) {
	a, err := h.svc.Authenticate(r.Context(), bearer(r))
	if err != nil {
		return a, err
	}
	if a.Agent == nil || a.Agent.Role != parley.RoleAdmin {
		return a, parley.Errorf(parley.EFORBIDDEN, "this needs the admin role")
	}
	// The audit log says where a change came from.
	if addr := conversation.ClientAddr(r.Context()); addr.IsValid() {
		a.Addr = addr.String()
	}
	return a, nil
}

const maxBody = 64 << 10

// decode reads one JSON object into v, refusing unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var (
			tooBig  *http.MaxBytesError
			syntax  *json.SyntaxError
			typeErr *json.UnmarshalTypeError
		)
		switch {
		case errors.As(err, &tooBig):
			return parley.Errorf(parley.ETOOLARGE, "the body is larger than %d bytes", maxBody)
		case errors.As(err, &syntax):
			return parley.Errorf(parley.EINVALID, "malformed JSON at byte %d", syntax.Offset)
		case errors.As(err, &typeErr):
			return parley.Errorf(parley.EINVALID, "field %q must be %s", typeErr.Field, typeErr.Type)
		case errors.Is(err, io.EOF):
			return parley.Errorf(parley.EINVALID, "the body is empty; a JSON object is required")
		}
		return parley.Errorf(parley.EINVALID, "bad JSON body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return parley.Errorf(parley.EINVALID, "the body holds more than one JSON value")
	}
	return nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, parley.Errorf(parley.ENOTFOUND, "not found")
	}
	return id, nil
}

func queryInt(r *http.Request, name string, def, lo, hi int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, parley.Errorf(parley.EINVALID, "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}
