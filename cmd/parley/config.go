package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
	"github.com/parleychat/parley/directory"
	"github.com/parleychat/parley/gms"
	"github.com/parleychat/parley/internal/logfilter"
	"github.com/parleychat/parley/internal/throttle"
)

// Config is every setting of `parley serve`. Precedence: flag > environment
// (PARLEY_…) > config file (--config, KEY=VALUE lines) > default.
type Config struct {
	Addr            string
	Data            string
	Demo            bool
	LogFormat       string
	LogLevel        string
	LogChatText     bool
	LogPersonalData bool
	AllowedOrigins  []string
	NATSURL         string
	BusPrefix       string
	Store           string
	Role            string
	SQLiteSync      string
	SecureCookies   bool
	ShutdownTimeout time.Duration
	PprofAddr       string
	BodyTimeout     time.Duration
	ConnIdleTimeout time.Duration
	TrustedProxies  throttle.Proxies
	LoginLimits     throttle.Limits

	MaxMessageLength          int
	MaxAttachmentKB           int
	AllowedAttachmentTypes    []string
	RestrictedAttachmentTypes []string
	CustomerTimeout           time.Duration
	IdleTimeout               time.Duration
	IdleWarning               time.Duration
	DisconnectTimeout         time.Duration
	DisconnectWarning         time.Duration
	PollGrace                 time.Duration
	GCPercent                 int
	AgentGrace                time.Duration
	SessionTTL                time.Duration
	OfferTimeout              time.Duration
	DeclineCooldown           time.Duration
	MissedOfferNotReady       bool
	PreferredWait             time.Duration
	RampUp                    time.Duration
	DefaultHandleTime         time.Duration
	RejectGroups              []int64
	IgnoreCustomerDetails     bool
	MICCAddr                  string
	MICCMaxWait               time.Duration
	GMSServices               map[string]gms.Target
	GMSDisconnected400        bool
	RocketChatPrefix          string
	RocketChatWidgetDir       string

	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	SMTPTLS      string
	SMTPRetry    time.Duration
	MailFrom     string
	FromPriority []parley.FromField
	ServiceLevel time.Duration

	LimitForSessions int
	Limits           conversation.AbuseLimits
	RetentionEvery   time.Duration

	DirectoryURL        string
	DirectoryAllowPlain bool
	DirectoryNested     bool
	DirectoryCAFile     string
	DirectoryBindDN     string
	DirectoryBindPW     string
	DirectoryBaseDN     string
	DirectoryFilter     string
	DirectoryLoginAttr  string
	DirectoryNameAttr   string
	DirectoryMailAttr   string
	DirectoryPhoneAttr  string
	DirectoryPhotoAttr  string
	DirectoryGroups     []directory.Mapping
	DirectoryPortal     *directory.Mapping
	DirectoryTenant     int64
	DirectoryInterval   time.Duration
	CalendarInterval    time.Duration
	CalendarRefresh     time.Duration
	// Calls: the ICE servers browsers get, and the built-in TURN server.
	ICEServers       []string
	ICEUsername      string
	ICECredential    string
	TURNURLs         []string
	TURNSecret       string
	ICECredentialTTL time.Duration
	TURN             bool
	TURNUDP          string
	TURNTCP          string
	TURNPublicIP     string
	TURNRealm        string
	TURNMinPort      int
	TURNMaxPort      int
	TURNAllocations  int
	TURNBandwidth    int

	IntegrationAddr     string
	WebhookRetry        time.Duration
	WebhookRetryMax     time.Duration
	MessageLogPrintSize int
	LogFilterData       string
}

// setting is one configuration key. The flag is --<name>, the environment
// variable and config-file key PARLEY_<NAME> with dashes as underscores.
type setting struct {
	name  string
	def   string
	usage string
	set   func(c *Config, v string) error
}

// Env returns the environment variable (and config file key) of s.
func (s setting) Env() string {
	return "PARLEY_" + strings.ToUpper(strings.ReplaceAll(s.name, "-", "_"))
}

