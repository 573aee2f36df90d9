package httpapi

import "net/http"

// healthKPI serves the node's KPIs as JSON beside /healthz and /metrics:
// sessions, connected visitors, chats opened and closed, messages in and
// out, offers, queue lengths, service level, and rates per second. It
// holds counts only, no chat content and nothing about a visitor.
func (s *Server) healthKPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.svc.HealthKPI(s.now()))
}
