package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/httpapi"
	"github.com/parleychat/parley/internal/testserver"
)

// An admin deletes a group nobody chatted in: its members leave it (their
// consoles and routing follow) and the audit log records it. A group the
// archive still holds chats of is refused and stays; agents may not
// delete groups.
func TestDeleteGroup(t *testing.T) {
	boss := testserver.Agent("boss", "Boss")
	boss.Role = parley.RoleAdmin
	ts := testserver.Start(t, testserver.Options{
		Groups: []*parley.Group{{ID: 1, Name: "Support"}, {ID: 2, Name: "Spare"}},
		Agents: []*parley.Agent{testserver.Agent("alice", "Alice", 1, 2), boss},
	})
	admin, agent := ts.Login("boss"), ts.Login("alice")
	ts.Presence(agent, "available", "ready")
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera", "message": "Hi"}, nil)

	if st, _ := ts.Do("DELETE", "/api/v1/admin/groups/2", agent, nil); st != http.StatusForbidden {
		t.Errorf("an agent deleting a group = %d, want 403", st)
	}
	if st, body := ts.Do("DELETE", "/api/v1/admin/groups/1", admin, nil); st != http.StatusConflict || !strings.Contains(string(body), "retention") {
		t.Errorf("deleting a group with a chat = %d %s, want 409 pointing at retention", st, body)
	}
	ts.Must(http.StatusOK, "GET", "/api/v1/admin/groups/1", admin, nil, nil)
	ts.Must(http.StatusNoContent, "DELETE", "/api/v1/admin/groups/2", admin, nil, nil)
	ts.Must(http.StatusNotFound, "GET", "/api/v1/admin/groups/2", admin, nil, nil)
	ts.Must(http.StatusNotFound, "DELETE", "/api/v1/admin/groups/2", admin, nil, nil)
	var me parley.Agent
	ts.Must(http.StatusOK, "GET", "/api/v1/me", agent, nil, &me)
	if len(me.Groups) != 1 || me.Groups[0].GroupID != 1 {
		t.Errorf("alice's groups after the delete = %+v, want Support only", me.Groups)
	}
	if st, _ := ts.Do("POST", "/api/v1/chats", "", map[string]any{"group_id": 2, "name": "Vera", "message": "Hi"}); st == http.StatusCreated {
		t.Error("a chat was created in the deleted group")
	}
	var log []parley.AuditEntry
	ts.Must(http.StatusOK, "GET", "/api/v1/admin/audit?action=group.delete", admin, nil, &log)
	if len(log) != 1 || log[0].TargetName != "Spare" || log[0].Detail != "1 members removed" || log[0].ActorLogin != "boss" {
		t.Errorf("audit = %+v", log)
	}
}

