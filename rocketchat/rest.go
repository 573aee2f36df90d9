package rocketchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// The REST API under /api/v1/livechat/, as the widget calls it.

// maxBody bounds a JSON request body.
const maxBody = 64 << 10

// filePrefix is where files of a chat are served to its visitor.
const filePrefix = "/file-upload/"

// endpoint is one REST operation.
type endpoint func(h *Handler, w http.ResponseWriter, r *http.Request, args []string) (any, error)

// routes maps "METHOD name" to an endpoint; name is the first path
// element after livechat/, args the rest.
var routes = map[string]endpoint{
	"GET config":           (*Handler).getConfig,
	"POST visitor":         (*Handler).postVisitor,
	"GET visitor":          (*Handler).getVisitor,
	"DELETE visitor":       (*Handler).deleteVisitor,
	"GET room":             (*Handler).getRoom,
	"POST message":         (*Handler).postMessage,
	"GET message":          (*Handler).getMessage,
	"PUT message":          (*Handler).editMessage,
	"DELETE message":       (*Handler).editMessage,
	"GET messages.history": (*Handler).getHistory,
	"GET agent.info":       (*Handler).agentInfo,
	"GET agent.next":       (*Handler).agentNext,
	"POST room.close":      (*Handler).roomClose,
	"POST room.survey":     (*Handler).roomSurvey,
	"POST transcript":      (*Handler).transcript,
	"POST offline.message": (*Handler).postOffline,
	"POST page.visited":    (*Handler).pageVisited,
	"POST custom.field":    (*Handler).customField,
	"POST custom.fields":   (*Handler).customFields,
	"POST visitor.status":  (*Handler).visitorStatus,
	"POST upload":          (*Handler).upload,
}

// rest serves one REST request; p is the path after livechat/.
func (h *Handler) rest(w http.ResponseWriter, r *http.Request, p string) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range parts {
		u, err := url.PathUnescape(s)
		if err != nil {
			h.fail(w, r, rcErr(parley.EINVALID, "error-invalid-params", "bad path"))
			return
		}
		parts[i] = u
	}
	ep, ok := routes[r.Method+" "+parts[0]]
	if !ok {
		for k := range routes {
			if strings.HasSuffix(k, " "+parts[0]) {
				w.Header().Set("Allow", strings.Fields(k)[0])
				dialect.JSON(w, http.StatusMethodNotAllowed, failure{Error: "Method not allowed"})
				return
			}
		}
		dialect.JSON(w, http.StatusNotFound, failure{Error: "API endpoint \"livechat/" + parts[0] + "\" does not exist"})
		return
	}
	res, err := ep(h, w, r, parts[1:])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if res == nil {
		return // written
	}
	dialect.JSON(w, http.StatusOK, success(res))
}

// success adds "success": true to a result object.
func success(res any) any {
	data, err := json.Marshal(res)
	if err != nil || len(data) < 2 || data[0] != '{' {
		return res
	}
	if string(data) == "{}" {
		return json.RawMessage(`{"success":true}`)
	}
	out := append([]byte{}, data[:len(data)-1]...)
	out = append(out, `,"success":true}`...)
	return json.RawMessage(out)
}

// decode reads a JSON body strictly into v.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return parley.Errorf(parley.ETOOLARGE, "the body is larger than %d bytes", tooBig.Limit)
		}
		return parley.Errorf(parley.EINVALID, "the body could not be read")
	}
	return DecodeBody(body, v)
}

// DecodeBody decodes a REST request body into v: one JSON object, with
// fields of the right types.
func DecodeBody(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return rcErr(parley.EINVALID, "error-invalid-params", "Match error: "+te.Field+" has the wrong type")
		}
		return rcErr(parley.EINVALID, "error-invalid-params", "the body is not a JSON object")
	}
	if d.More() {
		return rcErr(parley.EINVALID, "error-invalid-params", "the body has more than one JSON value")
	}
	return nil
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

func (h *Handler) getConfig(_ http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	q := r.URL.Query()
	cfg, err := h.config(r.Context(), q.Get("token"), q.Get("department"), false)
	if err != nil {
		return nil, err
	}
	return map[string]any{"config": cfg}, nil
}