var settings = []setting{
	{"addr", ":8080", "address the HTTP server listens on", func(c *Config, v string) error { c.Addr = v; return nil }},
	{"data", "./parley-data", "directory for the database and attachments", func(c *Config, v string) error { c.Data = v; return nil }},
	{"demo", "false", "seed demo groups and agents; / becomes a demo page with the widget", boolSetting(func(c *Config) *bool { return &c.Demo })},
	{"log-format", "json", "log format: json or text", func(c *Config, v string) error {
		if v != "json" && v != "text" {
			return errors.New("must be json or text")
		}
		c.LogFormat = v
		return nil
	}},
	{"log-level", "info", "log level: debug, info, warn or error", func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return errors.New("must be debug, info, warn or error")
	}},
	{"log-chat-text", "false", "write message text into debug logs (troubleshooting only)", boolSetting(func(c *Config) *bool { return &c.LogChatText })},
	{"log-personal-data", "false", "write visitors' personal data (names, addresses, IPs) into logs", boolSetting(func(c *Config) *bool { return &c.LogPersonalData })},
	{"allowed-origins", "", "comma-separated web origins (https://shop.example) allowed to use the API and WebSocket from a browser; * allows all", func(c *Config, v string) error {
		c.AllowedOrigins = nil
		for _, o := range splitList(v) {
			if o != "*" {
				u, err := url.Parse(o)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
					return fmt.Errorf("%q is not an origin like https://example.com", o)
				}
				o = u.Scheme + "://" + u.Host
			}
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
		return nil
	}},
	{"bus", "", "the message bus: empty runs NATS inside the process; a comma-separated list of an external NATS cluster's URLs (nats://a:4222,nats://b:4222). With a postgres:// store the node joins a cluster", parseBus},
	{"nats-url", "", "older name of --bus", func(c *Config, v string) error {
		if v == "" {
			return nil // --bus decides
		}
		return parseBus(c, v)
	}},
	{"bus-prefix", "", "put before every NATS subject, so that several Parley clusters can share one NATS cluster (letters, digits, - and _)", func(c *Config, v string) error {
		for _, r := range v {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return errors.New("may hold only letters, digits, - and _")
			}
		}
		c.BusPrefix = v
		return nil
	}},
	{"role", "all", "what this node runs: all (one node, or identical cluster nodes), core (the store, routing, mail and jobs, answering edge nodes over the bus), or edge (the widget, the dialects and the sockets, with no database: it reaches the core nodes only through the bus)", func(c *Config, v string) error {
		switch v {
		case "all", "core", "edge":
			c.Role = v
			return nil
		}
		return errors.New("must be all, core or edge")
	}},
	{"store", "", "where Parley keeps its data: empty for SQLite in the data directory, a SQLite file path, or a postgres:// URL for a cluster's PostgreSQL (set search_path in it to use a schema)", func(c *Config, v string) error {
		if strings.Contains(v, "://") && !isPostgres(v) {
			return errors.New("must be a postgres:// URL or a SQLite file path")
		}
		c.Store = v
		return nil
	}},
	{"sqlite-synchronous", "normal", "SQLite synchronous mode: normal (survives process crashes) or full (also power loss)", func(c *Config, v string) error {
		if v != "normal" && v != "full" {
			return errors.New("must be normal or full")
		}
		c.SQLiteSync = v
		return nil
	}},
	{"secure-cookies", "false", "mark the agent session cookie Secure (set when served over HTTPS)", boolSetting(func(c *Config) *bool { return &c.SecureCookies })},
	{"pprof", "", "address of a Go pprof listener (e.g. 127.0.0.1:6060) for profiling; empty turns it off. Never expose it publicly", func(c *Config, v string) error { c.PprofAddr = v; return nil }},
	{"shutdown-timeout", "15s", "how long a graceful shutdown waits for requests to finish", durationSetting(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"body-read-timeout", "30s", "longest a client may take to send a request body, or each 64 KiB of a larger upload, before it gets 408 and is cut off; 0 turns it off", durationSetting(func(c *Config) *time.Duration { return &c.BodyTimeout })},
	{"conn-idle-timeout", "120s", "how long an idle keep-alive connection stays open, on every listener", durationSetting(func(c *Config) *time.Duration { return &c.ConnIdleTimeout })},
	{"trusted-proxies", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client address; empty trusts none", func(c *Config, v string) error {
		p, err := throttle.ParseProxies(splitList(v))
		c.TrustedProxies = p
		return err
	}},
	{"login-attempts", "5", "failed password attempts in a row before an account is locked; one client address may fail four times as many", intSetting(1, 1000, func(c *Config) *int { return &c.LoginLimits.Failures })},
	{"login-lockout", "1m", "first lock after too many failed password attempts; each further failure doubles it up to login-lockout-max", durationSetting(func(c *Config) *time.Duration { return &c.LoginLimits.Lockout })},
	{"login-lockout-max", "15m", "longest lock after failed password attempts; one failure is forgiven per this much time without one", durationSetting(func(c *Config) *time.Duration { return &c.LoginLimits.MaxLockout })},
	{"max-message-length", "1024", "maximum message length in characters (MaxMessageLength)", intSetting(1, 100000, func(c *Config) *int { return &c.MaxMessageLength })},
	{"max-attachment-size", "5120", "maximum attachment size in KB; 0 turns attachments off (MaxAttachmentSize)", intSetting(0, 1<<20, func(c *Config) *int { return &c.MaxAttachmentKB })},
	{"allowed-attachment-types", "", "comma-separated extensions that are the only ones allowed; empty allows all but the restricted (AllowedAttachmentTypes)", func(c *Config, v string) error {
		c.AllowedAttachmentTypes = splitList(v)
		return nil
	}},
	{"restricted-attachment-types", "exe,bat,cmd,com,vbs", "comma-separated extensions refused when no allowed list is set (RestrictedAttachmentTypes)", func(c *Config, v string) error {
		c.RestrictedAttachmentTypes = splitList(v)
		return nil
	}},
	{"customer-timeout", "900s", "server fail-safe: longest visitor inactivity before a chat closes (CustomerTimeout)", durationSetting(func(c *Config) *time.Duration { return &c.CustomerTimeout })},
	{"idle-timeout", "300s", "visitor inactivity that closes a chat, unless the group or client sets another (IdleTimeout)", durationSetting(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{"idle-warning", "60s", "how long before the idle timeout the visitor is warned; 0 turns the warning off (WarningBeforeIdleTimeout)", durationSetting(func(c *Config) *time.Duration { return &c.IdleWarning })},
	{"disconnect-timeout", "60s", "grace for a visitor whose page went away to come back (CustomerDisconnectTimeoutSeconds)", durationSetting(func(c *Config) *time.Duration { return &c.DisconnectTimeout })},
	{"disconnect-warning", "20s", "how long before the grace ends the agent is warned; 0 turns it off (AgentWarningCustomerDisconnectTimeoutSeconds)", durationSetting(func(c *Config) *time.Duration { return &c.DisconnectWarning })},
	{"poll-grace", "20s", "how long after a long-poll ends its visitor still counts as connected", durationSetting(func(c *Config) *time.Duration { return &c.PollGrace })},
	{"agent-grace", "60s", "how long an agent whose consoles all closed (without signing out) keeps its presence before it is set away and its offers go to others", durationSetting(func(c *Config) *time.Duration { return &c.AgentGrace })},
	{"session-ttl", "12h", "how long an agent login lasts", durationSetting(func(c *Config) *time.Duration { return &c.SessionTTL })},
	{"gc-percent", "50", "garbage collection target: the heap may grow this many percent over the live data before a collection (Go's GOGC, which overrides it when set); lower keeps less memory per idle connection at some CPU", intSetting(10, 1000, func(c *Config) *int { return &c.GCPercent })},
	{"offer-timeout", "60s", "an offer not accepted in this time goes to the next agent; 0 lets offers wait", durationSetting(func(c *Config) *time.Duration { return &c.OfferTimeout })},
	{"decline-cooldown", "30s", "how long a declined or unanswered chat is not offered to that agent again; 0 means while it waits", durationSetting(func(c *Config) *time.Duration { return &c.DeclineCooldown })},
	{"missed-offer-not-ready", "false", "put an agent who lets an offer time out into not ready", boolSetting(func(c *Config) *bool { return &c.MissedOfferNotReady })},
	{"preferred-wait", "30s", "how long a returning visitor's chat waits for the agent of the earlier chat when that agent is busy; 0 turns preferred agents off", durationSetting(func(c *Config) *time.Duration { return &c.PreferredWait })},
	{"ramp-up", "0s", "pace an agent who just became ready: one new offer per this interval until at capacity; 0 offers as many as it has room for", durationSetting(func(c *Config) *time.Duration { return &c.RampUp })},
	{"default-handle-time", "0s", "handle time assumed for wait estimates until a group has history; 0 reports no estimate (-1) until then", durationSetting(func(c *Config) *time.Duration { return &c.DefaultHandleTime })},
	{"service-group-ids-to-reject", "", "comma-separated group ids that cannot be requested (ServiceGroupIDsToReject)", func(c *Config, v string) error {
		c.RejectGroups = nil
		for _, s := range splitList(v) {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a group id", s)
			}
			c.RejectGroups = append(c.RejectGroups, id)
		}
		return nil
	}},
	{"ignore-customer-details", "false", "drop visitors' name, email and phone from chat requests (IgnoreCustomerDetails)", boolSetting(func(c *Config) *bool { return &c.IgnoreCustomerDetails })},
	{"rocketchat-prefix", "", "a path prefix under which the Rocket.Chat Livechat dialect is served as well (e.g. /rocketchat); it is always at /websocket and /api/v1/livechat/", func(c *Config, v string) error { c.RocketChatPrefix = v; return nil }},
	{"rocketchat-widget-dir", "", "the build/ folder of the published @rocket.chat/livechat package, served at /livechat so the Rocket.Chat widget loads from Parley", func(c *Config, v string) error { c.RocketChatWidgetDir = v; return nil }},
	{"micc-addr", "", "address of a listener of its own for the Mitel MiCC Chat service (MiCC uses :12616); empty serves it only under /chatservice/ on --addr", func(c *Config, v string) error { c.MICCAddr = v; return nil }},
	{"micc-max-wait", "60s", "longest a MiCC GetEvents call waits, whatever its Timeout (1s to 60s)", func(c *Config, v string) error {
		if err := durationSetting(func(c *Config) *time.Duration { return &c.MICCMaxWait })(c, v); err != nil {
			return err
		}
		if c.MICCMaxWait < time.Second || c.MICCMaxWait > 60*time.Second {
			return errors.New("must be between 1s and 60s")
		}
		return nil
	}},
	{"gms-services", "", "Genesys GMS services and their groups: service=group or service=tenant:group, comma-separated; a service not listed goes to the default tenant's group of the same name", func(c *Config, v string) error {
		m, err := gms.ParseServices(v)
		c.GMSServices = m
		return err
	}},
	{"gms-400-on-disconnected", "false", "answer a GMS refresh of an ended chat with HTTP 400 instead of 200 (GMS _chat_400_response_on_disconnected)", boolSetting(func(c *Config) *bool { return &c.GMSDisconnected400 })},
	{"smtp-host", "", "SMTP server for transcript mail; empty keeps mail in the outbox unsent", func(c *Config, v string) error { c.SMTPHost = v; return nil }},
	{"smtp-port", "587", "SMTP server port", intSetting(1, 65535, func(c *Config) *int { return &c.SMTPPort })},
	{"smtp-username", "", "SMTP user name; empty sends without authentication", func(c *Config, v string) error { c.SMTPUsername = v; return nil }},
	{"smtp-password", "", "SMTP password (prefer the environment or the config file to a flag)", func(c *Config, v string) error { c.SMTPPassword = v; return nil }},
	{"smtp-tls", "starttls", "SMTP encryption: starttls (required), opportunistic, tls (implicit, port 465) or none", func(c *Config, v string) error {
		switch v {
		case "starttls", "opportunistic", "tls", "none":
			c.SMTPTLS = v
			return nil
		}
		return errors.New("must be starttls, opportunistic, tls or none")
	}},
	{"smtp-retry", "30s", "wait after a failed delivery before the next attempt; it doubles with each attempt up to 1h", durationSetting(func(c *Config) *time.Duration { return &c.SMTPRetry })},
	{"mail-from", "", "sender address of transcripts for groups that set none; empty leaves those groups without transcript mail", func(c *Config, v string) error {
		if v != "" && !parley.ValidEmail(v) {
			return fmt.Errorf("%q is not an email address", v)
		}
		c.MailFrom = v
		return nil
	}},
	{"from-priority", "email,phone,id", "which visitor detail the archive shows as from, in order of preference (FromPriority)", func(c *Config, v string) error {
		p, err := parley.ParseFromPriority(v)
		if err != nil {
			return errors.New(parley.ErrorMessage(err))
		}
		c.FromPriority = p
		return nil
	}},
	{"service-level", "20s", "answer time within which a chat counts as answered in time, for the service level KPI", durationSetting(func(c *Config) *time.Duration { return &c.ServiceLevel })},
	{"integration-addr", "", "address of a listener of its own for the integration API (/integration/v1/); empty serves it only on --addr", func(c *Config, v string) error { c.IntegrationAddr = v; return nil }},
	{"webhook-retry", "10s", "wait after a failed webhook delivery before the next attempt; it doubles with each attempt up to --webhook-retry-max", durationSetting(func(c *Config) *time.Duration { return &c.WebhookRetry })},
	{"webhook-retry-max", "1h", "longest wait between two attempts of a webhook delivery", durationSetting(func(c *Config) *time.Duration { return &c.WebhookRetryMax })},
	{"message-log-print-size", "0", "characters of each chat message written into debug logs (0 to 7000); 0 writes none", intSetting(0, logfilter.MaxPrintSize, func(c *Config) *int { return &c.MessageLogPrintSize })},
	{"log-filter-data", "", "what debug logs show of attached data, per key: key=filter;… with copy, hide, hide-first,N, hide-last,N, unhide-first,N or unhide-last,N (key * for all others); keys not listed are hidden", func(c *Config, v string) error {
		if _, err := logfilter.Parse(0, v); err != nil {
			return err
		}
		c.LogFilterData = v
		return nil
	}},
	{"directory-url", "", "company directory (LDAP, Active Directory) to sync agents and groups from: ldaps://host or ldap://host (upgraded with StartTLS); empty turns the directory off", func(c *Config, v string) error {
		if v != "" && !strings.HasPrefix(v, "ldaps://") && !strings.HasPrefix(v, "ldap://") {
			return errors.New("must be ldaps://host or ldap://host")
		}
		c.DirectoryURL = v
		return nil
	}},
	{"directory-nested-groups", "false", "also take the members of groups nested in the mapped directory groups, at any depth", boolSetting(func(c *Config) *bool { return &c.DirectoryNested })},
	{"directory-allow-plain", "false", "use an ldap:// directory without StartTLS: passwords cross the network in the clear (loopback and tests only)", boolSetting(func(c *Config) *bool { return &c.DirectoryAllowPlain })},
	{"directory-ca-file", "", "PEM file of the certificates that sign the directory's TLS certificate; empty uses the system's", func(c *Config, v string) error { c.DirectoryCAFile = v; return nil }},
	{"directory-bind-dn", "", "DN of the service account the directory sync reads with; empty reads anonymously", func(c *Config, v string) error { c.DirectoryBindDN = v; return nil }},
	{"directory-bind-password", "", "password of the directory service account (prefer the environment or the config file to a flag)", func(c *Config, v string) error { c.DirectoryBindPW = v; return nil }},
	{"directory-base-dn", "", "where directory users and groups named by CN are searched, e.g. dc=example,dc=com", func(c *Config, v string) error { c.DirectoryBaseDN = v; return nil }},
	{"directory-user-filter", "(objectClass=person)", "LDAP filter of the entries that are users; a member it leaves out (a disabled account) counts as removed", func(c *Config, v string) error { c.DirectoryFilter = v; return nil }},
	{"directory-login-attribute", "uid", "user attribute that is the Parley login (Active Directory: sAMAccountName)", func(c *Config, v string) error { c.DirectoryLoginAttr = v; return nil }},
	{"directory-name-attribute", "displayName", "user attribute of the display name (cn when empty)", func(c *Config, v string) error { c.DirectoryNameAttr = v; return nil }},
	{"directory-mail-attribute", "mail", "user attribute of the email address", func(c *Config, v string) error { c.DirectoryMailAttr = v; return nil }},
	{"directory-phone-attribute", "telephoneNumber", "user attribute of the phone number or extension (names the agent to the telephony presence source)", func(c *Config, v string) error { c.DirectoryPhoneAttr = v; return nil }},
	{"directory-photo-attribute", "", "user attribute holding the agent's photo: an https address (labeledURI) or an image (jpegPhoto, thumbnailPhoto); empty syncs no photo", func(c *Config, v string) error { c.DirectoryPhotoAttr = v; return nil }},
	{"directory-groups", "", "directory groups whose members take chats, and the Parley group each becomes: group=>Parley name;… (group is a CN or a DN; without => the CN is the name)", func(c *Config, v string) error {
		m, err := directory.ParseMappings(v)
		c.DirectoryGroups = m
		return err
	}},
	{"directory-portal-group", "", "the directory's portal group (estos' contactportal) and its Parley group: group=>Parley name", func(c *Config, v string) error {
		m, err := directory.ParseMappings(v)
		switch {
		case err != nil:
			return err
		case len(m) > 1:
			return errors.New("names more than one group")
		case len(m) == 1:
			c.DirectoryPortal = &m[0]
		default:
			c.DirectoryPortal = nil
		}
		return nil
	}},
	{"directory-tenant", "-1", "tenant whose agents and groups the directory owns (-1 is the default tenant)", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n == 0 {
			return errors.New("must be a tenant id")
		}
		c.DirectoryTenant = n
		return nil
	}},
	{"directory-sync-interval", "15m", "time between scheduled directory syncs (admins can also sync at once)", durationSetting(func(c *Config) *time.Duration { return &c.DirectoryInterval })},
	{"calendar-interval", "1m", "how often agents' calendar entries are checked: the delay with which a meeting's start and end take effect", durationSetting(func(c *Config) *time.Duration { return &c.CalendarInterval })},
	{"calendar-refresh", "5m", "how often an agent's calendar feed is fetched again", durationSetting(func(c *Config) *time.Duration { return &c.CalendarRefresh })},
	{"ice-servers", "", "comma-separated STUN or TURN URLs every call is given as they are (stun:stun.example.org:3478; a provider's turn: URLs with --ice-username and --ice-credential)", func(c *Config, v string) error {
		c.ICEServers = splitList(v)
		return checkICEURLs(c.ICEServers)
	}},
	{"ice-username", "", "user name for the turn: URLs of --ice-servers (a provider's fixed credentials)", func(c *Config, v string) error { c.ICEUsername = v; return nil }},
	{"ice-credential", "", "password for the turn: URLs of --ice-servers (prefer the environment or the config file to a flag)", func(c *Config, v string) error { c.ICECredential = v; return nil }},
	{"turn-urls", "", "comma-separated URLs of an external TURN server that takes TURN REST API credentials (coturn use-auth-secret), issued per call with --turn-secret", func(c *Config, v string) error {
		c.TURNURLs = splitList(v)
		return checkICEURLs(c.TURNURLs)
	}},
	{"turn-secret", "", "secret shared with the TURN server for per-call credentials; with --turn and no secret a random one is made at each start", func(c *Config, v string) error { c.TURNSecret = v; return nil }},
	{"ice-credential-ttl", "2h", "how long per-call TURN credentials last (the built-in TURN server also refuses them once the call is over)", durationSetting(func(c *Config) *time.Duration { return &c.ICECredentialTTL })},
	{"turn", "false", "run the built-in STUN/TURN server for calls (needs --turn-public-ip)", boolSetting(func(c *Config) *bool { return &c.TURN })},
	{"turn-udp", ":3478", "UDP address of the built-in TURN server; empty turns UDP off", func(c *Config, v string) error { c.TURNUDP = v; return nil }},
	{"turn-tcp", ":3478", "TCP address of the built-in TURN server (use :443 on a spare address for strict networks); empty turns TCP off", func(c *Config, v string) error { c.TURNTCP = v; return nil }},
	{"turn-public-ip", "", "the address browsers reach the built-in TURN server and its relays at: the server's public IP, or its NAT's", func(c *Config, v string) error {
		if v != "" && net.ParseIP(v) == nil {
			return fmt.Errorf("%q is not an IP address", v)
		}
		c.TURNPublicIP = v
		return nil
	}},
	{"turn-realm", "parley", "realm of the built-in TURN server", func(c *Config, v string) error { c.TURNRealm = v; return nil }},
	{"turn-relay-ports", "49152-65535", "UDP port range of the built-in TURN server's relays (open it in the firewall)", func(c *Config, v string) error {
		lo, hi, ok := strings.Cut(v, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if !ok || err1 != nil || err2 != nil || a < 1024 || b > 65535 || a > b {
			return errors.New("must be a range like 49152-65535 within 1024-65535")
		}
		c.TURNMinPort, c.TURNMaxPort = a, b
		return nil
	}},
	{"turn-user-allocations", "4", "most relays one party of a call may hold at once on the built-in TURN server", intSetting(1, 100, func(c *Config) *int { return &c.TURNAllocations })},
	{"turn-max-bandwidth", "0", "most kbit/s all relays of the built-in TURN server carry together; 0 is no limit (a video call takes about 2000 each way)", intSetting(0, 100_000_000, func(c *Config) *int { return &c.TURNBandwidth })},
	{"limit-for-sessions", "0", "most chats active at once on this node; another request gets 503 service unavailable; 0 is no limit", intSetting(0, 10_000_000, func(c *Config) *int { return &c.LimitForSessions })},
	{"limit-chat-requests", "60/1h", "chat requests one visitor address may make: N/period, N at once and one more each period/N; over it 429 with Retry-After; 0 is no limit", rateSetting(func(c *Config) *throttle.Rate { return &c.Limits.ChatRequestsPerAddr })},
	{"limit-transcripts", "10/1h", "transcript mails one visitor may ask for (N/period; 0 is no limit)", rateSetting(func(c *Config) *throttle.Rate { return &c.Limits.TranscriptsPerVisitor })},
	{"limit-transcripts-per-address", "30/1h", "transcript mails visitors from one address may ask for (N/period; 0 is no limit)", rateSetting(func(c *Config) *throttle.Rate { return &c.Limits.TranscriptsPerAddr })},
	{"limit-offline-messages", "10/1h", "offline messages one visitor address may leave (N/period; 0 is no limit)", rateSetting(func(c *Config) *throttle.Rate { return &c.Limits.OfflinePerAddr })},
	{"limit-api-calls", "6000/1m", "integration API calls one API key may make (N/period; 0 is no limit)", rateSetting(func(c *Config) *throttle.Rate { return &c.Limits.APICallsPerKey })},
	{"retention-interval", "1h", "how often the tenants' retention periods are applied (set per tenant with PUT /api/v1/admin/retention)", durationSetting(func(c *Config) *time.Duration { return &c.RetentionEvery })},
}

