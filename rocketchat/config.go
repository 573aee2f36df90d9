package rocketchat

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// The widget's configuration (REST config, legacy getInitialData) and
// the offline form.

// departments lists the groups as departments; online reports whether
// any takes chats now.
func (h *Handler) departments(ctx context.Context) ([]Department, []*conversation.GroupStatus, bool, error) {
	all, err := h.svc.GroupStatuses(ctx, h.opt.TenantID)
	if err != nil {
		return nil, nil, false, err
	}
	deps := make([]Department, 0, len(all))
	online := false
	for _, st := range all {
		deps = append(deps, Department{ID: departmentID(st.GroupID), Name: st.GroupName, Enabled: true,
			ShowOnRegistration: true, ShowOnOfflineForm: true})
		online = online || st.Open
	}
	return deps, all, online, nil
}

func (h *Handler) triggers(ctx context.Context) ([]Trigger, error) {
	if h.opt.Triggers == nil {
		return []Trigger{}, nil
	}
	t, err := h.opt.Triggers(ctx, h.opt.TenantID)
	if t == nil {
		t = []Trigger{}
	}
	return t, err
}

// widgetLook is what the widget configuration says about the widget.
type widgetLook struct {
	Theme
	Lang                  string
	OfflineForm           bool
	Transcript            bool
	NameField, EmailField bool
}

