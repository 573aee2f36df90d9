package conversation

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// IntegrationStore keeps what the integration API needs beyond
// parley.Store; sqlite.Store implements it.
type IntegrationStore interface {
	CreateAPIKey(ctx context.Context, k *parley.APIKey) error
	APIKeyByHash(ctx context.Context, hash []byte) (*parley.APIKey, error)
	APIKeys(ctx context.Context, tenantID int64) ([]*parley.APIKey, error)
	RevokeAPIKey(ctx context.Context, tenantID, id int64, at time.Time) error
	SetGroupBot(ctx context.Context, tenantID, groupID int64, name string) error
	GroupBot(ctx context.Context, groupID int64) (string, error)
	SetChatData(ctx context.Context, chatID string, data map[string]string, at time.Time) error
	ChatData(ctx context.Context, chatID string) (map[string]string, error)
}

// integrationStore returns the store's integration part.
func (s *Service) integrationStore() (IntegrationStore, error) {
	var under parley.Store = s.store
	if l, ok := s.store.(*liveStore); ok {
		under = l.Store
	}
	is, ok := under.(IntegrationStore)
	if !ok {
		return nil, parley.Errorf(parley.EINTERNAL, "the store does not support integrations")
	}
	return is, nil
}

// apiKeyPrefix starts every integration API key.
const apiKeyPrefix = "pk_"

// Integration is an authenticated caller of the integration API: a
// workflow or a bot, with the rights of its tenant's supervisors over
// chats.
type Integration struct {
	TenantID int64
	KeyID    int64
	// Name is the key's name, the default name of its posts.
	Name string
}

// actor is the integration as a reader of chats: it sees what agents
// and supervisors see.
func (in *Integration) actor() Actor {
	return Actor{Kind: parley.PartyAgent, TenantID: in.TenantID,
		Agent: &parley.Agent{TenantID: in.TenantID, Role: parley.RoleSupervisor, DisplayName: in.Name}}
}

// AuthenticateKey returns the integration of a valid, unrevoked API key.
func (s *Service) AuthenticateKey(ctx context.Context, key string) (*Integration, error) {
	denied := parley.Errorf(parley.EUNAUTHORIZED, "missing or invalid API key")
	if !strings.HasPrefix(key, apiKeyPrefix) || len(key) > 200 {
		return nil, denied
	}
	is, err := s.integrationStore()
	if err != nil {
		return nil, err
	}
	k, err := is.APIKeyByHash(ctx, hashToken(key))
	switch {
	case isCode(err, parley.ENOTFOUND):
		return nil, denied
	case err != nil:
		return nil, internal("find api key", err)
	case !k.RevokedAt.IsZero():
		return nil, denied
	}
	if err := s.apiCallAllowed(k.ID); err != nil {
		return nil, err
	}
	return &Integration{TenantID: k.TenantID, KeyID: k.ID, Name: k.Name}, nil
}

// checkName validates a one-line name of at most 100 characters.
func checkName(what, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", parley.Errorf(parley.EINVALID, "%s is required", what)
	case !utf8.ValidString(name):
		return "", parley.Errorf(parley.EINVALID, "%s is not valid UTF-8", what)
	case utf8.RuneCountInString(name) > 100:
		return "", parley.Errorf(parley.EINVALID, "%s is longer than 100 characters", what)
	}
	return name, parley.CheckChars(what, name, false)
}

// CreateAPIKey makes a key for the admin's tenant. The key is returned
// once; only its hash is stored.
func (s *Service) CreateAPIKey(ctx context.Context, actor Actor, name string) (*parley.APIKey, string, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, "", err
	}
	name, err := checkName("name", name)
	if err != nil {
		return nil, "", err
	}
	is, err := s.integrationStore()
	if err != nil {
		return nil, "", err
	}
	key := apiKeyPrefix + newToken()
	k := &parley.APIKey{TenantID: actor.TenantID, Name: name, Prefix: key[:len(apiKeyPrefix)+6], Hash: hashToken(key)}
	if err := is.CreateAPIKey(ctx, k); err != nil {
		return nil, "", internal("create api key", err)
	}
	return k, key, s.audit(ctx, actor, k.TenantID, "api_key.create", "api_key", k.ID, k.Name, "prefix "+k.Prefix)
}

