package integration

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

func (h *Handler) getChat(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	in, err := h.integration(r)
	if err != nil {
		return nil, 0, err
	}
	v, err := h.svc.IntegrationChat(r.Context(), in, r.PathValue("id"))
	return v, http.StatusOK, err
}

// EventsBody is the answer of the events long-poll.
type EventsBody struct {
	Events []parley.Event `json:"events"`
	// LastSeq is the after of the next poll.
	LastSeq int64 `json:"last_seq"`
}

func (h *Handler) events(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	in, err := h.integration(r)
	if err != nil {
		return nil, 0, err
	}
	after, err := queryInt(r, "after", 0, 0, 1<<62)
	if err != nil {
		return nil, 0, err
	}
	wait, err := queryInt(r, "wait", 0, 0, int64(conversation.MaxPollWait/time.Second))
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(h.stopping, cancel)()
	evs, last, err := h.svc.IntegrationPoll(ctx, in, r.PathValue("id"), after, time.Duration(wait)*time.Second)
	if err != nil && ctx.Err() != nil && r.Context().Err() == nil {
		err = nil // shutting down: answer with what there is
	}
	return EventsBody{Events: evs, LastSeq: last}, http.StatusOK, err
}

// PostBody is a message or notice from an integration.
type PostBody struct {
	Text string `json:"text"`
	// MessageType is passed through to every reader unchanged.
	MessageType string `json:"message_type"`
	// Visibility is ALL (default) or INT (agents and supervisors only).
	Visibility string `json:"visibility"`
	// From is "external" (default: the workflow) or "bot" (the chat's
	// bot participant).
	From string `json:"from"`
	// Name is the external party's name (default: the API key's name).
	Name     string `json:"name"`
	ClientID string `json:"client_id"`
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request, notice bool) (any, int, error) {
	in, err := h.integration(r)
	if err != nil {
		return nil, 0, err
	}
	var b PostBody
	if err := decode(w, r, &b); err != nil {
		return nil, 0, err
	}
	p := conversation.ExternalPost{Notice: notice, Text: b.Text, MessageType: b.MessageType, Visibility: b.Visibility,
		Name: b.Name, ClientID: b.ClientID}
	switch b.From {
	case "", string(parley.PartyExternal):
	case string(parley.PartyBot):
		p.AsBot = true
	default:
		return nil, 0, parley.Errorf(parley.EINVALID, "from must be external or bot")
	}
	e, err := h.svc.Post(r.Context(), in, r.PathValue("id"), p)
	return e, http.StatusCreated, err
}

func (h *Handler) postMessage(w http.ResponseWriter, r *http.Request) (any, int, error) {
	return h.post(w, r, false)
}

func (h *Handler) postNotice(w http.ResponseWriter, r *http.Request) (any, int, error) {
	return h.post(w, r, true)
}

// DataBody is a chat's attached data.
type DataBody struct {
	Data map[string]string `json:"data"`
}

func (h *Handler) getData(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	in, err := h.integration(r)
	if err != nil {
		return nil, 0, err
	}
	d, err := h.svc.ChatData(r.Context(), in, r.PathValue("id"))
	return DataBody{Data: d}, http.StatusOK, err
}

func (h *Handler) putData(w http.ResponseWriter, r *http.Request) (any, int, error) {
	in, err := h.integration(r)
	if err != nil {
		return nil, 0, err
	}
	var b DataBody
	if err := decode(w, r, &b); err != nil {
		return nil, 0, err
	}
	d, err := h.svc.SetChatData(r.Context(), in, r.PathValue("id"), b.Data)
	return DataBody{Data: d}, http.StatusOK, err
}

// BotBody names a bot.
type BotBody struct {
	Name string `json:"name"`
}

func (h *Handler) addBot(w http.ResponseWriter, r *http.Request) (any, int, error) {
	in, err := h.integration(r)
	if err != nil {
		return nil, 0, err
	}
	var b BotBody
	if err := decode(w, r, &b); err != nil {
		return nil, 0, err
	}
	e, err := h.svc.AddBot(r.Context(), in, r.PathValue("id"), b.Name)
	return e, http.StatusCreated, err
}

// HandoverBody asks for a chat to go from its bot to the agents.
type HandoverBody struct {
	GroupID int64  `json:"group_id"`
	Note    string `json:"note"`
}