// The superadmin deletes a tenant: refused while one of its chats goes
// on; after it ended, the tenant goes with its chats, visitors, agents
// (signed out) and groups, and the default tenant's audit log records it.
// Other admins cannot, and the default tenant cannot go.
func TestDeleteTenant(t *testing.T) {
	root := testserver.Agent("root", "Root")
	root.Role = parley.RoleAdmin
	ts := testserver.Start(t, testserver.Options{
		Groups: []*parley.Group{{ID: 1, Name: "Support"}},
		Agents: []*parley.Agent{root, testserver.Agent("alice", "Alice", 1)},
	})
	admin := ts.Login("root")
	var created struct {
		ID         int64 `json:"id"`
		Invitation struct {
			Token string `json:"token"`
		} `json:"invitation"`
	}
	ts.Must(http.StatusCreated, "POST", "/api/v1/admin/tenants", admin, map[string]any{"name": "Acme", "admin": map[string]any{"login": "ada"}}, &created)
	acme := created.ID
	var signed struct {
		Token string `json:"token"`
	}
	ts.Must(http.StatusOK, "POST", "/api/v1/auth/invite", "", map[string]any{"token": created.Invitation.Token, "password": "acme-admin-password"}, &signed)
	ada := signed.Token
	var g parley.Group
	ts.Must(http.StatusCreated, "POST", "/api/v1/admin/groups", ada, map[string]any{"name": "Acme help"}, &g)
	var me parley.Agent
	ts.Must(http.StatusOK, "GET", "/api/v1/me", ada, nil, &me)
	ts.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/admin/agents/%d", me.ID), ada, map[string]any{"groups": []map[string]any{{"group_id": g.ID}}}, nil)
	ts.Presence(ada, "available", "ready")
	var started httpapi.ChatStartedBody
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"tenant_id": acme, "group_id": g.ID, "name": "Vera", "message": "Hello Acme"}, &started)
	if got := ts.OfferedChat(ada); got != started.Chat.ID {
		t.Fatalf("offered %q, want %s", got, started.Chat.ID)
	}
	ts.Must(http.StatusOK, "POST", "/api/v1/chats/"+started.Chat.ID+"/accept", ada, nil, nil)

	path := fmt.Sprintf("/api/v1/admin/tenants/%d", acme)
	if st, _ := ts.Do("DELETE", path, ada, nil); st != http.StatusForbidden {
		t.Errorf("a tenant's own admin deleting it = %d, want 403", st)
	}
	if st, _ := ts.Do("DELETE", "/api/v1/admin/tenants/-1", admin, nil); st != http.StatusBadRequest {
		t.Errorf("deleting the default tenant = %d, want 400", st)
	}
	if st, _ := ts.Do("DELETE", path, admin, nil); st != http.StatusConflict {
		t.Errorf("deleting a tenant with a chat going on = %d, want 409", st)
	}
	ts.Must(http.StatusOK, "GET", "/api/v1/chats/"+started.Chat.ID, ada, nil, nil)
	ts.Must(http.StatusNoContent, "POST", "/api/v1/chats/"+started.Chat.ID+"/end", ada, nil, nil)

	var d parley.Deletion
	ts.Must(http.StatusOK, "DELETE", path, admin, nil, &d)
	if d.Chats != 1 || d.Visitors != 1 {
		t.Errorf("deleted %+v; want the one chat and its visitor", d)
	}
	if st, _ := ts.Do("GET", "/api/v1/me", ada, nil); st != http.StatusUnauthorized {
		t.Errorf("ada's session after the delete = %d, want 401", st)
	}
	ts.Must(http.StatusNotFound, "GET", "/api/v1/chats/"+started.Chat.ID, admin, nil, nil)
	ts.Must(http.StatusNotFound, "DELETE", path, admin, nil, nil)
	if as, err := ts.Store.Agents(t.Context(), acme); err != nil || len(as) != 0 {
		t.Errorf("Acme's agents after the delete: %v %v", as, err)
	}
	if gs, err := ts.Store.Groups(t.Context(), acme); err != nil || len(gs) != 0 {
		t.Errorf("Acme's groups after the delete: %v %v", gs, err)
	}
	var tenants []parley.Tenant
	ts.Must(http.StatusOK, "GET", "/api/v1/admin/tenants", admin, nil, &tenants)
	for _, tn := range tenants {
		if tn.ID == acme {
			t.Error("the deleted tenant is still listed")
		}
	}
	var log []parley.AuditEntry
	ts.Must(http.StatusOK, "GET", "/api/v1/admin/audit?action=tenant.delete", admin, nil, &log)
	if len(log) != 1 || log[0].TargetName != "Acme" || !strings.HasPrefix(log[0].Detail, "deleted 1 agents, 1 chats, 1 visitors") {
		t.Errorf("audit = %+v", log)
	}
	// The default tenant's own chats are untouched.
	alice := ts.Login("alice")
	ts.Presence(alice, "available", "ready")
	ts.Must(http.StatusCreated, "POST", "/api/v1/chats", "", map[string]any{"group_id": 1, "name": "Vera", "message": "Hi"}, nil)
}