// APIKeys lists the admin's tenant's keys, revoked ones included.
func (s *Service) APIKeys(ctx context.Context, actor Actor) ([]*parley.APIKey, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	is, err := s.integrationStore()
	if err != nil {
		return nil, err
	}
	keys, err := is.APIKeys(ctx, actor.TenantID)
	if err != nil {
		return nil, internal("list api keys", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes a key of the admin's tenant at once.
func (s *Service) RevokeAPIKey(ctx context.Context, actor Actor, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	is, err := s.integrationStore()
	if err != nil {
		return err
	}
	if err := is.RevokeAPIKey(ctx, actor.TenantID, id, s.now().UTC()); err != nil {
		return internal("revoke api key", err)
	}
	return s.audit(ctx, actor, actor.TenantID, "api_key.revoke", "api_key", id, "", "")
}

// Visibility levels of integration posts (Genesys): ALL is everyone, INT
// agents and supervisors only.
const (
	VisibilityAll = "ALL"
	VisibilityInt = "INT"
)

func audienceOf(visibility string) (parley.Audience, error) {
	switch strings.ToUpper(visibility) {
	case "", VisibilityAll:
		return parley.AudienceAll, nil
	case VisibilityInt:
		return parley.AudienceAgents, nil
	}
	return "", parley.Errorf(parley.EINVALID, "visibility must be ALL or INT")
}

// ExternalPost is a message or notice an integration posts into a chat.
type ExternalPost struct {
	// AsBot posts as the chat's bot participant; otherwise the post is
	// the workflow's (party kind external) under Name or the key's name.
	AsBot bool
	Name  string
	// Notice posts a notice instead of a message.
	Notice      bool
	Text        string
	MessageType string
	// Visibility is ALL (default) or INT.
	Visibility string
	ClientID   string
}

var messageTypeChars = regexp.MustCompile(`^[\pL\pN _.:/-]*$`)

// Post adds an integration's message or notice to an active chat.
func (s *Service) Post(ctx context.Context, in *Integration, chatID string, p ExternalPost) (*parley.Event, error) {
	aud, err := audienceOf(p.Visibility)
	if err != nil {
		return nil, err
	}
	if len(p.ClientID) > 100 {
		return nil, parley.Errorf(parley.EINVALID, "client_id is longer than 100 characters")
	}
	if utf8.RuneCountInString(p.MessageType) > 100 || !messageTypeChars.MatchString(p.MessageType) {
		return nil, parley.Errorf(parley.EINVALID, "message_type has at most 100 letters, digits, spaces and . _ : / -")
	}
	from := parley.Party{Kind: parley.PartyExternal, Name: in.Name}
	if p.Name != "" && !p.AsBot {
		if from.Name, err = checkName("name", p.Name); err != nil {
			return nil, err
		}
	}
	unlock := s.lockChat(chatID)
	defer unlock()
	c, err := s.tenantChat(ctx, in.actor(), chatID)
	if err != nil {
		return nil, err
	}
	if !c.Active() {
		return nil, errChatEnded
	}
	if p.AsBot {
		bot := c.Participant(parley.PartyBot, 0)
		if bot == nil {
			return nil, parley.Errorf(parley.ECONFLICT, "no bot takes part in this chat")
		}
		from = bot.Party
	}
	g, err := s.store.Group(ctx, c.GroupID)
	if err != nil {
		return nil, internal("load group", err)
	}
	text, err := checkText(p.Text, s.limits(g).maxLen)
	if err != nil {
		return nil, err
	}
	e := parley.Event{ChatID: c.ID, Type: parley.EventMessage, At: s.now().UTC(), From: from, Audience: aud,
		ClientID: p.ClientID, Text: text, MessageType: p.MessageType}
	if p.Notice {
		e.Type, e.Notice = parley.EventNotice, parley.NoticeExternal
	}
	stored, err := s.store.AppendEvents(ctx, c.ID, []parley.Event{e})
	if err != nil {
		return nil, internal("append event", err)
	}
	s.publish(ctx, stored...)
	if err := ownRetry(e, stored[0]); err != nil {
		return nil, err
	}
	if !p.Notice {
		s.count(func(st *Stats) { st.messages[from.Kind]++ })
	}
	s.log.Debug("integration post", "chat", c.ID, "seq", stored[0].Seq, "kind", from.Kind, "key", in.KeyID,
		"text", s.logText(text))
	return &stored[0], nil
}

// logText is what the log may show of a message.
func (s *Service) logText(text string) string {
	if s.cfg.LogText {
		return text
	}
	return s.cfg.LogFilter.Text(text)
}

// IntegrationChat returns a chat of the integration's tenant as agents
// see it.
func (s *Service) IntegrationChat(ctx context.Context, in *Integration, chatID string) (*ChatView, error) {
	return s.Chat(ctx, in.actor(), chatID)
}

// IntegrationPoll long-polls a chat's events as agents see them (INT
// included), like Poll.
func (s *Service) IntegrationPoll(ctx context.Context, in *Integration, chatID string, after int64, wait time.Duration) ([]parley.Event, int64, error) {
	return s.Poll(ctx, in.actor(), chatID, after, wait)
}

// Limits of attached data.
const (
	maxDataKeys     = 100
	maxDataValueLen = 4096
)

var dataKey = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// SetChatData attaches data to a chat of the integration's tenant
// (Genesys user data): each key gets its value, an empty value removes
// the key. Values are never logged unless a log filter lets them.
func (s *Service) SetChatData(ctx context.Context, in *Integration, chatID string, data map[string]string) (map[string]string, error) {
	if len(data) == 0 || len(data) > maxDataKeys {
		return nil, parley.Errorf(parley.EINVALID, "data must have 1 to %d keys", maxDataKeys)
	}
	for k, v := range data {
		if !dataKey.MatchString(k) {
			return nil, parley.Errorf(parley.EINVALID, "data key %q must be 1 to 64 letters, digits, . _ or -", k)
		}
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxDataValueLen {
			return nil, parley.Errorf(parley.EINVALID, "the value of %s must be valid UTF-8 of at most %d characters", k, maxDataValueLen)
		}
		if err := parley.CheckChars("the value of "+k, v, true); err != nil {
			return nil, err
		}
	}
	is, err := s.integrationStore()
	if err != nil {
		return nil, err
	}
	c, err := s.tenantChat(ctx, in.actor(), chatID)
	if err != nil {
		return nil, err
	}
	if err := is.SetChatData(ctx, c.ID, data, s.now().UTC()); err != nil {
		return nil, internal("set chat data", err)
	}
	s.log.Debug("chat data attached", "chat", c.ID, "key", in.KeyID, "data", s.cfg.LogFilter.Data(data))
	return s.chatData(ctx, is, c.ID)
}

// ChatData returns the data attached to a chat of the integration's
// tenant.
func (s *Service) ChatData(ctx context.Context, in *Integration, chatID string) (map[string]string, error) {
	is, err := s.integrationStore()
	if err != nil {
		return nil, err
	}
	c, err := s.tenantChat(ctx, in.actor(), chatID)
	if err != nil {
		return nil, err
	}
	return s.chatData(ctx, is, c.ID)
}

func (s *Service) chatData(ctx context.Context, is IntegrationStore, chatID string) (map[string]string, error) {
	d, err := is.ChatData(ctx, chatID)
	if err != nil {
		return nil, internal("load chat data", err)
	}
	return d, nil
}
