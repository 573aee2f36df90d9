// Package directory syncs agents and groups from a company directory
// (OpenLDAP, Active Directory) and checks directory agents' passwords by
// binding as them. A sync reads who is in the mapped directory groups and
// hands that to conversation.Service.ApplyDirectory, which owns the rules:
// groups and agents are created, names and memberships follow the
// directory, and an agent who left the groups is disabled and signed out.
//
// Connections are encrypted: ldaps://, or ldap:// upgraded with StartTLS.
// Plain LDAP is used only when Config.AllowPlain says so.
package directory

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// Config says where the directory is and how it maps onto Parley.
type Config struct {
	// URL is ldaps://host[:636] or ldap://host[:389]; ldap:// is upgraded
	// with StartTLS unless AllowPlain.
	URL string
	// AllowPlain lets ldap:// stay unencrypted: passwords then cross the
	// network in the clear. For tests and loopback only.
	AllowPlain bool
	// TLS verifies the server; nil uses the system's roots and the URL's
	// host name.
	TLS *tls.Config
	// BindDN and BindPassword are the service account the sync reads
	// with; an empty BindDN reads anonymously.
	BindDN       string
	BindPassword string
	// BaseDN is where users and groups named by their CN are searched.
	BaseDN string
	// UserFilter selects the entries that count as users; one left out
	// (a disabled Active Directory account, say) counts as removed.
	// Default (objectClass=person).
	UserFilter string
	// Attributes of a user entry: the login (uid; sAMAccountName in
	// Active Directory), display name (displayName, falling back to cn),
	// mail, phone (telephoneNumber) and photo (none by default: an https
	// address, e.g. labeledURI, or a binary image, jpegPhoto or
	// thumbnailPhoto).
	LoginAttr, NameAttr, MailAttr, PhoneAttr, PhotoAttr string
	// Groups map directory groups onto Parley groups whose members take
	// chats; Portal is the portal group (shown on the contact portal).
	Groups []Mapping
	Portal *Mapping
	// NestedGroups also takes the members of groups that are members of
	// a mapped group, at any depth: every group under BaseDN is read once
	// per sync and the nesting resolved in memory.
	NestedGroups bool
	// TenantID is the tenant whose agents the directory owns; 0 is the
	// default tenant.
	TenantID int64
	// Interval is the time between scheduled syncs (15 min); Timeout
	// bounds each directory request (10 s).
	Interval time.Duration
	Timeout  time.Duration
}

// Mapping names a directory group, by DN or by CN under the base DN,
// and the Parley group it becomes.
type Mapping struct {
	LDAP  string
	Group string
}

// ParseMappings reads "ldapgroup=>Parley group;…": each directory group
// (a CN or a DN) and, after =>, the Parley group's name, which defaults to
// the directory group's CN.
func ParseMappings(s string) ([]Mapping, error) {
	var out []Mapping
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		src, dst, ok := strings.Cut(part, "=>")
		src, dst = strings.TrimSpace(src), strings.TrimSpace(dst)
		if src == "" {
			return nil, fmt.Errorf("%q names no directory group", part)
		}
		if strings.Contains(src, "=") {
			dn, err := ldap.ParseDN(src)
			if err != nil || len(dn.RDNs) == 0 {
				return nil, fmt.Errorf("%q is not a distinguished name", src)
			}
			if !ok {
				dst = dn.RDNs[0].Attributes[0].Value
			}
		} else if !ok {
			dst = src
		}
		if dst == "" {
			return nil, fmt.Errorf("%q names no Parley group after =>", part)
		}
		out = append(out, Mapping{LDAP: src, Group: dst})
	}
	return out, nil
}

// LoadCA reads PEM certificates to verify the directory with.
func LoadCA(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// withDefaults returns c checked and with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return c, errors.New("directory URL must be ldaps://host or ldap://host")
	}
	if c.BaseDN == "" {
		return c, errors.New("directory base DN is required")
	}
	if len(c.Groups) == 0 && c.Portal == nil {
		return c, errors.New("directory group mapping names no group")
	}
	for _, m := range append(append([]Mapping{}, c.Groups...), portal(c.Portal)...) {
		g := parley.Group{Name: m.Group}
		if err := g.Validate(); err != nil {
			return c, fmt.Errorf("directory group %q: %s", m.LDAP, parley.ErrorMessage(err))
		}
	}
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&c.UserFilter, "(objectClass=person)")
	def(&c.LoginAttr, "uid")
	def(&c.NameAttr, "displayName")
	def(&c.MailAttr, "mail")
	def(&c.PhoneAttr, "telephoneNumber")
	if c.Interval <= 0 {
		c.Interval = 15 * time.Minute
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.TLS == nil {
		c.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		c.TLS = c.TLS.Clone()
	}
	if c.TLS.ServerName == "" {
		c.TLS.ServerName = u.Hostname()
	}
	return c, nil
}

func portal(m *Mapping) []Mapping {
	if m == nil {
		return nil
	}
	return []Mapping{*m}
}

// mapping describes c for the admin console, without the password.
func (c Config) mapping() *conversation.DirectoryMapping {
	m := &conversation.DirectoryMapping{Security: "starttls", BindDN: c.BindDN, BaseDN: c.BaseDN, UserFilter: c.UserFilter,
		Groups: []conversation.DirectoryGroupMapping{}, LoginAttribute: c.LoginAttr, NameAttribute: c.NameAttr,
		MailAttribute: c.MailAttr, PhoneAttribute: c.PhoneAttr, PhotoAttribute: c.PhotoAttr, NestedGroups: c.NestedGroups}
	switch {
	case strings.HasPrefix(c.URL, "ldaps://"):
		m.Security = "ldaps"
	case c.AllowPlain:
		m.Security = "plain"
	}
	for _, g := range c.Groups {
		m.Groups = append(m.Groups, conversation.DirectoryGroupMapping{Directory: g.LDAP, Group: g.Group})
	}
	if c.Portal != nil {
		m.Portal = &conversation.DirectoryGroupMapping{Directory: c.Portal.LDAP, Group: c.Portal.Group}
	}
	return m
}