// visitorBody is POST livechat/visitor's body.
type visitorBody struct {
	Visitor struct {
		Token        string          `json:"token"`
		Name         *string         `json:"name"`
		Email        *string         `json:"email"`
		Phone        *string         `json:"phone"`
		Department   *string         `json:"department"`
		Username     *string         `json:"username"`
		CustomFields json.RawMessage `json:"customFields"`
	} `json:"visitor"`
}

func (h *Handler) postVisitor(w http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	var b visitorBody
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	custom, err := decodeCustomFields(b.Visitor.CustomFields)
	if err != nil {
		return nil, err
	}
	v := b.Visitor
	g, err := h.register(r.Context(), guestInput{Token: v.Token, Name: v.Name, Email: v.Email, Phone: v.Phone, Department: v.Department, CustomFields: custom})
	if err != nil {
		return nil, err
	}
	return map[string]any{"visitor": visitorOf(g.snap(), false)}, nil
}

func (h *Handler) getVisitor(_ http.ResponseWriter, _ *http.Request, args []string) (any, error) {
	g, err := h.guestOf(arg(args, 0))
	if err != nil {
		return nil, err
	}
	return map[string]any{"visitor": visitorOf(g.snap(), false)}, nil
}

func (h *Handler) deleteVisitor(_ http.ResponseWriter, r *http.Request, args []string) (any, error) {
	g, err := h.guestOf(arg(args, 0))
	if err != nil {
		return nil, err
	}
	snap := g.snap()
	if snap.HasActor && snap.RID != "" {
		if v, err := h.svc.Chat(r.Context(), snap.Actor, snap.RID); err == nil && v.State != parley.StateTerminated {
			return nil, rcErr(parley.ECONFLICT, "visitor-has-open-rooms", "Cannot remove visitors with opened rooms")
		}
	}
	h.guests.remove(snap.Token)
	return map[string]any{"visitor": map[string]any{"_id": snap.ID, "ts": Date{h.now(), false}}}, nil
}

func (h *Handler) getRoom(_ http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	q := r.URL.Query()
	g, err := h.guestOf(q.Get("token"))
	if err != nil {
		return nil, err
	}
	if rid := q.Get("rid"); rid != "" {
		if _, _, v, err := h.room(r.Context(), q.Get("token"), rid); err == nil {
			return map[string]any{"room": roomOf(v, g.snap(), false), "newRoom": false}, nil
		}
	}
	v, created, err := h.openRoom(r.Context(), g, "")
	if err != nil {
		return nil, err
	}
	return map[string]any{"room": roomOf(v, g.snap(), false), "newRoom": created}, nil
}

func (h *Handler) postMessage(w http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	var b struct {
		Token string `json:"token"`
		RID   string `json:"rid"`
		Msg   string `json:"msg"`
		ID    string `json:"_id"`
	}
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	g, actor, v, err := h.room(r.Context(), b.Token, b.RID)
	if err != nil {
		return nil, err
	}
	if v.State == parley.StateTerminated {
		return nil, rcErr(parley.ECLOSED, "room-closed", "Room closed")
	}
	if b.ID == "" {
		b.ID = randomID(17)
	}
	if len(b.ID) > 100 {
		return nil, rcErr(parley.EINVALID, "error-invalid-params", "_id is longer than 100 characters")
	}
	e, err := h.svc.Send(r.Context(), actor, v.ID, b.Msg, conversation.SendOptions{ClientID: b.ID})
	if err != nil {
		return nil, err
	}
	return map[string]any{"message": messageOf(e, b.RID, g.snap(), false)}, nil
}

func (h *Handler) getMessage(_ http.ResponseWriter, r *http.Request, args []string) (any, error) {
	q := r.URL.Query()
	g, actor, v, err := h.room(r.Context(), q.Get("token"), q.Get("rid"))
	if err != nil {
		return nil, err
	}
	msgs, err := h.history(r.Context(), actor, g.snap(), q.Get("rid"), v.ID, 0, 0, false)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if m.ID == arg(args, 0) {
			return map[string]any{"message": m}, nil
		}
	}
	return nil, rcErr(parley.ENOTFOUND, "invalid-message", "Invalid message")
}