func (h *Handler) handover(w http.ResponseWriter, r *http.Request) (any, int, error) {
	in, err := h.integration(r)
	if err != nil {
		return nil, 0, err
	}
	var b HandoverBody
	if err := decode(w, r, &b); err != nil {
		return nil, 0, err
	}
	err = h.svc.Handover(r.Context(), in, r.PathValue("id"), conversation.Handover{GroupID: b.GroupID, Note: b.Note})
	return nil, http.StatusNoContent, err
}

func (h *Handler) end(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	in, err := h.integration(r)
	if err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, h.svc.EndChat(r.Context(), in, r.PathValue("id"))
}

func (h *Handler) botChats(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	in, err := h.integration(r)
	if err != nil {
		return nil, 0, err
	}
	chats, err := h.svc.BotChats(r.Context(), in)
	return chats, http.StatusOK, err
}

// KeyBody names a new API key.
type KeyBody struct {
	Name string `json:"name"`
}

// NewKey is a created API key with the key itself, shown this once.
type NewKey struct {
	*parley.APIKey
	Key string `json:"key"`
}

func (h *Handler) listKeys(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	a, err := h.admin(r)
	if err != nil {
		return nil, 0, err
	}
	keys, err := h.svc.APIKeys(r.Context(), a)
	return keys, http.StatusOK, err
}

func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) (any, int, error) {
	a, err := h.admin(r)
	if err != nil {
		return nil, 0, err
	}
	var b KeyBody
	if err := decode(w, r, &b); err != nil {
		return nil, 0, err
	}
	k, key, err := h.svc.CreateAPIKey(r.Context(), a, b.Name)
	return NewKey{APIKey: k, Key: key}, http.StatusCreated, err
}

func (h *Handler) revokeKey(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	a, err := h.admin(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, h.svc.RevokeAPIKey(r.Context(), a, id)
}

func (h *Handler) setGroupBot(w http.ResponseWriter, r *http.Request) (any, int, error) {
	a, err := h.admin(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, 0, err
	}
	var b BotBody
	if err := decode(w, r, &b); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, h.svc.SetGroupBot(r.Context(), a, id, b.Name)
}

// WebhookBody subscribes a URL to events (none listed: all).
type WebhookBody struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

func (h *Handler) webhookAdmin(r *http.Request) (conversation.Actor, error) {
	a, err := h.admin(r)
	if err == nil && h.hooks == nil {
		err = parley.Errorf(parley.EUNAVAILABLE, "webhooks are not available on this server")
	}
	return a, err
}

func (h *Handler) listWebhooks(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	a, err := h.webhookAdmin(r)
	if err != nil {
		return nil, 0, err
	}
	ws, err := h.hooks.List(r.Context(), a.TenantID)
	return ws, http.StatusOK, err
}

func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) (any, int, error) {
	a, err := h.webhookAdmin(r)
	if err != nil {
		return nil, 0, err
	}
	var b WebhookBody
	if err := decode(w, r, &b); err != nil {
		return nil, 0, err
	}
	sub, err := h.hooks.Create(r.Context(), a.TenantID, b.URL, b.Events)
	if err != nil {
		return nil, 0, err
	}
	err = h.svc.Audit(r.Context(), a, conversation.AuditEvent{Action: "webhook.create", TargetKind: "webhook",
		TargetID: strconv.FormatInt(sub.ID, 10), TargetName: sub.URL, Detail: strings.Join(sub.Events, ", ")})
	return sub, http.StatusCreated, err
}

func (h *Handler) deleteWebhook(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	a, err := h.webhookAdmin(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, 0, err
	}
	if err := h.hooks.Delete(r.Context(), a.TenantID, id); err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, h.svc.Audit(r.Context(), a, conversation.AuditEvent{Action: "webhook.delete",
		TargetKind: "webhook", TargetID: strconv.FormatInt(id, 10)})
}

func (h *Handler) deliveries(_ http.ResponseWriter, r *http.Request) (any, int, error) {
	a, err := h.webhookAdmin(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, 0, err
	}
	before, err := queryInt(r, "before", 0, 0, 1<<62)
	if err != nil {
		return nil, 0, err
	}
	limit, err := queryInt(r, "limit", 100, 1, 500)
	if err != nil {
		return nil, 0, err
	}
	ds, err := h.hooks.Deliveries(r.Context(), a.TenantID, id, before, int(limit))
	return ds, http.StatusOK, err
}
