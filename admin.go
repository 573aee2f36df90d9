package parley

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WidgetAppearance is how a tenant's widget looks: its colours, title,
// logo, position and texts, set in the admin console. Empty fields keep
// the widget's defaults (or the server's config.json); page attributes
// and parameters still override them.
type WidgetAppearance struct {
	Title string `json:"title,omitempty"`
	// Logo is an https address of the header's logo.
	Logo     string `json:"logo,omitempty"`
	Position string `json:"position,omitempty"`
	// Colours are CSS hex colours (#4f46e5).
	HeaderBackground string `json:"header_background,omitempty"`
	HeaderText       string `json:"header_text,omitempty"`
	Highlight        string `json:"highlight,omitempty"`
	OnlineColor      string `json:"online_color,omitempty"`
	OfflineColor     string `json:"offline_color,omitempty"`
	// Texts override strings of the widget's bundle by key (greeting,
	// offlineIntro…), in every language.
	Texts map[string]string `json:"texts,omitempty"`
}

// WidgetPositions are the corners and edges the launcher may sit at.
var WidgetPositions = []string{"top-left", "top-right", "center-left", "center-right", "bottom-left", "bottom-right"}

var hexColor = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

var textKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)

// Validate reports whether w can be stored.
func (w *WidgetAppearance) Validate() error {
	if utf8.RuneCountInString(w.Title) > 100 {
		return FieldErrorf("title", "title is longer than 100 characters")
	}
	if err := CheckChars("title", w.Title, false); err != nil {
		return err
	}
	if w.Logo != "" && !validPhotoURL(w.Logo) {
		return FieldErrorf("logo", "logo must be an https address of at most 2000 characters")
	}
	if w.Position != "" && !slices.Contains(WidgetPositions, w.Position) {
		return FieldErrorf("position", "position must be one of %s", strings.Join(WidgetPositions, ", "))
	}
	for _, c := range []struct{ field, value string }{
		{"header_background", w.HeaderBackground}, {"header_text", w.HeaderText}, {"highlight", w.Highlight},
		{"online_color", w.OnlineColor}, {"offline_color", w.OfflineColor},
	} {
		if c.value != "" && !hexColor.MatchString(c.value) {
			return FieldErrorf(c.field, "%s must be a hex colour such as #4f46e5", c.field)
		}
	}
	if len(w.Texts) > 50 {
		return FieldErrorf("texts", "at most 50 texts")
	}
	for k, v := range w.Texts {
		if !textKey.MatchString(k) {
			return FieldErrorf("texts", "text key %q must be a word of letters and digits", k)
		}
		if utf8.RuneCountInString(v) > 1000 || !utf8.ValidString(v) {
			return FieldErrorf("texts."+k, "the text is longer than 1000 characters")
		}
		if err := CheckChars("texts."+k, v, true); err != nil {
			return err
		}
	}
	return nil
}

// AgentPhoto is an uploaded photo of an agent, served to visitors from
// Parley's own origin (the widget, the portal and the card load images
// only from there and https sites).
type AgentPhoto struct {
	AgentID     int64
	ContentType string // image/png, image/jpeg or image/webp
	Data        []byte
	UpdatedAt   time.Time
}

// MaxPhotoBytes bounds an uploaded photo.
const MaxPhotoBytes = 512 << 10

// PhotoPath is the address of an agent's uploaded photo; version changes
// with the photo so caches hold each one for good.
func PhotoPath(agentID int64, version string) string {
	return "/api/v1/public/agents/" + strconv.FormatInt(agentID, 10) + "/photo?v=" + version
}

var photoPath = regexp.MustCompile(`^/api/v1/public/agents/[0-9]{1,19}/photo\?v=[0-9a-f]{1,64}$`)

// InvitePurpose says what a one-time link is for.
type InvitePurpose string

// Invite purposes.
const (
	InviteWelcome InvitePurpose = "invite" // a new agent chooses a first password
	InviteReset   InvitePurpose = "reset"  // an admin reset the password
)

// Invite is a one-time link for an agent to choose a password. Only the
// SHA-256 of its token is stored.
type Invite struct {
	TokenHash []byte
	AgentID   int64
	TenantID  int64
	Purpose   InvitePurpose
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuditEntry is one line of a tenant's audit log: who did what to which
// setting, agent, group or tenant, when and from where. Entries are only
// ever added.
type AuditEntry struct {
	ID       int64     `json:"id"`
	TenantID int64     `json:"tenant_id"`
	At       time.Time `json:"at"`
	// ActorID and ActorLogin name the admin (0 and "" for the system).
	ActorID    int64  `json:"actor_id"`
	ActorLogin string `json:"actor_login"`
	// RemoteAddr is the client address the request came from.
	RemoteAddr string `json:"remote_addr"`
	// Action is a dotted verb: group.update, agent.invite, data.export…
	Action string `json:"action"`
	// TargetKind and TargetID name what was acted on (group 12); TargetName
	// is its name at the time, for reading the log later.
	TargetKind string `json:"target_kind"`
	TargetID   string `json:"target_id"`
	TargetName string `json:"target_name,omitempty"`
	// Detail says what changed: the fields, never their secret values.
	Detail string `json:"detail,omitempty"`
}

// AuditFilter selects audit entries, newest first. Zero fields do not
// filter.
type AuditFilter struct {
	TenantID int64
	// Action matches the action or, ending in ".", its prefix ("agent.").
	Action     string
	ActorID    int64
	TargetKind string
	TargetID   string
	// Since and Until bound the time (Until exclusive).
	Since, Until time.Time
	// Before pages: only entries with smaller IDs.
	Before int64
	Limit  int
}

// validPhotoURL reports whether u is empty, an https URL with a host or
// the address of an uploaded photo: the widget's pages load images only
// from https or their own origin.
func validPhotoURL(u string) bool {
	if u == "" || photoPath.MatchString(u) {
		return true
	}
	p, err := url.Parse(u)
	return err == nil && len(u) <= 2000 && p.Scheme == "https" && p.Host != "" && p.User == nil
}