// editMessage is PUT (new text) and DELETE of a visitor's own message:
// Parley appends an edit or a withdrawal (the log keeps the original).
func (h *Handler) editMessage(w http.ResponseWriter, r *http.Request, args []string) (any, error) {
	var b struct {
		Token string `json:"token"`
		RID   string `json:"rid"`
		Msg   string `json:"msg"`
	}
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	g, actor, v, err := h.room(r.Context(), b.Token, b.RID)
	if err != nil {
		return nil, err
	}
	orig, err := h.findMessage(r.Context(), actor, v.ID, arg(args, 0))
	if err != nil {
		return nil, err
	}
	if orig.From.Kind != parley.PartyVisitor {
		return nil, rcErr(parley.EFORBIDDEN, "error-action-not-allowed", "Only your own messages can be changed")
	}
	if r.Method == http.MethodDelete {
		e, err := h.svc.DeleteMessage(r.Context(), actor, v.ID, orig.Seq)
		if err != nil {
			return nil, err
		}
		return map[string]any{"message": map[string]any{"_id": messageID(orig), "ts": Date{e.At, false}}}, nil
	}
	e, err := h.svc.EditMessage(r.Context(), actor, v.ID, orig.Seq, b.Msg)
	if err != nil {
		return nil, err
	}
	m := messageOf(orig, b.RID, g.snap(), false)
	applyEdit(m, e, false)
	return map[string]any{"message": m}, nil
}

func (h *Handler) getHistory(_ http.ResponseWriter, r *http.Request, args []string) (any, error) {
	q := r.URL.Query()
	rid := arg(args, 0)
	g, actor, v, err := h.room(r.Context(), q.Get("token"), rid)
	if err != nil {
		return nil, err
	}
	limit := 20
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, rcErr(parley.EINVALID, "error-invalid-params", "limit must be a number")
		}
		limit = min(n, 500)
	}
	var end int64
	if s := q.Get("end"); s != "" {
		t, err := parseTime(s)
		if err != nil {
			return nil, rcErr(parley.EINVALID, "error-invalid-params", "end must be a date")
		}
		end = t.UnixMilli()
	}
	msgs, err := h.history(r.Context(), actor, g.snap(), rid, v.ID, limit, end, false)
	if err != nil {
		return nil, err
	}
	return map[string]any{"messages": msgs}, nil
}

// parseTime reads an ISO date or milliseconds.
func parseTime(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func (h *Handler) agentInfo(_ http.ResponseWriter, r *http.Request, args []string) (any, error) {
	_, _, v, err := h.room(r.Context(), arg(args, 1), arg(args, 0))
	if err != nil {
		return nil, err
	}
	a, err := h.agentOf(r.Context(), v)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, rcErr(parley.ENOTFOUND, "invalid-agent", "Invalid agent")
	}
	return map[string]any{"agent": a}, nil
}

func (h *Handler) agentNext(_ http.ResponseWriter, r *http.Request, args []string) (any, error) {
	g, err := h.guestOf(arg(args, 0))
	if err != nil {
		return nil, err
	}
	snap := g.snap()
	if snap.HasActor && snap.RID != "" {
		if v, err := h.svc.Chat(r.Context(), snap.Actor, snap.RID); err == nil && v.State != parley.StateTerminated {
			return map[string]any{}, nil
		}
	}
	st, err := h.department(r.Context(), r.URL.Query().Get("department"))
	if err != nil {
		return nil, err
	}
	if st == nil {
		if st, err = h.defaultGroup(r.Context()); err != nil {
			return nil, err
		}
	}
	// Routing decides when the chat arrives; the next agent is not known
	// before. An available member is named when there is one.
	agents, err := h.svc.PublicAgents(r.Context(), h.opt.TenantID, []int64{st.GroupID})
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		if a.Available {
			return map[string]any{"agent": Agent{ID: agentID(a.ID), Username: agentUsername(a.ID), Name: a.Name, Status: "online", Avatar: a.PhotoURL}}, nil
		}
	}
	return map[string]any{}, nil
}

// tokenRoom is the body of the room calls.
type tokenRoom struct {
	Token string `json:"token"`
	RID   string `json:"rid"`
}

func (h *Handler) roomClose(w http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	var b tokenRoom
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	_, actor, v, err := h.room(r.Context(), b.Token, b.RID)
	if err != nil {
		return nil, err
	}
	if v.State == parley.StateTerminated {
		return nil, rcErr(parley.ECLOSED, "room-closed", "Room closed")
	}
	if err := h.svc.Leave(r.Context(), actor, v.ID); err != nil {
		return nil, err
	}
	return map[string]any{"rid": b.RID, "comment": "Closed by visitor"}, nil
}

