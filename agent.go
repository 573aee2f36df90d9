package parley

import (
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxCapacity bounds the concurrent chats one agent can be given.
const MaxCapacity = 50

// DefaultCapacity is the chat capacity of an agent created without one.
const DefaultCapacity = 3

// Role says what a user may do. Every role can be a member of groups and take
// chats; supervisors and admins can do more.
type Role string

// Roles.
const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAgent || r == RoleSupervisor || r == RoleAdmin
}

// Presence is an agent's availability: the agent's own choice, unless a
// presence source (telephony, calendar) overrides an available agent.
type Presence string

// Presences. Offline means logged out: the agent counts for nothing in
// routing. The others mean logged in.
const (
	PresenceAvailable Presence = "available"
	PresenceAway      Presence = "away"
	PresenceBusy      Presence = "busy"
	PresenceOffline   Presence = "offline"
)

// Presence reasons: why a presence source set an available agent away.
const (
	ReasonCall    = "call"    // the phone system reports the agent on a call
	ReasonMeeting = "meeting" // the agent's calendar has a busy entry now
)

// Valid reports whether p is a known presence.
func (p Presence) Valid() bool {
	switch p {
	case PresenceAvailable, PresenceAway, PresenceBusy, PresenceOffline:
		return true
	}
	return false
}

// Status is an agent's work state in the contact center.
type Status string

// Statuses. Only a ready agent is offered chats.
const (
	StatusReady    Status = "ready"
	StatusNotReady Status = "not_ready"
	StatusWrapUp   Status = "wrap_up"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusReady || s == StatusNotReady || s == StatusWrapUp
}

// Agent is a person who answers chats: an estos LiveChat consultant, a
// Genesys agent, a Mitel agent or a Rocket.Chat livechat agent. Admins and
// supervisors are agents with another role.
type Agent struct {
	ID       int64  `json:"id"`
	TenantID int64  `json:"tenant_id"`
	Login    string `json:"login"`
	// DisplayName is the full name shown to colleagues.
	DisplayName string `json:"display_name"`
	// ChatName is the name visitors see; DisplayName when empty.
	ChatName  string `json:"chat_name,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Email     string `json:"email,omitempty"`
	// Phone is the agent's phone number or extension, by which a phone
	// system names the agent to the telephony presence source.
	Phone string `json:"phone,omitempty"`
	// PhotoURL is an https address of the agent's photo, shown to
	// visitors in the widget's header and on the contact portal; empty
	// shows the initials.
	PhotoURL string `json:"photo_url,omitempty"`
	Role     Role   `json:"role"`
	// Capacity is the maximum number of concurrent chats.
	Capacity int          `json:"capacity"`
	Groups   []Membership `json:"groups"`
	Presence Presence     `json:"presence"`
	// PresenceReason says which presence source set the agent away
	// (ReasonCall, ReasonMeeting); empty when the presence is the
	// agent's own choice. While it is set, the agent's own choice is
	// available.
	PresenceReason string `json:"presence_reason,omitempty"`
	// OnCall and InMeeting are the presence sources' last reports.
	OnCall    bool `json:"on_call,omitempty"`
	InMeeting bool `json:"in_meeting,omitempty"`
	// CalendarURL is the agent's iCalendar feed (http or https), read for
	// busy entries; empty means no calendar source.
	CalendarURL  string `json:"calendar_url,omitempty"`
	Status       Status `json:"status"`
	StatusReason string `json:"status_reason,omitempty"`
	// DirectoryDN is the distinguished name of the agent's directory
	// (LDAP) entry; the agent then signs in with the directory password
	// and the directory sync manages it. Empty means a local account.
	DirectoryDN string `json:"directory_dn,omitempty"`
	// Disabled agents cannot sign in and are offered nothing: disabled by
	// an admin, or a directory user who left the agent groups.
	Disabled bool `json:"disabled,omitempty"`
	// PasswordHash is the PHC-encoded argon2id hash; never serialized.
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// Membership places an agent in a group, optionally with its own capacity.
type Membership struct {
	GroupID int64 `json:"group_id"`
	// Capacity overrides the agent's capacity for chats of this group; 0
	// means no override.
	Capacity int `json:"capacity,omitempty"`
}

// NameForVisitors returns the name a visitor sees for the agent.
func (a *Agent) NameForVisitors() string {
	if a.ChatName != "" {
		return a.ChatName
	}
	if a.DisplayName != "" {
		return a.DisplayName
	}
	return a.Login
}

// InGroup reports whether the agent is a member of group id.
func (a *Agent) InGroup(id int64) bool {
	for _, m := range a.Groups {
		if m.GroupID == id {
			return true
		}
	}
	return false
}

var phonePattern = regexp.MustCompile(`^[0-9 +()/.-]*$`)

var loginPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$`)

