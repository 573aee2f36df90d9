package rocketchat

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// The operations both wire forms (DDP methods and REST) share.

// guestInput is a guest's registration.
type guestInput struct {
	Token        string
	Name         *string
	Email        *string
	Phone        *string
	Department   *string
	CustomFields map[string]string
}

// department resolves a department given by id (a group number) or name
// to a group; "" is none.
func (h *Handler) department(ctx context.Context, dep string) (*conversation.GroupStatus, error) {
	dep = strings.TrimSpace(dep)
	if dep == "" {
		return nil, nil
	}
	var st *conversation.GroupStatus
	var err error
	if id, perr := strconv.ParseInt(dep, 10, 64); perr == nil && id > 0 {
		st, err = h.svc.GroupStatus(ctx, h.opt.TenantID, id, "")
	} else {
		st, err = h.svc.GroupStatus(ctx, h.opt.TenantID, 0, dep)
	}
	if parley.ErrorCode(err) == parley.ENOTFOUND || parley.ErrorCode(err) == parley.EINVALID {
		return nil, rcErr(parley.EINVALID, "error-invalid-department", "The department is invalid")
	}
	return st, err
}

// register creates or updates a guest.
func (h *Handler) register(ctx context.Context, in guestInput) (*guest, error) {
	if err := checkToken(in.Token); err != nil {
		return nil, err
	}
	depID := ""
	if in.Department != nil {
		st, err := h.department(ctx, *in.Department)
		if err != nil {
			return nil, err
		}
		if st != nil {
			depID = departmentID(st.GroupID)
		}
	}
	d := parley.Visitor{}
	if in.Name != nil {
		d.Name = strings.TrimSpace(*in.Name)
	}
	if in.Email != nil {
		d.Email = strings.ToLower(strings.TrimSpace(*in.Email))
		if d.Email != "" && !parley.ValidEmail(d.Email) {
			return nil, rcErr(parley.EINVALID, "error-invalid-email", "Invalid email "+strconv.Quote(d.Email))
		}
	}
	if in.Phone != nil {
		d.Phone = strings.TrimSpace(*in.Phone)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	for k, v := range in.CustomFields {
		if err := checkField(k, v); err != nil {
			return nil, err
		}
	}
	g, _, err := h.guests.upsert(in.Token)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if in.Name != nil {
		g.name = d.Name
	}
	if in.Email != nil {
		g.email = d.Email
	}
	if in.Phone != nil {
		g.phone = d.Phone
	}
	if in.Department != nil {
		g.department = depID
	}
	if len(in.CustomFields) > 0 && g.custom == nil {
		g.custom = map[string]string{}
	}
	for k, v := range in.CustomFields {
		if len(g.custom) >= maxFields {
			if _, ok := g.custom[k]; !ok {
				return nil, rcErr(parley.EINVALID, "error-invalid-custom-field", "too many custom fields")
			}
		}
		g.custom[k] = v
	}
	return g, nil
}

const (
	maxFields     = 20
	maxFieldKey   = 100
	maxFieldValue = 1000
)

func checkField(k, v string) error {
	if k == "" || len(k) > maxFieldKey || len(v) > maxFieldValue {
		return rcErr(parley.EINVALID, "error-invalid-custom-field", "a custom field's key is 1 to 100 bytes and its value at most 1000")
	}
	if err := parley.CheckChars("custom field", k, false); err != nil {
		return err
	}
	return parley.CheckChars("custom field", v, true)
}

// privateData renders custom fields as the visitor's private data
// ("key: value" lines, sorted), which agents see with the chat.
func privateData(custom map[string]string) string {
	if len(custom) == 0 {
		return ""
	}
	keys := make([]string, 0, len(custom))
	for k := range custom {
		keys = append(keys, k)
	}
	sortStrings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + ": " + custom[k] + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// guestOf returns the guest of a token.
func (h *Handler) guestOf(tok string) (*guest, error) {
	if err := checkToken(tok); err != nil {
		return nil, rcErr(parley.EUNAUTHORIZED, "invalid-token", "Invalid token")
	}
	g := h.guests.get(tok)
	if g == nil {
		return nil, rcErr(parley.EUNAUTHORIZED, "invalid-token", "Invalid token")
	}
	return g, nil
}

// room authenticates a guest's room: the token's guest and a chat of its.
func (h *Handler) room(ctx context.Context, tok, rid string) (*guest, conversation.Actor, *conversation.ChatView, error) {
	g, err := h.guestOf(tok)
	if err != nil {
		return nil, conversation.Actor{}, nil, err
	}
	actor, ok := h.actorOf(g)
	if !ok || rid == "" || len(rid) > 100 {
		return nil, conversation.Actor{}, nil, rcErr(parley.ENOTFOUND, "invalid-room", "Invalid room")
	}
	v, err := h.svc.Chat(ctx, actor, g.chatID(rid))
	switch parley.ErrorCode(err) {
	case "":
	case parley.ENOTFOUND, parley.EFORBIDDEN, parley.EINVALID:
		return nil, conversation.Actor{}, nil, rcErr(parley.ENOTFOUND, "invalid-room", "Invalid room")
	default:
		return nil, conversation.Actor{}, nil, err
	}
	return g, actor, v, nil
}

// openRoom returns the guest's open chat, or requests one: the room the
// widget's GET livechat/room and the first legacy message create. alias
// is a room id the client chose (legacy), kept as another name of the
// chat. first, when set, is the visitor's first message.
func (h *Handler) openRoom(ctx context.Context, g *guest, alias string) (*conversation.ChatView, bool, error) {
	snap := g.snap()
	if snap.HasActor && snap.RID != "" {
		v, err := h.svc.Chat(ctx, snap.Actor, snap.RID)
		if err == nil && v.State != parley.StateTerminated {
			if alias != "" && alias != v.ID {
				g.mu.Lock()
				if g.aliases == nil {
					g.aliases = map[string]string{}
				}
				if len(g.aliases) < 50 {
					g.aliases[alias] = v.ID
				}
				g.mu.Unlock()
			}
			return v, false, nil
		}
	}
	req := conversation.ChatRequest{
		TenantID: h.opt.TenantID,
		Visitor:  parley.Visitor{Name: snap.Name, Email: snap.Email, Phone: snap.Phone, PrivateData: privateData(snap.Custom)},
	}
	if req.Visitor.Name == "" {
		req.Visitor.Name = snap.Username
	}
	g.mu.Lock()
	req.VisitorToken = g.ptoken
	g.mu.Unlock()
	dep := snap.Department
	if dep == "" {
		st, err := h.defaultGroup(ctx)
		if err != nil {
			return nil, false, err
		}
		dep = departmentID(st.GroupID)
	}
	id, _ := strconv.ParseInt(dep, 10, 64)
	req.GroupID = id
	started, err := h.svc.RequestChat(ctx, req)
	if parley.ErrorCode(err) == parley.ECLOSED {
		return nil, false, rcErr(parley.ECLOSED, "no-agent-online", "Sorry, no online agents")
	}
	if err != nil {
		return nil, false, err
	}
	actor, err := h.svc.Authenticate(ctx, started.VisitorToken)
	if err != nil {
		return nil, false, err
	}
	g.mu.Lock()
	g.ptoken, g.actor, g.rid = started.VisitorToken, actor, started.Chat.ID
	if alias != "" && alias != started.Chat.ID {
		if g.aliases == nil {
			g.aliases = map[string]string{}
		}
		if len(g.aliases) < 50 {
			g.aliases[alias] = started.Chat.ID
		}
	}
	g.mu.Unlock()
	return started.Chat, true, nil
}

// defaultGroup is the group of a chat requested without a department:
// the first open group, else the first group.
func (h *Handler) defaultGroup(ctx context.Context) (*conversation.GroupStatus, error) {
	all, err := h.svc.GroupStatuses(ctx, h.opt.TenantID)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, rcErr(parley.ECLOSED, "no-agent-online", "Sorry, no online agents")
	}
	for _, st := range all {
		if st.Open {
			return st, nil
		}
	}
	return all[0], nil
}

// roomOf renders a chat as a Livechat room.
func roomOf(v *conversation.ChatView, g snapshot, ejson bool) Room {
	r := Room{ID: v.ID, T: "l", FName: g.Name, Open: v.State != parley.StateTerminated, TS: Date{v.CreatedAt, ejson},
		Msgs: v.LastSeq, V: RoomVisitor{ID: g.ID, Username: g.Username, Token: g.Token, Status: g.Status},
		DepartmentID: departmentID(v.GroupID), WaitingResponse: v.Agent == nil, Source: RoomSource{Type: "widget"}}
	if r.FName == "" {
		r.FName = g.Username
	}
	if v.Agent != nil {
		r.ServedBy = &ServedBy{ID: agentID(v.Agent.AgentID), Username: agentUsername(v.Agent.AgentID), TS: Date{v.AcceptedAt, ejson}}
	}
	if !v.EndedAt.IsZero() {
		r.ClosedAt = &Date{v.EndedAt, ejson}
	}
	return r
}

// visitorOf renders a guest.
func visitorOf(g snapshot, ejson bool) Visitor {
	v := Visitor{ID: g.ID, Token: g.Token, Username: g.Username, Name: g.Name, Department: g.Department,
		Status: g.Status, TS: Date{g.Created, ejson}, LivechatData: g.Custom}
	if g.Email != "" {
		v.VisitorEmails = []Email{{Address: g.Email}}
	}
	if g.Phone != "" {
		v.Phone = []Phone{{PhoneNumber: g.Phone}}
	}
	return v
}

// agentOf returns the agent serving a chat, or nil.
func (h *Handler) agentOf(ctx context.Context, v *conversation.ChatView) (*Agent, error) {
	if v.Agent == nil {
		return nil, nil
	}
	a := &Agent{ID: agentID(v.Agent.AgentID), Username: agentUsername(v.Agent.AgentID), Name: v.Agent.Name, Status: "online"}
	if pa, err := h.svc.PublicAgentByID(ctx, v.TenantID, v.Agent.AgentID); err == nil {
		a.Name = pa.Name
		if !pa.Available {
			a.Status = "away"
		}
		a.Avatar = pa.PhotoURL
	}
	return a, nil
}

// history returns the chat's messages as the visitor sees them, newest
// first, at most limit (≤ 0: all), older than end when end is set.
func (h *Handler) history(ctx context.Context, actor conversation.Actor, g snapshot, rid, chatID string, limit int, end int64, ejson bool) ([]Message, error) {
	cur, err := h.svc.OpenCursor(ctx, actor, chatID, 0)
	if err != nil {
		return nil, err
	}
	defer cur.Close()
	var all []Message
	at := map[string]int{} // message _id → index in all
	for {
		events, err := cur.TryNext(ctx)
		if err != nil {
			return nil, err
		}
		if len(events) == 0 {
			break
		}
		for i := range events {
			e := &events[i]
			if e.Seq == 0 {
				continue
			}
			// Corrections apply to what is shown, whenever they came.
			if e.Type == parley.EventEdited || e.Type == parley.EventDeleted {
				if k, ok := at[correctedID(e)]; ok {
					if e.Type == parley.EventDeleted {
						all[k].ID = "" // dropped below
					} else {
						applyEdit(&all[k], e, ejson)
					}
				}
				continue
			}
			if end > 0 && e.At.UnixMilli() >= end {
				continue
			}
			if m := messageOf(e, rid, g, ejson); m != nil {
				at[m.ID] = len(all)
				all = append(all, *m)
			}
		}
	}
	out := make([]Message, 0, len(all))
	for i := len(all) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		if all[i].ID != "" {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// correctedID is the _id of the message an edit or withdrawal names.
func correctedID(e *parley.Event) string {
	if len(e.Args) > 1 && e.Args[1] != "" {
		return e.Args[1]
	}
	if len(e.Args) > 0 {
		return e.ChatID + "-" + e.Args[0]
	}
	return ""
}

// applyEdit shows an edit on its message.
func applyEdit(m *Message, e *parley.Event, ejson bool) {
	m.Msg = e.Text
	m.EditedAt = &Date{e.At, ejson}
	u := m.U
	m.EditedBy = &u
	m.UpdatedAt = Date{e.At, ejson}
}

// findMessage returns the stored message of the chat whose _id is id.
func (h *Handler) findMessage(ctx context.Context, actor conversation.Actor, chatID, id string) (*parley.Event, error) {
	cur, err := h.svc.OpenCursor(ctx, actor, chatID, 0)
	if err != nil {
		return nil, err
	}
	defer cur.Close()
	for {
		events, err := cur.TryNext(ctx)
		if err != nil {
			return nil, err
		}
		if len(events) == 0 {
			return nil, rcErr(parley.ENOTFOUND, "invalid-message", "Invalid message")
		}
		for i := range events {
			if e := &events[i]; e.Seq > 0 && e.Type == parley.EventMessage && messageID(e) == id {
				return e, nil
			}
		}
	}
}

// messageOf renders a stored event as a message, or nil when it has no
// Rocket.Chat form. A file's link is relative to the server's URL (with
// any prefix), as the widget prepends its host to it.
func messageOf(e *parley.Event, rid string, g snapshot, ejson bool) *Message {
	m := &Message{ID: messageID(e), RID: rid, TS: Date{e.At, ejson}, UpdatedAt: Date{e.At, ejson}}
	switch e.From.Kind {
	case parley.PartyVisitor:
		m.U = User{ID: g.ID, Username: g.Username, Name: g.Name}
		m.Token, m.Alias = g.Token, g.Name
		if m.Alias == "" {
			m.Alias = g.Username
		}
	case parley.PartyAgent:
		m.U = agentUser(e.From)
	default:
		m.U = User{ID: "rocket.cat", Username: "rocket.cat", Name: e.From.Name}
	}
	switch e.Type {
	case parley.EventMessage:
		m.Msg = e.Text
	case parley.EventFile:
		if e.File == nil {
			return nil
		}
		f := e.File
		link := filePrefix + url.PathEscape(e.ChatID) + "/" + url.PathEscape(f.ID) + "/" + url.PathEscape(f.Name)
		if g.Token != "" {
			link += "?rc_token=" + url.QueryEscape(g.Token)
		}
		m.File = &MessageFile{ID: f.ID, Name: f.Name, Type: f.ContentType, Size: f.Size}
		m.Files = []MessageFile{*m.File}
		a := Attachment{Type: "file", Title: f.Name, TitleLink: link, TitleLinkDownload: true, Size: f.Size, Format: fileFormat(f.Name)}
		if strings.HasPrefix(f.ContentType, "image/") {
			a.ImageURL, a.ImageType, a.ImageSize = link, f.ContentType, f.Size
		}
		m.Attachments = []Attachment{a}
	case parley.EventJoined:
		if e.From.Kind != parley.PartyAgent {
			return nil
		}
		m.T, m.Msg = "uj", m.U.Username
	case parley.EventLeft:
		if e.From.Kind != parley.PartyAgent {
			return nil
		}
		m.T, m.Msg = "ul", m.U.Username
	case parley.EventState:
		if e.State == nil || e.State.State != parley.StateTerminated {
			return nil
		}
		m.T = "livechat-close"
		m.Msg = "Conversation finished"
	case parley.EventNotice:
		if e.Text == "" {
			return nil
		}
		m.Msg = e.Text
		m.U = User{ID: "rocket.cat", Username: "rocket.cat", Name: "Parley"}
	default:
		return nil
	}
	no := false
	m.Groupable = &no
	if e.Type == parley.EventMessage || e.Type == parley.EventFile {
		m.Groupable = nil
	}
	return m
}

// messageID is a message's _id: the sender's client id (the _id a
// Rocket.Chat client chose), else the chat and seq.
func messageID(e *parley.Event) string {
	if e.ClientID != "" {
		return e.ClientID
	}
	return e.ChatID + "-" + strconv.FormatInt(e.Seq, 10)
}

func fileFormat(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 && i < len(name)-1 {
		return strings.ToUpper(name[i+1:])
	}
	return ""
}
