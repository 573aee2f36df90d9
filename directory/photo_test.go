package directory_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/directory"
	"github.com/parleychat/parley/internal/slapdtest"
	"github.com/parleychat/parley/internal/testserver"
)

// portrait is a small JPEG in one colour.
func portrait(t *testing.T, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 48, 48))
	for y := range 48 {
		for x := range 48 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A binary photo attribute (jpegPhoto; Active Directory's
// thumbnailPhoto) becomes the agent's stored photo, served from Parley as
// an upload is; a changed photo replaces it at the next sync, an unchanged
// one changes nothing, and a value that is no image is not used.
func TestDirectoryBinaryPhoto(t *testing.T) {
	first, second := portrait(t, color.RGBA{R: 200, A: 255}), portrait(t, color.RGBA{B: 200, A: 255})
	seed := strings.Join([]string{
		"dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n",
		"dn: uid=vera,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: vera\ncn: Vera Lynn\nsn: Lynn\njpegPhoto:: " + base64.StdEncoding.EncodeToString(first) + "\n",
		"dn: uid=otto,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: otto\ncn: Otto\nsn: Otto\njpegPhoto: not an image\n",
		"dn: cn=webagents,dc=example,dc=org\nobjectClass: groupOfNames\ncn: webagents\nmember: uid=vera,dc=example,dc=org\nmember: uid=otto,dc=example,dc=org\n",
	}, "\n")
	lsrv := slapdtest.Start(t, seed)
	ts := testserver.Start(t, testserver.Options{})
	groups, err := directory.ParseMappings("webagents=>Support")
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.New(directory.Config{URL: lsrv.URL, TLS: &tls.Config{RootCAs: lsrv.Roots}, BaseDN: slapdtest.Suffix,
		PhotoAttr: "jpegPhoto", Groups: groups}, ts.Svc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	agent := func(login string) *parley.Agent {
		a, err := ts.Store.AgentByLogin(ctx, parley.DefaultTenantID, login)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	served := func(a *parley.Agent) []byte {
		if !strings.HasPrefix(a.PhotoURL, "/api/v1/public/agents/") {
			t.Fatalf("%s's photo URL = %q, want Parley's own", a.Login, a.PhotoURL)
		}
		return ts.Must(http.StatusOK, "GET", a.PhotoURL, "", nil, nil)
	}

	if rep, err := d.Sync(ctx); err != nil || rep.AgentsCreated != 2 {
		t.Fatalf("first sync = %+v, %v; want 2 agents", rep, err)
	}
	vera := agent("vera")
	if got := served(vera); !bytes.Equal(got, first) {
		t.Errorf("vera's served photo is %d bytes, want the directory's %d", len(got), len(first))
	}
	if o := agent("otto"); o.PhotoURL != "" {
		t.Errorf("otto, whose jpegPhoto is no image, has the photo %q", o.PhotoURL)
	}
	if rep, err := d.Sync(ctx); err != nil || rep.AgentsUpdated != 0 {
		t.Errorf("a sync with the same photo = %+v, %v; want nothing updated", rep, err)
	}

	m := ldap.NewModifyRequest("uid=vera,"+slapdtest.Suffix, nil)
	m.Replace("jpegPhoto", []string{string(second)})
	if err := lsrv.Admin(t).Modify(m); err != nil {
		t.Fatal(err)
	}
	if rep, err := d.Sync(ctx); err != nil || rep.AgentsUpdated != 1 {
		t.Fatalf("the sync after a new photo = %+v, %v; want vera updated", rep, err)
	}
	again := agent("vera")
	if again.PhotoURL == vera.PhotoURL {
		t.Error("the photo's address did not change with the photo; caches would keep the old one")
	}
	if got := served(again); !bytes.Equal(got, second) {
		t.Error("vera's served photo is not the new one")
	}
}

// With NestedGroups, members of a group inside a mapped group are agents
// too, at any depth, and a cycle of groups ends; without it they are not.
func TestDirectoryNestedGroups(t *testing.T) {
	seed := strings.Join([]string{
		"dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n",
		"dn: uid=vera,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: vera\ncn: Vera\nsn: Vera\n",
		"dn: uid=nina,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: nina\ncn: Nina Night\nsn: Night\n",
		"dn: uid=olaf,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: olaf\ncn: Olaf Owl\nsn: Owl\n",
		"dn: cn=webagents,dc=example,dc=org\nobjectClass: groupOfNames\ncn: webagents\nmember: uid=vera,dc=example,dc=org\nmember: cn=night,dc=example,dc=org\n",
		// night holds nina and owls, which holds olaf and, closing a
		// cycle, webagents.
		"dn: cn=night,dc=example,dc=org\nobjectClass: groupOfNames\ncn: night\nmember: uid=nina,dc=example,dc=org\nmember: cn=owls,dc=example,dc=org\n",
		"dn: cn=owls,dc=example,dc=org\nobjectClass: groupOfNames\ncn: owls\nmember: uid=olaf,dc=example,dc=org\nmember: cn=webagents,dc=example,dc=org\n",
	}, "\n")
	lsrv := slapdtest.Start(t, seed)
	ts := testserver.Start(t, testserver.Options{})
	groups, err := directory.ParseMappings("webagents=>Support")
	if err != nil {
		t.Fatal(err)
	}
	cfg := directory.Config{URL: lsrv.URL, TLS: &tls.Config{RootCAs: lsrv.Roots}, BaseDN: slapdtest.Suffix, Groups: groups}
	logins := func() string {
		as, err := ts.Store.Agents(context.Background(), parley.DefaultTenantID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range as {
			if a.DirectoryDN != "" && !a.Disabled && len(a.Groups) == 1 {
				out = append(out, a.Login)
			}
		}
		return strings.Join(out, ",")
	}
	flat, err := directory.New(cfg, ts.Svc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flat.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := logins(); got != "vera" {
		t.Errorf("agents without nested groups = %q, want vera only", got)
	}
	cfg.NestedGroups = true
	deep, err := directory.New(cfg, ts.Svc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := deep.Sync(context.Background()); err != nil || rep.AgentsCreated != 2 {
		t.Fatalf("the nested sync = %+v, %v; want nina and olaf created", rep, err)
	}
	if got := logins(); got != "vera,nina,olaf" {
		t.Errorf("agents with nested groups = %q, want vera, nina and olaf in Support", got)
	}
	if m := deep.Status().Mapping; m == nil || !m.NestedGroups {
		t.Errorf("the status's mapping = %+v; want nested groups shown", m)
	}
}
