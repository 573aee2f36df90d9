package conversation

import (
	"context"
	"slices"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

// GroupStatuses reports every group of a tenant as GroupStatus does, for
// a public widget configuration that lists the groups a visitor may pick
// (Rocket.Chat's departments). Only names and open state are shown, as
// a widget shows them for one group.
func (s *Service) GroupStatuses(ctx context.Context, tenantID int64) ([]*GroupStatus, error) {
	if tenantID == 0 {
		tenantID = parley.DefaultTenantID
	}
	groups, err := s.store.Groups(ctx, tenantID)
	if err != nil {
		return nil, internal("list groups", err)
	}
	out := make([]*GroupStatus, 0, len(groups))
	now := s.now().UTC()
	s.router.Query(func(e routing.View) {
		waiting := e.QueueLengths()
		for _, g := range groups {
			st := &GroupStatus{GroupID: g.ID, GroupName: g.Name, EstimatedWait: e.EstimatedWait(g.ID),
				Open: e.GroupOpen(g.ID, now), Waiting: waiting[g.ID], TranscriptMail: s.canMailTranscript(g)}
			out = append(out, st)
		}
	})
	for _, st := range out {
		if slices.Contains(s.cfg.RejectGroups, st.GroupID) {
			st.Open = false
		}
	}
	return out, nil
}