// rateSetting accepts a limit as N/period ("10/1h"), or 0 for none.
func rateSetting(field func(*Config) *throttle.Rate) func(*Config, string) error {
	return func(c *Config, v string) error {
		r, err := throttle.ParseRate(v)
		if err != nil {
			return err
		}
		*field(c) = r
		return nil
	}
}

func boolSetting(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		*field(c) = b
		return nil
	}
}

func intSetting(lo, hi int, field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
		}
		*field(c) = n
		return nil
	}
}

// durationSetting accepts seconds ("900") or a Go duration ("15m").
func durationSetting(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			n, nerr := strconv.Atoi(v)
			if nerr != nil {
				return errors.New("must be seconds (900) or a duration (15m)")
			}
			d = time.Duration(n) * time.Second
		}
		if d < 0 || d > 30*24*time.Hour {
			return errors.New("must be between 0 and 720h")
		}
		*field(c) = d
		return nil
	}
}

// parseBus checks a --bus list: NATS URLs, or nothing for the embedded bus.
func parseBus(c *Config, v string) error {
	for _, u := range splitList(v) {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "nats" && p.Scheme != "tls") || p.Host == "" {
			return fmt.Errorf("%q is not a NATS URL like nats://127.0.0.1:4222", u)
		}
	}
	c.NATSURL = strings.Join(splitList(v), ",")
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// loadConfig builds the configuration from defaults, the config file,
// the environment and the command line, in rising precedence.
func loadConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (*Config, error) {
	fs := flag.NewFlagSet("parley serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envConfig, _ := lookupEnv("PARLEY_CONFIG")
	configPath := fs.String("config", envConfig, "file of KEY=VALUE lines with PARLEY_… keys (env PARLEY_CONFIG)")
	values := make(map[string]*string, len(settings))
	for _, s := range settings {
		values[s.name] = fs.String(s.name, s.def, s.usage+" (env "+s.Env()+")")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parley serve [flags]\n\nEvery flag can also be set as an environment variable or in the --config file.\n\n")
		fs.PrintDefaults()
	}
	// Booleans may be given as a bare flag: --demo.
	args = expandBareBools(args)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	var file map[string]string
	if *configPath != "" {
		var err error
		if file, err = readConfigFile(*configPath); err != nil {
			return nil, err
		}
	}
	c := &Config{}
	for _, s := range settings {
		v, from := s.def, "default"
		if fv, ok := file[s.Env()]; ok {
			v, from = fv, *configPath
		}
		if ev, ok := lookupEnv(s.Env()); ok {
			v, from = ev, s.Env()
		}
		if explicit[s.name] {
			v, from = *values[s.name], "--"+s.name
		}
		if err := s.set(c, v); err != nil {
			return nil, fmt.Errorf("%s (from %s): %w", s.name, from, err)
		}
	}
	for k := range file {
		if !knownKey(k) {
			return nil, fmt.Errorf("%s: unknown key %s", *configPath, k)
		}
	}
	return c, c.validate()
}

func knownKey(k string) bool {
	for _, s := range settings {
		if s.Env() == k {
			return true
		}
	}
	return false
}

func checkICEURLs(urls []string) error {
	for _, u := range urls {
		scheme, _, _ := strings.Cut(u, ":")
		if scheme != "stun" && scheme != "stuns" && scheme != "turn" && scheme != "turns" {
			return fmt.Errorf("%q is not a stun:, stuns:, turn: or turns: URL", u)
		}
	}
	return nil
}

func (c *Config) validate() error {
	switch c.Role {
	case "edge":
		switch {
		case c.Store != "":
			return errors.New("--role edge keeps no database: drop --store (the core nodes hold it)")
		case c.NATSURL == "":
			return errors.New("--role edge needs --bus nats://…, the bus of its core nodes")
		case c.Demo:
			return errors.New("--role edge cannot seed a demo: run --demo on a core node")
		case c.SMTPHost != "" || c.DirectoryURL != "":
			return errors.New("--role edge sends no mail and syncs no directory: set smtp-host and directory-url on the core nodes")
		}
	case "core":
		if !isPostgres(c.Store) || c.NATSURL == "" {
			return errors.New("--role core needs --store postgres://… and --bus nats://…, which its edge nodes share")
		}
	}
	if c.TURN && c.TURNPublicIP == "" {
		return errors.New("--turn needs --turn-public-ip, the address browsers reach it at")
	}
	if c.TURN && c.TURNUDP == "" && c.TURNTCP == "" {
		return errors.New("--turn needs --turn-udp or --turn-tcp")
	}
	if len(c.TURNURLs) > 0 && c.TURNSecret == "" {
		return errors.New("--turn-urls needs --turn-secret, the secret shared with that TURN server")
	}
	if c.IdleWarning >= c.IdleTimeout && c.IdleWarning != 0 {
		return errors.New("idle-warning must be shorter than idle-timeout")
	}
	if c.DisconnectWarning >= c.DisconnectTimeout && c.DisconnectWarning != 0 {
		return errors.New("disconnect-warning must be shorter than disconnect-timeout")
	}
	if c.LoginLimits.Lockout < time.Second || c.LoginLimits.MaxLockout < c.LoginLimits.Lockout {
		return errors.New("login-lockout must be at least 1s and login-lockout-max at least login-lockout")
	}
	if c.DirectoryURL != "" && (c.DirectoryBaseDN == "" || (len(c.DirectoryGroups) == 0 && c.DirectoryPortal == nil)) {
		return errors.New("directory-url needs directory-base-dn and directory-groups")
	}
	if c.DirectoryInterval < time.Minute || c.CalendarInterval < 10*time.Second || c.CalendarRefresh < c.CalendarInterval {
		return errors.New("directory-sync-interval must be at least 1m, calendar-interval at least 10s, calendar-refresh at least calendar-interval")
	}
	if c.RetentionEvery < time.Minute {
		return errors.New("retention-interval must be at least 1m")
	}
	for name, d := range map[string]time.Duration{"customer-timeout": c.CustomerTimeout, "idle-timeout": c.IdleTimeout, "disconnect-timeout": c.DisconnectTimeout, "poll-grace": c.PollGrace, "agent-grace": c.AgentGrace, "session-ttl": c.SessionTTL} {
		if d < time.Second {
			return fmt.Errorf("%s must be at least 1s", name)
		}
	}
	return nil
}

// expandBareBools turns "--demo" into "--demo=true" for boolean settings
// so they read like flags while being parsed as strings.
func expandBareBools(args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		name := strings.TrimLeft(a, "-")
		if strings.HasPrefix(a, "-") && !strings.Contains(name, "=") {
			for _, s := range settings {
				if s.name == name && (s.def == "true" || s.def == "false") {
					a += "=true"
				}
			}
		}
		out = append(out, a)
	}
	return out
}

// readConfigFile reads KEY=VALUE lines; blank lines and # comments are
// skipped, values may be quoted.
func readConfigFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE", path, n)
		}
		k, v = strings.TrimSpace(strings.TrimPrefix(k, "export ")), strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return out, nil
}