// look reads the widget configuration over the Theme option.
func (h *Handler) look(ctx context.Context) widgetLook {
	l := widgetLook{Theme: h.theme(), OfflineForm: true, Transcript: true, NameField: true, EmailField: true}
	if h.opt.WidgetConfig == nil {
		return l
	}
	m, err := h.opt.WidgetConfig(ctx, h.opt.TenantID)
	if err != nil {
		h.log.Error("rocketchat: read the widget configuration", "err", err)
		return l
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	if v := str("title"); v != "" {
		l.Title = v
	}
	if v := str("headerBackground"); v != "" {
		l.Color = v
	}
	if v := str("offlineColor"); v != "" {
		l.OfflineColor = v
	}
	if v := str("offlineTitle"); v != "" {
		l.OfflineTitle = v
	}
	if v := str("position"); v != "" {
		l.Position = "right"
		if strings.HasSuffix(v, "left") {
			l.Position = "left"
		}
	}
	l.Lang = str("lang")
	if v, ok := m["offlineForm"].(bool); ok {
		l.OfflineForm = v
	}
	if v, ok := m["transcript"].(bool); ok {
		l.Transcript = v
	}
	l.NameField = str("prechatName") != "off"
	l.EmailField = str("prechatEmail") != "off"
	return l
}

func (h *Handler) theme() Theme {
	t := h.opt.Theme
	if t.Title == "" {
		t.Title = "Chat with us"
	}
	if t.Color == "" {
		t.Color = "#1f5fa8"
	}
	if t.OfflineTitle == "" {
		t.OfflineTitle = "Leave a message"
	}
	if t.OfflineColor == "" {
		t.OfflineColor = "#666666"
	}
	if t.Position == "" {
		t.Position = "right"
	}
	return t
}

// config is the REST configuration; with a token it adds the guest, its
// open room and the agent. dep narrows "online" to one department.
func (h *Handler) config(ctx context.Context, tok, dep string, ejson bool) (map[string]any, error) {
	deps, all, online, err := h.departments(ctx)
	if err != nil {
		return nil, err
	}
	if dep != "" {
		st, err := h.department(ctx, dep)
		if err == nil && st != nil {
			online = st.Open
		}
	}
	trig, err := h.triggers(ctx)
	if err != nil {
		return nil, err
	}
	transcript := false
	for _, st := range all {
		transcript = transcript || st.TranscriptMail
	}
	cfg := h.svc.Config()
	l := h.look(ctx)
	t := l.Theme
	out := map[string]any{
		"enabled": true,
		"online":  online,
		"settings": map[string]any{
			"registrationForm":                 l.NameField || l.EmailField,
			"allowSwitchingDepartments":        true,
			"nameFieldRegistrationForm":        l.NameField,
			"emailFieldRegistrationForm":       l.EmailField,
			"displayOfflineForm":               l.OfflineForm,
			"fileUpload":                       cfg.MaxAttachmentKB > 0,
			"transcript":                       transcript && l.Transcript,
			"language":                         l.Lang,
			"showConnecting":                   false,
			"agentHiddenInfo":                  false,
			"clearLocalStorageWhenChatEnded":   false,
			"limitTextLength":                  cfg.MaxMessageLength,
			"forceAcceptDataProcessingConsent": false,
			"showGDPR":                         false,
			"hiddenSystemMessages":             []string{},
			"livechatLogo":                     nil,
			"historyMonitorType":               "url",
			"hideWatermark":                    false,
		},
		"theme": map[string]any{"title": t.Title, "color": t.Color, "offlineTitle": t.OfflineTitle,
			"offlineColor": t.OfflineColor, "position": t.Position, "actionLinks": map[string]any{}},
		"messages": map[string]any{
			"offlineMessage":              "We are not online right now. Leave a message and we will get back to you.",
			"offlineSuccessMessage":       "Thank you. We will get back to you.",
			"offlineUnavailableMessage":   "",
			"conversationFinishedMessage": "Conversation finished",
			"conversationFinishedText":    "",
			"transcriptMessage":           "Would you like a copy of this chat emailed?",
			"registrationFormMessage":     "",
			"dataProcessingConsentText":   "",
		},
		"survey": map[string]any{
			"items":  []string{"satisfaction", "agentKnowledge", "agentResposiveness", "agentFriendliness"},
			"values": []string{"1", "2", "3", "4", "5"},
		},
		"triggers":    trig,
		"departments": deps,
		"resources":   map[string]any{"sound": map[string]any{}},
	}
	if tok != "" {
		if g := h.guests.get(tok); g != nil {
			snap := g.snap()
			out["guest"] = visitorOf(snap, ejson)
			if snap.HasActor && snap.RID != "" {
				if v, err := h.svc.Chat(ctx, snap.Actor, snap.RID); err == nil && v.State != parley.StateTerminated {
					out["room"] = roomOf(v, snap, ejson)
					if a, _ := h.agentOf(ctx, v); a != nil {
						out["agent"] = a
					}
				}
			}
		}
	}
	return out, nil
}

// initialData is livechat:getInitialData: the configuration flattened
// as Rocket.Chat 4 sent it.
func (h *Handler) initialData(ctx context.Context, tok, dep string) (map[string]any, error) {
	c, err := h.config(ctx, tok, dep, true)
	if err != nil {
		return nil, err
	}
	settings := c["settings"].(map[string]any)
	theme := c["theme"].(map[string]any)
	msgs := c["messages"].(map[string]any)
	out := map[string]any{
		"enabled": true, "online": c["online"], "title": theme["title"], "color": theme["color"],
		"registrationForm": settings["registrationForm"], "language": settings["language"], "videoCall": false, "fileUpload": settings["fileUpload"],
		"transcript": settings["transcript"], "transcriptMessage": msgs["transcriptMessage"],
		"showConnecting": false, "allowSwitchingDepartments": true,
		"offlineTitle": theme["offlineTitle"], "offlineColor": theme["offlineColor"],
		"offlineMessage": msgs["offlineMessage"], "offlineSuccessMessage": msgs["offlineSuccessMessage"],
		"offlineUnavailableMessage": msgs["offlineUnavailableMessage"], "displayOfflineForm": settings["displayOfflineForm"],
		"conversationFinishedMessage": msgs["conversationFinishedMessage"], "conversationFinishedText": "",
		"nameFieldRegistrationForm": settings["nameFieldRegistrationForm"], "emailFieldRegistrationForm": settings["emailFieldRegistrationForm"], "registrationFormMessage": "",
		"triggers": c["triggers"], "departments": c["departments"], "room": nil, "visitor": nil, "agentData": nil,
	}
	if g, ok := c["guest"].(Visitor); ok {
		out["visitor"] = map[string]any{"name": g.Name, "username": g.Username, "visitorEmails": g.VisitorEmails, "department": g.Department, "token": g.Token}
	}
	if r, ok := c["room"].(Room); ok {
		out["room"] = r
	}
	if a, ok := c["agent"].(*Agent); ok {
		out["agentData"] = a
	}
	return out, nil
}

// offlineInput is the offline form.
type offlineInput struct {
	Name       string `json:"name"`
	Email      string `json:"email"`
	Message    string `json:"message"`
	Department string `json:"department"`
	Host       string `json:"host"`
}

// offlineLimiter allows one offline message per client per 5 s, as
// Rocket.Chat does.
type offlineLimiter struct {
	mu   sync.Mutex
	last map[string]time.Time
}

const offlineEvery = 5 * time.Second

func (l *offlineLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.last) > 10000 {
		for k, t := range l.last {
			if now.Sub(t) >= offlineEvery {
				delete(l.last, k)
			}
		}
	}
	if t, ok := l.last[key]; ok && now.Sub(t) < offlineEvery {
		return false
	}
	l.last[key] = now
	return true
}

// offlineMessage stores the offline form as Parley's offline message of
// the department's group (or the default group), mailed as the group
// says.
func (h *Handler) offlineMessage(ctx context.Context, client string, in offlineInput) error {
	st, err := h.department(ctx, in.Department)
	if err != nil {
		return err
	}
	if st == nil {
		if st, err = h.defaultGroup(ctx); err != nil {
			return err
		}
	}
	if !h.offline.allow(client, h.now()) {
		return rcErr(parley.ETOOMANY, "error-too-many-requests", "Error, too many requests. Please slow down. You must wait 5 seconds before trying this action again.")
	}
	_, err = h.svc.LeaveOfflineMessage(ctx, conversation.OfflineRequest{TenantID: h.opt.TenantID, GroupID: st.GroupID,
		Name: in.Name, Email: in.Email, Message: in.Message})
	if parley.ErrorCode(err) == parley.EINVALID {
		return rcErr(parley.EINVALID, "error-invalid-params", parley.ErrorMessage(err))
	}
	return err
}

// clientAddr is the client's address for rate limits: the one the server
// put in the context (behind trusted proxies, from X-Forwarded-For), else
// the TCP peer.
func clientAddr(r *http.Request) string {
	if a := conversation.ClientAddr(r.Context()); a.IsValid() {
		return a.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