// Validate reports whether a can be stored.
func (a *Agent) Validate() error {
	switch {
	case !loginPattern.MatchString(a.Login):
		return FieldErrorf("login", "login must be 1 to 100 letters, digits or . _ @ - and start with a letter or digit")
	case len(a.Email) > 320:
		return FieldErrorf("email", "email is longer than 320 characters")
	case a.Email != "" && !strings.Contains(a.Email, "@"):
		return FieldErrorf("email", "email is not an address")
	case !a.Role.Valid():
		return FieldErrorf("role", "role must be agent, supervisor or admin")
	case a.Capacity < 1 || a.Capacity > MaxCapacity:
		return FieldErrorf("capacity", "capacity must be between 1 and %d", MaxCapacity)
	case len(a.Phone) > 50 || !phonePattern.MatchString(a.Phone):
		return FieldErrorf("phone", "phone must be at most 50 digits, spaces or + - ( ) / .")
	case !validCalendarURL(a.CalendarURL):
		return FieldErrorf("calendar_url", "calendar_url must be an http or https address of at most 2000 characters")
	case a.PresenceReason != "" && a.PresenceReason != ReasonCall && a.PresenceReason != ReasonMeeting:
		return FieldErrorf("presence_reason", "presence reason must be call or meeting")
	case len(a.DirectoryDN) > 1000:
		return FieldErrorf("directory_dn", "the directory DN is longer than 1000 characters")
	case !validPhotoURL(a.PhotoURL):
		return FieldErrorf("photo_url", "photo_url must be an https address of at most 2000 characters, or an uploaded photo")
	case !a.Presence.Valid():
		return Errorf(EINVALID, "presence must be available, away, busy or offline")
	case !a.Status.Valid():
		return Errorf(EINVALID, "status must be ready, not_ready or wrap_up")
	case len(a.StatusReason) > 200:
		return Errorf(EINVALID, "status reason is longer than 200 characters")
	}
	for _, f := range []struct{ name, value string }{
		{"display_name", a.DisplayName}, {"chat_name", a.ChatName}, {"first_name", a.FirstName},
		{"last_name", a.LastName}, {"email", a.Email}, {"status_reason", a.StatusReason},
	} {
		if len(f.value) > 200 && f.name != "email" && f.name != "status_reason" {
			return FieldErrorf(f.name, "names are limited to 200 characters")
		}
		if !utf8.ValidString(f.value) {
			return FieldErrorf(f.name, "%s is not valid UTF-8", f.name)
		}
		if err := CheckChars(f.name, f.value, false); err != nil {
			return err
		}
	}
	seen := make(map[int64]bool, len(a.Groups))
	for _, m := range a.Groups {
		if seen[m.GroupID] {
			return FieldErrorf("groups", "group %d is listed twice", m.GroupID)
		}
		seen[m.GroupID] = true
		if m.Capacity < 0 || m.Capacity > MaxCapacity {
			return FieldErrorf("groups", "group capacity must be between 0 and %d", MaxCapacity)
		}
	}
	return nil
}

// Session is a logged-in agent's credential. Only the SHA-256 of the token
// is stored.
type Session struct {
	TokenHash []byte
	AgentID   int64
	TenantID  int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// validCalendarURL reports whether u is empty or an http(s) URL with a
// host and no credentials in it.
func validCalendarURL(u string) bool {
	if u == "" {
		return true
	}
	p, err := url.Parse(u)
	return err == nil && len(u) <= 2000 && (p.Scheme == "https" || p.Scheme == "http") && p.Host != "" && p.User == nil
}
