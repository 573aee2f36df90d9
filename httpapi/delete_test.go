package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parleychat/parley"
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
