package httpapi

import (
	"net/http"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// RetentionBody is PUT /api/v1/admin/retention.
type RetentionBody struct {
	// TenantID is another tenant, for admins of the default tenant; 0 is
	// the admin's own.
	TenantID int64 `json:"tenant_id"`
	Days     *int  `json:"retention_days"`
}

func (s *Server) getRetention(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		tenant, err := queryInt(r, "tenant_id", 0)
		if err != nil {
			return err
		}
		p, err := s.svc.RetentionPolicy(r.Context(), a, tenant)
		if err == nil {
			writeJSON(w, http.StatusOK, p)
		}
		return err
	})
}

func (s *Server) putRetention(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b RetentionBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		if b.Days == nil {
			return parley.FieldErrorf("retention_days", "retention_days is required (0 keeps everything)")
		}
		p := &parley.RetentionPolicy{TenantID: b.TenantID, Days: *b.Days}
		err := s.svc.SetRetentionPolicy(r.Context(), a, p)
		if err == nil {
			writeJSON(w, http.StatusOK, p)
		}
		return err
	})
}

// ErasureBody is POST /api/v1/admin/erasure: exactly one of visitor_id,
// email and phone.
type ErasureBody struct {
	TenantID  int64  `json:"tenant_id"`
	VisitorID string `json:"visitor_id"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

func (s *Server) erase(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		var b ErasureBody
		if err := decode(w, r, &b); err != nil {
			return err
		}
		rec, err := s.svc.EraseVisitor(r.Context(), a, parley.ErasureRequest{TenantID: b.TenantID,
			VisitorID: b.VisitorID, Email: b.Email, Phone: b.Phone})
		if err == nil {
			writeJSON(w, http.StatusOK, rec)
		}
		return err
	})
}

// runRetention applies the tenant's retention period now (POST
// /api/v1/admin/retention/run; ?tenant_id= names another tenant for
// admins of the default tenant) and answers what it deleted.
func (s *Server) runRetention(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		tenant, err := queryInt(r, "tenant_id", 0)
		if err != nil {
			return err
		}
		d, err := s.svc.ApplyTenantRetention(r.Context(), a, tenant)
		if err == nil {
			writeJSON(w, http.StatusOK, d)
		}
		return err
	})
}
