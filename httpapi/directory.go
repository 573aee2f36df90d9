package httpapi

import (
	"context"
	"net/http"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// Directory is the company directory the admin endpoints show and sync
// (package directory).
type Directory interface {
	Sync(ctx context.Context) (*conversation.DirectoryReport, error)
	Status() conversation.DirectoryStatus
}

// directoryAdmin checks that the actor is an admin of the directory's
// tenant (or of the default tenant).
func (s *Server) directoryAdmin(a conversation.Actor) error {
	if a.Agent == nil || a.Agent.Role != parley.RoleAdmin {
		return parley.Errorf(parley.EFORBIDDEN, "this needs the admin role")
	}
	if s.opt.Directory != nil {
		if t := s.opt.Directory.Status().TenantID; a.TenantID != t && a.TenantID != parley.DefaultTenantID {
			return parley.Errorf(parley.EFORBIDDEN, "the directory belongs to another tenant")
		}
	}
	return nil
}

func (s *Server) directoryStatus(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		if err := s.directoryAdmin(a); err != nil {
			return err
		}
		st := conversation.DirectoryStatus{}
		if s.opt.Directory != nil {
			st = s.opt.Directory.Status()
		}
		writeJSON(w, http.StatusOK, st)
		return nil
	})
}

func (s *Server) syncDirectory(w http.ResponseWriter, r *http.Request) {
	s.withActor(w, r, func(a conversation.Actor) error {
		if err := s.directoryAdmin(a); err != nil {
			return err
		}
		if s.opt.Directory == nil {
			return parley.Errorf(parley.ENOTFOUND, "no directory is configured (--directory-url)")
		}
		rep, err := s.opt.Directory.Sync(r.Context())
		if err == nil {
			writeJSON(w, http.StatusOK, rep)
		}
		return err
	})
}
