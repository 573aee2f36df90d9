package gms

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

// The CometD variant: Bayeux 1.0 over long-polling at /genesys/cometd. A
// client publishes {operation, …} on /service/chatV2/{service}; the
// answers and the chat's events come back as envelopes in data on the
// same channel, delivered by the client's /meta/connect. A connect waits
// in its own request: it holds a wake channel, a timer and nothing else;
// the chat's events reach it through the node's hub (the session's
// cursor), which kicks the wake channel.

// Limits of the CometD transport.
const (
	maxCometBody  = 64 << 10
	maxCometBatch = 50
	maxCometQueue = 256
	channelPrefix = "/service/chatV2/"
)

// bayeux is a message from a client.
type bayeux struct {
	Channel        string          `json:"channel"`
	ClientID       string          `json:"clientId,omitempty"`
	ID             json.RawMessage `json:"id,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
	Subscription   json.RawMessage `json:"subscription,omitempty"`
	ConnectionType string          `json:"connectionType,omitempty"`
}

// reply is a message to a client.
type reply struct {
	Channel                  string          `json:"channel"`
	ClientID                 string          `json:"clientId,omitempty"`
	ID                       json.RawMessage `json:"id,omitempty"`
	Successful               *bool           `json:"successful,omitempty"`
	Error                    string          `json:"error,omitempty"`
	Version                  string          `json:"version,omitempty"`
	SupportedConnectionTypes []string        `json:"supportedConnectionTypes,omitempty"`
	Subscription             json.RawMessage `json:"subscription,omitempty"`
	Advice                   *advice         `json:"advice,omitempty"`
	Data                     any             `json:"data,omitempty"`
}

type advice struct {
	Reconnect string `json:"reconnect"`
	Interval  int    `json:"interval"`
	Timeout   int64  `json:"timeout,omitempty"`
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

// comet is one CometD client.
type comet struct {
	id   string
	wake chan struct{}

	mu        sync.Mutex
	queue     []reply // data messages waiting for a connect
	follows   map[*session]*follow
	connected bool
	cancel    context.CancelFunc // of the connect waiting now
	used      time.Time
}

// follow is a CometD client's position in a chat.
type follow struct {
	service string
	pos     int64  // the next index to push
	ephN    uint64 // the last ephemeral entry pushed
	done    bool   // the end was pushed
}

func (c *comet) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// push queues a data message for the next connect.
func (c *comet) push(service string, env Envelope) {
	c.mu.Lock()
	if len(c.queue) < maxCometQueue {
		c.queue = append(c.queue, reply{Channel: channelPrefix + service, Data: env})
	}
	c.mu.Unlock()
	c.kick()
}

// comets are this node's CometD clients.
type comets struct {
	ttl   time.Duration
	mu    sync.Mutex
	m     map[string]*comet
	swept time.Time
}

func newComets(ttl time.Duration) *comets {
	return &comets{ttl: ttl, m: map[string]*comet{}, swept: time.Now()}
}

func (cs *comets) get(id string) *comet {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.m[id]
	if c != nil {
		c.mu.Lock()
		c.used = time.Now()
		c.mu.Unlock()
	}
	return c
}

func (cs *comets) add() *comet {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	c := &comet{id: hex.EncodeToString(b), wake: make(chan struct{}, 1), follows: map[*session]*follow{}, used: time.Now()}
	now := time.Now()
	var stale []*comet
	cs.mu.Lock()
	cs.m[c.id] = c
	if now.Sub(cs.swept) > cs.ttl/4 {
		cs.swept = now
		for id, o := range cs.m {
			o.mu.Lock()
			old := now.Sub(o.used) > cs.ttl && o.cancel == nil
			o.mu.Unlock()
			if old {
				delete(cs.m, id)
				stale = append(stale, o)
			}
		}
	}
	cs.mu.Unlock()
	for _, o := range stale {
		o.unfollowAll()
	}
	return c
}

func (cs *comets) remove(c *comet) {
	cs.mu.Lock()
	delete(cs.m, c.id)
	cs.mu.Unlock()
	c.unfollowAll()
}

func (c *comet) unfollowAll() {
	c.mu.Lock()
	fs := c.follows
	c.follows = map[*session]*follow{}
	c.mu.Unlock()
	for s := range fs {
		s.cmu.Lock()
		delete(s.comets, c)
		s.cmu.Unlock()
	}
}

// followAt makes c push the session's messages from index pos on.
func (c *comet) followAt(s *session, service string, pos int64) {
	s.mu.Lock()
	ephN := s.n
	s.mu.Unlock()
	c.mu.Lock()
	c.follows[s] = &follow{service: service, pos: pos, ephN: ephN}
	c.mu.Unlock()
	s.cmu.Lock()
	s.comets[c] = struct{}{}
	s.cmu.Unlock()
	c.kick()
}

// cometd serves POST /genesys/cometd: a batch of Bayeux messages.
func (h *Handler) cometd(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		h.fail(w, r, errMethod)
		return
	}
	msgs, err := readBayeux(w, r)
	if err != nil {
		env, status := h.envelopeOf(err)
		writeJSON(w, status, []reply{{Channel: "/meta/error", Successful: no(), Error: "400::" + parley.ErrorMessage(err), Data: env}})
		return
	}
	out := []reply{}
	var connect *bayeux
	var conn *comet
	for i := range msgs {
		m := &msgs[i]
		switch m.Channel {
		case "/meta/handshake":
			c := h.comet.add()
			out = append(out, reply{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: yes(), Version: "1.0",
				SupportedConnectionTypes: []string{"long-polling"}, Advice: h.advice("retry")})
			continue
		case "/meta/connect":
			if connect == nil {
				connect = m
				continue
			}
		}
		c := h.comet.get(m.ClientID)
		if c == nil {
			out = append(out, reply{Channel: m.Channel, ID: m.ID, ClientID: m.ClientID, Successful: no(),
				Error: "402::Unknown client", Advice: &advice{Reconnect: "handshake"}})
			continue
		}
		switch {
		case m.Channel == "/meta/connect":
			out = append(out, reply{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: no(), Error: "400::one connect per request"})
		case m.Channel == "/meta/disconnect":
			h.comet.remove(c)
			out = append(out, reply{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: yes()})
		case m.Channel == "/meta/subscribe" || m.Channel == "/meta/unsubscribe":
			var sub string
			ok := json.Unmarshal(m.Subscription, &sub) == nil && strings.HasPrefix(sub, channelPrefix)
			rp := reply{Channel: m.Channel, ID: m.ID, ClientID: c.id, Subscription: m.Subscription, Successful: yes()}
			if !ok {
				rp.Successful, rp.Error = no(), "403::only "+channelPrefix+"{service} is served"
			}
			out = append(out, rp)
		case strings.HasPrefix(m.Channel, channelPrefix):
			service := strings.TrimPrefix(m.Channel, channelPrefix)
			h.publish(r.Context(), c, service, m.Data)
			out = append(out, reply{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: yes()})
		default:
			out = append(out, reply{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: no(), Error: "403::channel not served"})
		}
		conn = c
	}
	if connect != nil {
		c := h.comet.get(connect.ClientID)
		if c == nil {
			out = append(out, reply{Channel: connect.Channel, ID: connect.ID, ClientID: connect.ClientID, Successful: no(),
				Error: "402::Unknown client", Advice: &advice{Reconnect: "handshake"}})
		} else {
			// Publishes of the same batch are answered first, at once.
			data := h.connect(r.Context(), c, len(out) > 0 && conn == c)
			out = append(data, append(out, reply{Channel: connect.Channel, ID: connect.ID, ClientID: c.id, Successful: yes(), Advice: h.advice("retry")})...)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) advice(reconnect string) *advice {
	return &advice{Reconnect: reconnect, Interval: 0, Timeout: h.opt.CometTimeout.Milliseconds()}
}

// readBayeux decodes a batch: a JSON array of messages or one message.
func readBayeux(w http.ResponseWriter, r *http.Request) ([]bayeux, error) {
	var body bytes.Buffer
	if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, maxCometBody)); err != nil {
		return nil, bodyError(err, "the body could not be read")
	}
	return decodeBayeux(body.Bytes())
}

// decodeBayeux decodes a batch of Bayeux messages.
func decodeBayeux(data []byte) ([]bayeux, error) {
	data = bytes.TrimSpace(data)
	var msgs []bayeux
	var err error
	if len(data) > 0 && data[0] == '{' {
		var m bayeux
		err = json.Unmarshal(data, &m)
		msgs = []bayeux{m}
	} else {
		err = json.Unmarshal(data, &msgs)
	}
	switch {
	case err != nil:
		return nil, parley.Errorf(parley.EINVALID, "the body is not a Bayeux message or batch")
	case len(msgs) == 0:
		return nil, parley.Errorf(parley.EINVALID, "the batch is empty")
	case len(msgs) > maxCometBatch:
		return nil, parley.Errorf(parley.EINVALID, "a batch has at most %d messages", maxCometBatch)
	}
	for _, m := range msgs {
		if m.Channel == "" || len(m.Channel) > 300 || len(m.ClientID) > 100 || len(m.ID) > 100 {
			return nil, parley.Errorf(parley.EINVALID, "a message needs a channel; clientId and id are short")
		}
	}
	return msgs, nil
}

// connect waits for messages for c, up to CometTimeout; at once when
// immediate or on the client's first connect.
func (h *Handler) connect(ctx context.Context, c *comet, immediate bool) []reply {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(h.stopping, cancel)()
	c.mu.Lock()
	if c.cancel != nil {
		c.cancel() // a newer connect replaces a waiting one
	}
	c.cancel = cancel
	first := !c.connected
	c.connected = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.cancel != nil && ctx.Err() == nil {
			c.cancel = nil
		}
		c.used = time.Now()
		c.mu.Unlock()
	}()
	// The client is present in its chats while its connect waits, and for
	// the poll grace after (flex-disconnect-timeout).
	c.mu.Lock()
	var releases []func()
	for s := range c.follows {
		releases = append(releases, h.svc.VisitorPolled(ctx, s.chatID))
		s.mu.Lock()
		s.used = time.Now()
		s.mu.Unlock()
	}
	c.mu.Unlock()
	defer func() {
		for _, release := range releases {
			release()
		}
	}()
	h.polling.Add(1)
	defer h.polling.Add(-1)
	timer := time.NewTimer(h.opt.CometTimeout)
	defer timer.Stop()
	for {
		if out := h.collect(ctx, c); len(out) > 0 || immediate || first {
			return out
		}
		select {
		case <-c.wake:
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// collect takes c's queued messages and what its chats have new.
func (h *Handler) collect(ctx context.Context, c *comet) []reply {
	c.mu.Lock()
	out := c.queue
	c.queue = nil
	type item struct {
		s *session
		f *follow
	}
	var items []item
	for s, f := range c.follows {
		items = append(items, item{s, f})
	}
	c.mu.Unlock()
	for _, it := range items {
		it.s.mu.Lock()
		err := it.s.drain(ctx)
		var env Envelope
		var n uint64
		if err == nil {
			env, n, err = it.s.transcript(ctx, it.f.pos, it.f.ephN)
		}
		it.s.mu.Unlock()
		if err != nil {
			env, _ = h.envelopeOf(err)
			env.ChatID = it.s.chatID
			out = append(out, reply{Channel: channelPrefix + it.f.service, Data: env})
			c.unfollow(it.s)
			continue
		}
		if len(env.Messages) == 0 && (!env.ChatEnded || it.f.done) {
			continue
		}
		c.mu.Lock()
		it.f.pos, it.f.ephN, it.f.done = env.NextPosition, n, env.ChatEnded
		c.mu.Unlock()
		out = append(out, reply{Channel: channelPrefix + it.f.service, Data: env})
	}
	return out
}

func (c *comet) unfollow(s *session) {
	c.mu.Lock()
	delete(c.follows, s)
	c.mu.Unlock()
	s.cmu.Lock()
	delete(s.comets, c)
	s.cmu.Unlock()
}

// publish runs an operation a client published on /service/chatV2/{service};
// its answer, or its error, is pushed to the client as an envelope.
func (h *Handler) publish(ctx context.Context, c *comet, service string, data json.RawMessage) {
	f, err := cometForm(data)
	if err != nil {
		env, _ := h.envelopeOf(err)
		c.push(service, env)
		return
	}
	op := f.get("operation")
	if op == "requestChat" {
		env, s, err := h.startChat(ctx, service, f)
		if err != nil {
			env, _ = h.envelopeOf(err)
			c.push(service, env)
			return
		}
		c.push(service, env)
		c.followAt(s, service, env.NextPosition)
		return
	}
	if op == "sendMessage" {
		op = "send"
	}
	_, known := ops[op]
	if !known && op != "requestNotifications" {
		env, _ := h.envelopeOf(parley.Errorf(parley.EINVALID, "unknown operation %q", clip(op)))
		c.push(service, env)
		return
	}
	var s *session
	if id := f.get("chatId"); id != "" {
		s, err = h.sess.open(ctx, id, f.get("secureKey"))
	} else {
		s, err = h.sess.byKey(ctx, f.get("secureKey"))
	}
	if err != nil {
		env, _ := h.envelopeOf(err)
		c.push(service, env)
		return
	}
	if op == "requestNotifications" {
		pos := int64(1)
		if f.has("transcriptPosition") {
			if pos, err = position(f.get("transcriptPosition")); err != nil {
				env, _ := h.envelopeOf(err)
				c.push(service, env)
				return
			}
		}
		c.followAt(s, service, max(pos, 1))
		return
	}
	c.mu.Lock()
	_, following := c.follows[s]
	c.mu.Unlock()
	if !following {
		s.mu.Lock()
		next := s.next()
		s.mu.Unlock()
		c.followAt(s, service, next)
	}
	if _, err := h.do(ctx, s, op, f, false); err != nil {
		env, _ := h.envelopeOf(err)
		env.ChatID = s.chatID
		c.push(service, env)
	}
}

// cometForm turns a publish's data object into a form: strings, numbers
// and booleans as parameters, userData as an object of strings.
func cometForm(data json.RawMessage) (*form, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, parley.Errorf(parley.EINVALID, "data must be an object with an operation")
	}
	f := &form{values: url.Values{}}
	for k, raw := range obj {
		if k == "userData" {
			var ud map[string]any
			if err := json.Unmarshal(raw, &ud); err != nil {
				return nil, parley.Errorf(parley.EINVALID, "userData must be an object")
			}
			for uk, uv := range ud {
				s, err := scalar(uv)
				if err != nil {
					return nil, parley.Errorf(parley.EINVALID, "userData values must be strings")
				}
				f.values.Set("userData["+uk+"]", s)
			}
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "data is malformed")
		}
		s, err := scalar(v)
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "data field %q must be a string or a number", clip(k))
		}
		f.values.Set(k, s)
	}
	if err := f.decode(); err != nil {
		return nil, err
	}
	return f, nil
}

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "", nil
	}
	return "", errors.New("not a scalar")
}