func (h *Handler) roomSurvey(w http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	var b struct {
		Token string `json:"token"`
		RID   string `json:"rid"`
		Data  []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"data"`
	}
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	_, actor, v, err := h.room(r.Context(), b.Token, b.RID)
	if err != nil {
		return nil, err
	}
	if len(b.Data) == 0 || len(b.Data) > 10 {
		return nil, rcErr(parley.EINVALID, "invalid-data", "Invalid data")
	}
	score, comment := 0, ""
	data := map[string]string{}
	for _, d := range b.Data {
		data[d.Name] = d.Value
		switch d.Name {
		case "satisfaction":
			n, err := strconv.Atoi(d.Value)
			if err != nil {
				return nil, rcErr(parley.EINVALID, "invalid-data", "satisfaction must be 1 to 5")
			}
			score = n
		case "additionalFeedback":
			comment = d.Value
		}
	}
	if score == 0 {
		// The other items (knowledge, responsiveness, friendliness) are
		// averaged when satisfaction is missing.
		sum, n := 0, 0
		for _, d := range b.Data {
			if v, err := strconv.Atoi(d.Value); err == nil && d.Name != "additionalFeedback" {
				sum, n = sum+v, n+1
			}
		}
		if n > 0 {
			score = (sum + n/2) / n
		}
	}
	if _, err := h.svc.RateChat(r.Context(), actor, v.ID, score, comment); err != nil {
		return nil, err
	}
	return map[string]any{"rid": b.RID, "data": data}, nil
}

func (h *Handler) transcript(w http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	var b struct {
		Token string `json:"token"`
		RID   string `json:"rid"`
		Email string `json:"email"`
	}
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	_, actor, v, err := h.room(r.Context(), b.Token, b.RID)
	if err != nil {
		return nil, err
	}
	if _, err := h.svc.MailTranscript(r.Context(), actor, v.ID, b.Email); err != nil {
		if parley.ErrorCode(err) == parley.EINVALID {
			return nil, rcErr(parley.EINVALID, "error-invalid-email", parley.ErrorMessage(err))
		}
		return nil, err
	}
	return map[string]any{"message": "Livechat transcript sent"}, nil
}

func (h *Handler) postOffline(w http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	var in offlineInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	if err := h.offlineMessage(r.Context(), clientAddr(r), in); err != nil {
		return nil, err
	}
	return map[string]any{"message": "Livechat offline message sent"}, nil
}

func (h *Handler) pageVisited(w http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	var b struct {
		Token    string `json:"token"`
		RID      string `json:"rid"`
		PageInfo struct {
			Change   string `json:"change"`
			Title    string `json:"title"`
			Location struct {
				Href string `json:"href"`
			} `json:"location"`
		} `json:"pageInfo"`
	}
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	g, err := h.guestOf(b.Token)
	if err != nil {
		return nil, err
	}
	if b.RID == "" {
		b.RID = g.snap().RID
	}
	_, actor, v, err := h.room(r.Context(), b.Token, b.RID)
	if err != nil || v.State == parley.StateTerminated {
		// No chat yet: Rocket.Chat keeps the visitor's navigation; Parley
		// shows pages from the chat's start.
		return map[string]any{"page": nil}, nil
	}
	e, err := h.svc.VisitorPage(r.Context(), actor, v.ID, b.PageInfo.Location.Href, b.PageInfo.Title)
	if err != nil {
		return nil, err
	}
	return map[string]any{"page": map[string]any{"msg": b.PageInfo.Title, "navigation": map[string]any{
		"page":  map[string]any{"change": b.PageInfo.Change, "title": b.PageInfo.Title, "location": map[string]any{"href": e.URL}},
		"token": b.Token}}}, nil
}

func (h *Handler) customField(w http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	var b struct {
		Token     string `json:"token"`
		Key       string `json:"key"`
		Value     string `json:"value"`
		Overwrite bool   `json:"overwrite"`
	}
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	if _, err := h.guestOf(b.Token); err != nil {
		return nil, err
	}
	if _, err := h.register(r.Context(), guestInput{Token: b.Token, CustomFields: map[string]string{b.Key: b.Value}}); err != nil {
		return nil, err
	}
	return map[string]any{"field": map[string]any{"key": b.Key, "value": b.Value, "overwrite": b.Overwrite}}, nil
}

func (h *Handler) customFields(w http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	var b struct {
		Token        string `json:"token"`
		CustomFields []struct {
			Key       string `json:"key"`
			Value     string `json:"value"`
			Overwrite bool   `json:"overwrite"`
		} `json:"customFields"`
	}
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	if _, err := h.guestOf(b.Token); err != nil {
		return nil, err
	}
	m := map[string]string{}
	out := []map[string]any{}
	for _, f := range b.CustomFields {
		m[f.Key] = f.Value
		out = append(out, map[string]any{"Key": f.Key, "value": f.Value, "overwrite": f.Overwrite})
	}
	if _, err := h.register(r.Context(), guestInput{Token: b.Token, CustomFields: m}); err != nil {
		return nil, err
	}
	return map[string]any{"fields": out}, nil
}

func (h *Handler) visitorStatus(w http.ResponseWriter, r *http.Request, _ []string) (any, error) {
	var b struct {
		Token  string `json:"token"`
		Status string `json:"status"`
	}
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	g, err := h.guestOf(b.Token)
	if err != nil {
		return nil, err
	}
	switch b.Status {
	case "online", "away", "busy", "offline":
	default:
		return nil, rcErr(parley.EINVALID, "error-invalid-params", "status is online, away, busy or offline")
	}
	g.mu.Lock()
	g.status = b.Status
	g.mu.Unlock()
	return map[string]any{"token": b.Token, "status": b.Status}, nil
}

// upload is POST livechat/upload/:rid: a multipart form with the file
// in "file"; the token in the x-visitor-token header. Parley's rules for
// attachments (size, types, content check) apply in SendFile.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, args []string) (any, error) {
	rid := arg(args, 0)
	g, actor, v, err := h.room(r.Context(), r.Header.Get("X-Visitor-Token"), rid)
	if err != nil {
		return nil, err
	}
	limit := int64(max(h.svc.Config().MaxAttachmentKB, 0))*1024 + 64<<10
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, rcErr(parley.EINVALID, "error-invalid-params", "the body must be multipart/form-data")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, rcErr(parley.EINVALID, "error-invalid-params", "the body must be multipart/form-data")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, rcErr(parley.EINVALID, "error-invalid-params", "[No file uploaded]")
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, rcErr(parley.ETOOLARGE, "error-file-too-large", "File exceeds allowed size")
			}
			return nil, rcErr(parley.EINVALID, "error-invalid-params", "the multipart body is malformed")
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		e, err := h.svc.SendFile(r.Context(), actor, v.ID, part.FileName(), part)
		part.Close()
		if err != nil {
			if parley.ErrorCode(err) == parley.ETOOLARGE {
				return nil, rcErr(parley.ETOOLARGE, "error-file-too-large", parley.ErrorMessage(err))
			}
			if parley.ErrorCode(err) == parley.EINVALID {
				return nil, rcErr(parley.EINVALID, "error-invalid-file-type", parley.ErrorMessage(err))
			}
			return nil, err
		}
		return map[string]any{"message": messageOf(e, rid, g.snap(), false)}, nil
	}
}

// serveFile serves a chat's file to its visitor:
// /file-upload/<chat>/<file>/<name>?rc_token=<visitor token>.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, p string) {
	parts := strings.SplitN(p, "/", 3)
	if len(parts) < 2 || r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.fail(w, r, rcErr(parley.ENOTFOUND, "not-found", "Not found"))
		return
	}
	tok := r.URL.Query().Get("rc_token")
	if tok == "" {
		tok = r.Header.Get("X-Visitor-Token")
	}
	if c, err := r.Cookie("rc_token"); tok == "" && err == nil {
		tok = c.Value
	}
	_, actor, v, err := h.room(r.Context(), tok, parts[0])
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	att, f, err := h.svc.OpenFile(r.Context(), actor, v.ID, parts[1])
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	defer f.Close()
	hd := w.Header()
	hd.Set("Content-Type", att.ContentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Cache-Control", "private, max-age=86400")
	disposition := "attachment"
	if strings.HasPrefix(att.ContentType, "image/") {
		disposition = "inline"
	}
	hd.Set("Content-Disposition", disposition+"; filename*=UTF-8''"+url.PathEscape(att.Name))
	http.ServeContent(w, r, "", att.CreatedAt, f)
}
