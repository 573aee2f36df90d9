package directory

import (
	"reflect"
	"testing"
)

func TestParseMappings(t *testing.T) {
	got, err := ParseMappings(" webagents ; cn=Sales Team,ou=groups,dc=example,dc=org ; contactportal=>Contact portal;")
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{
		{LDAP: "webagents", Group: "webagents"},
		{LDAP: "cn=Sales Team,ou=groups,dc=example,dc=org", Group: "Sales Team"},
		{LDAP: "contactportal", Group: "Contact portal"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseMappings = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"=>Support", "webagents=>", "cn=,=x=>Support"} {
		if _, err := ParseMappings(bad); err == nil {
			t.Errorf("ParseMappings(%q) accepted", bad)
		}
	}
}

func TestConfigChecks(t *testing.T) {
	ok := Config{URL: "ldaps://dc1.example.com", BaseDN: "dc=example,dc=com", Groups: []Mapping{{"webagents", "Support"}}}
	c, err := ok.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.LoginAttr != "uid" || c.UserFilter != "(objectClass=person)" || c.TLS.ServerName != "dc1.example.com" || c.Interval == 0 {
		t.Errorf("defaults = %+v", c)
	}
	for name, bad := range map[string]Config{
		"http URL":   {URL: "http://dc1", BaseDN: "dc=x", Groups: ok.Groups},
		"no host":    {URL: "ldap://", BaseDN: "dc=x", Groups: ok.Groups},
		"no base DN": {URL: "ldap://dc1", Groups: ok.Groups},
		"no groups":  {URL: "ldap://dc1", BaseDN: "dc=x"},
		"bad group":  {URL: "ldap://dc1", BaseDN: "dc=x", Groups: []Mapping{{"x", "   "}}},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
