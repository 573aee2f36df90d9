package conversation

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/routing"
)

func requireSupervisor(actor Actor) error {
	if !actor.hasRole(parley.RoleSupervisor, parley.RoleAdmin) {
		return parley.Errorf(parley.EFORBIDDEN, "only supervisors and admins may do this")
	}
	return nil
}

// KPI are one group's (or the total's) figures for a period.
type KPI struct {
	GroupID   int64  `json:"group_id,omitempty"`
	GroupName string `json:"group_name,omitempty"`
	// Offered counts the chats requested in the period.
	Offered int `json:"offered"`
	// Handled counts those an agent accepted.
	Handled int `json:"handled"`
	// Abandoned counts those that ended before an agent accepted them
	// because the visitor left or timed out.
	Abandoned int `json:"abandoned"`
	// Waiting counts those still waiting.
	Waiting int `json:"waiting"`
	// AverageWait is the mean time to answer of handled chats, in seconds.
	AverageWait float64 `json:"average_wait_seconds"`
	// AverageHandle is the mean time from answer to end of the handled
	// chats that ended, in seconds.
	AverageHandle float64 `json:"average_handle_seconds"`
	// ServiceLevel is the share of handled and abandoned chats answered
	// within the threshold, 0 to 1; -1 when there are none.
	ServiceLevel float64 `json:"service_level"`
	// Rated counts the chats the visitor rated, Satisfied those rated 4
	// or 5 of 5.
	Rated     int `json:"rated"`
	Satisfied int `json:"satisfied"`
	// CSAT is customer satisfaction: Satisfied of Rated, 0 to 1; -1 when
	// no chat was rated.
	CSAT float64 `json:"csat"`
	// AverageRating is the mean score of the rated chats, 0 without any.
	AverageRating float64 `json:"average_rating"`
	// Buckets splits offered, handled and abandoned over the period, for
	// charts: one per KPIReport.BucketSeconds from Since on.
	Buckets []KPIBucket `json:"buckets"`

	waitSum, handleSum time.Duration
	handleN, inTime    int
	scoreSum           int
}

// KPIBucket counts the chats requested in one interval.
type KPIBucket struct {
	At        time.Time `json:"at"`
	Offered   int       `json:"offered"`
	Handled   int       `json:"handled"`
	Abandoned int       `json:"abandoned"`
	// Rated and Satisfied count ratings as KPI does, for a CSAT trend.
	Rated     int `json:"rated"`
	Satisfied int `json:"satisfied"`
}

// satisfied is the least score that counts as a satisfied visitor.
const satisfied = 4

// add counts chat c, requested in the period, and its rating r (nil
// when the visitor did not rate it).
func (k *KPI) add(c *parley.Chat, r *parley.Rating, threshold time.Duration, since time.Time, bucket time.Duration) {
	if r != nil {
		k.Rated++
		k.scoreSum += r.Score
		if r.Score >= satisfied {
			k.Satisfied++
		}
	}
	if i := int(c.CreatedAt.Sub(since) / bucket); i >= 0 && i < len(k.Buckets) {
		b := &k.Buckets[i]
		if r != nil {
			b.Rated++
			if r.Score >= satisfied {
				b.Satisfied++
			}
		}
		b.Offered++
		switch {
		case !c.AcceptedAt.IsZero():
			b.Handled++
		case abandoned(c):
			b.Abandoned++
		}
	}
	k.Offered++
	switch {
	case !c.AcceptedAt.IsZero():
		k.Handled++
		wait := c.AcceptedAt.Sub(c.CreatedAt)
		k.waitSum += wait
		if wait <= threshold {
			k.inTime++
		}
		if !c.EndedAt.IsZero() {
			k.handleN++
			k.handleSum += c.EndedAt.Sub(c.AcceptedAt)
		}
	case abandoned(c):
		k.Abandoned++
	case c.Active():
		k.Waiting++
	}
}

// abandoned reports whether a chat ended unanswered because the visitor
// left or timed out (not because it was refused or the group closed).
func abandoned(c *parley.Chat) bool {
	if c.State != parley.StateTerminated || !c.AcceptedAt.IsZero() {
		return false
	}
	switch c.Cause {
	case parley.CauseVisitorLeft, parley.CauseIdleTimeout, parley.CauseDisconnectTimeout, parley.CauseGeneral:
		return true
	}
	return false
}

func (k *KPI) finish() {
	if k.Handled > 0 {
		k.AverageWait = round1(k.waitSum.Seconds() / float64(k.Handled))
	}
	if k.handleN > 0 {
		k.AverageHandle = round1(k.handleSum.Seconds() / float64(k.handleN))
	}
	k.ServiceLevel = -1
	if n := k.Handled + k.Abandoned; n > 0 {
		k.ServiceLevel = float64(int(float64(k.inTime)/float64(n)*1000+0.5)) / 1000
	}
	k.CSAT = -1
	if k.Rated > 0 {
		k.CSAT = float64(int(float64(k.Satisfied)/float64(k.Rated)*1000+0.5)) / 1000
		k.AverageRating = float64(int(float64(k.scoreSum)/float64(k.Rated)*100+0.5)) / 100
	}
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// KPIReport is the KPIs per group and in total since a point in time.
type KPIReport struct {
	Since               time.Time `json:"since"`
	ServiceLevelSeconds int       `json:"service_level_seconds"`
	// BucketSeconds is the width of the KPI buckets: an hour for periods
	// up to two days, else a day.
	BucketSeconds int    `json:"bucket_seconds"`
	Groups        []*KPI `json:"groups"`
	Total         *KPI   `json:"total"`
}

// KPIs computes the figures of the chats requested since since (zero:
// midnight UTC today) with a service level threshold (zero: the
// configured one), per group and in total.
func (s *Service) KPIs(ctx context.Context, actor Actor, since time.Time, threshold time.Duration) (*KPIReport, error) {
	if err := requireSupervisor(actor); err != nil {
		return nil, err
	}
	if threshold < 0 || threshold > 24*time.Hour {
		return nil, parley.Errorf(parley.EINVALID, "service_level_seconds must be between 1 and 86400")
	}
	if threshold == 0 {
		threshold = s.cfg.ServiceLevel
	}
	if since.IsZero() {
		since = s.now().UTC().Truncate(24 * time.Hour)
	}
	groups, err := s.store.Groups(ctx, actor.TenantID)
	if err != nil {
		return nil, internal("list groups", err)
	}
	now := s.now()
	if since.After(now) {
		return nil, parley.Errorf(parley.EINVALID, "since is in the future")
	}
	bucket := time.Hour
	if now.Sub(since) > 48*time.Hour {
		bucket = 24 * time.Hour
	}
	n := int(now.Sub(since)/bucket) + 1
	if n > 400 {
		return nil, parley.Errorf(parley.EINVALID, "since is more than 400 days ago")
	}
	buckets := func() []KPIBucket {
		out := make([]KPIBucket, n)
		for i := range out {
			out[i].At = since.Add(time.Duration(i) * bucket).UTC()
		}
		return out
	}
	rep := &KPIReport{Since: since.UTC(), ServiceLevelSeconds: int(threshold / time.Second), BucketSeconds: int(bucket / time.Second),
		Groups: []*KPI{}, Total: &KPI{Buckets: buckets()}}
	byGroup := map[int64]*KPI{}
	for _, g := range groups {
		k := &KPI{GroupID: g.ID, GroupName: g.Name, Buckets: buckets()}
		byGroup[g.ID] = k
		rep.Groups = append(rep.Groups, k)
	}
	q := parley.ArchiveQuery{TenantID: actor.TenantID, From: since, Limit: parley.MaxArchiveLimit}
	for {
		page, err := s.store.SearchChats(ctx, q)
		if err != nil {
			return nil, internal("search chats", err)
		}
		ids := make([]string, len(page.Chats))
		for i, c := range page.Chats {
			ids[i] = c.ID
		}
		ratings, err := s.store.Ratings(ctx, ids)
		if err != nil {
			return nil, internal("load ratings", err)
		}
		for _, c := range page.Chats {
			r := ratings[c.ID]
			if k := byGroup[c.GroupID]; k != nil {
				k.add(c, r, threshold, since, bucket)
			}
			rep.Total.add(c, r, threshold, since, bucket)
		}
		if page.Next == "" {
			break
		}
		q.Before = page.Next
	}
	for _, k := range rep.Groups {
		k.finish()
	}
	rep.Total.finish()
	return rep, nil
}

// QueueOverview is a group's live queue.
type QueueOverview struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	Open      bool   `json:"open"`
	// Waiting counts the group's chats no agent has answered yet: those
	// in its queue and those offered to an agent who has not accepted
	// (whose console may be gone).
	Waiting int `json:"waiting"`
	// LongestWait is the wait of the longest waiting chat, in seconds.
	LongestWait int `json:"longest_wait_seconds"`
	// EstimatedWait is for a chat requested now, -1 without a basis.
	EstimatedWait int `json:"estimated_wait_seconds"`
	// AgentsLoggedIn and AgentsReady count the group's members.
	AgentsLoggedIn int `json:"agents_logged_in"`
	AgentsReady    int `json:"agents_ready"`
}

// AgentOverview is an agent's live state.
type AgentOverview struct {
	ID          int64           `json:"id"`
	Login       string          `json:"login"`
	DisplayName string          `json:"display_name"`
	Role        parley.Role     `json:"role"`
	Presence    parley.Presence `json:"presence"`
	// PresenceReason is the presence source holding the agent away
	// (call, meeting).
	PresenceReason string        `json:"presence_reason,omitempty"`
	Status         parley.Status `json:"status"`
	StatusReason   string        `json:"status_reason,omitempty"`
	// Load is the chats offered to or handled by the agent.
	Load     int      `json:"load"`
	Capacity int      `json:"capacity"`
	Groups   []int64  `json:"groups"`
	Chats    []string `json:"chats"`
}

// Overview is the supervisor's live picture of queues and agents.
type Overview struct {
	At     time.Time        `json:"at"`
	Groups []*QueueOverview `json:"groups"`
	Agents []*AgentOverview `json:"agents"`
	// Calls are the calls open in the chats in progress.
	Calls []*CallOverview `json:"calls"`
}

// CallOverview is a call open in a chat in progress.
type CallOverview struct {
	ChatID string `json:"chat_id"`
	// Media is audio or video.
	Media string `json:"media"`
	// State is ringing until the call is answered, then live.
	State string `json:"state"`
	// Caller is who rang: visitor or agent.
	Caller parley.PartyKind `json:"caller"`
	// Since is when the call rang, or was answered once live.
	Since time.Time `json:"since"`
}

// Overview returns the tenant's queues and agents now.
func (s *Service) Overview(ctx context.Context, actor Actor) (*Overview, error) {
	if err := requireSupervisor(actor); err != nil {
		return nil, err
	}
	groups, err := s.store.Groups(ctx, actor.TenantID)
	if err != nil {
		return nil, internal("list groups", err)
	}
	agents, err := s.store.Agents(ctx, actor.TenantID)
	if err != nil {
		return nil, internal("list agents", err)
	}
	chats, err := s.store.Chats(ctx, parley.ChatFilter{TenantID: actor.TenantID, ActiveOnly: true})
	if err != nil {
		return nil, internal("list chats", err)
	}
	now := s.now().UTC()
	ov := &Overview{At: now, Groups: []*QueueOverview{}, Agents: []*AgentOverview{}, Calls: []*CallOverview{}}
	byGroup := map[int64]*QueueOverview{}
	s.router.Query(func(e routing.View) {
		for _, g := range groups {
			q := &QueueOverview{GroupID: g.ID, GroupName: g.Name, Open: e.GroupOpen(g.ID, now),
				EstimatedWait: e.EstimatedWait(g.ID)}
			byGroup[g.ID] = q
			ov.Groups = append(ov.Groups, q)
		}
		for _, a := range agents {
			ao := &AgentOverview{ID: a.ID, Login: a.Login, DisplayName: a.DisplayName, Role: a.Role,
				Presence: a.Presence, PresenceReason: a.PresenceReason, Status: a.Status, StatusReason: a.StatusReason,
				Load: e.Load(a.ID), Capacity: a.Capacity, Groups: []int64{}, Chats: []string{}}
			for _, m := range a.Groups {
				ao.Groups = append(ao.Groups, m.GroupID)
				if q := byGroup[m.GroupID]; q != nil && a.Presence != parley.PresenceOffline {
					q.AgentsLoggedIn++
					if a.Status == parley.StatusReady && a.Presence == parley.PresenceAvailable {
						q.AgentsReady++
					}
				}
			}
			ov.Agents = append(ov.Agents, ao)
		}
	})
	byAgent := map[int64]*AgentOverview{}
	for _, a := range ov.Agents {
		byAgent[a.ID] = a
	}
	for _, c := range chats {
		// A chat offered but not accepted still waits: the visitor has no
		// answer, and the agent may not be there.
		if q := byGroup[c.GroupID]; q != nil && c.State == parley.StateQueued {
			q.Waiting++
			if !c.QueuedAt.IsZero() {
				q.LongestWait = max(q.LongestWait, int(now.Sub(c.QueuedAt)/time.Second))
			}
		}
		if a := byAgent[c.AgentID]; a != nil && c.State == parley.StateHandling {
			a.Chats = append(a.Chats, c.ID)
		}
		if c.State == parley.StateHandling {
			co, err := s.callOverview(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			if co != nil {
				ov.Calls = append(ov.Calls, co)
			}
		}
	}
	return ov, nil
}

// pushOverviews sends each tenant's overview to its logged-in supervisors
// and admins when it changed since the last push (sent holds the last
// one per tenant, without its time).
func (s *Service) pushOverviews(ctx context.Context, sent map[int64]string) {
	tenants, err := s.store.Tenants(ctx)
	if err != nil {
		s.log.Warn("overview push: list tenants", "err", err)
		return
	}
	for _, t := range tenants {
		agents, err := s.store.Agents(ctx, t.ID)
		if err != nil {
			s.log.Warn("overview push: list agents", "err", err)
			return
		}
		var watchers []*parley.Agent
		for _, a := range agents {
			if (a.Role == parley.RoleSupervisor || a.Role == parley.RoleAdmin) && a.Presence != parley.PresenceOffline {
				watchers = append(watchers, a)
			}
		}
		if len(watchers) == 0 {
			delete(sent, t.ID)
			continue
		}
		ov, err := s.Overview(ctx, Actor{Kind: parley.PartyAgent, TenantID: t.ID, Agent: watchers[0]})
		if err != nil {
			s.log.Warn("overview push", "tenant", t.ID, "err", err)
			continue
		}
		at := ov.At
		ov.At = time.Time{}
		key, _ := json.Marshal(ov)
		if sent[t.ID] == string(key) {
			continue
		}
		sent[t.ID] = string(key)
		ov.At = at
		for _, a := range watchers {
			s.notifyAgent(ctx, a.ID, AgentNotice{Type: NoticeOverview, Overview: ov})
		}
	}
}

// Whisper posts a message to the agents of a chat that its visitor never
// sees: a supervisor coaching the agent, or the agent answering. Any agent
// who may read the active chat can whisper.
func (s *Service) Whisper(ctx context.Context, actor Actor, chatID, text string, opt SendOptions) (*parley.Event, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents and supervisors whisper")
	}
	if len(opt.ClientID) > 100 {
		return nil, parley.Errorf(parley.EINVALID, "client_id is longer than 100 characters")
	}
	unlock := s.lockChat(chatID)
	defer unlock()
	c, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if !c.Active() {
		return nil, errChatEnded
	}
	g, err := s.store.Group(ctx, c.GroupID)
	if err != nil {
		return nil, internal("load group", err)
	}
	if text, err = checkText(text, s.limits(g).maxLen); err != nil {
		return nil, err
	}
	e := parley.Event{
		ChatID: c.ID, Type: parley.EventMessage, At: s.now().UTC(), Audience: parley.AudienceAgents,
		From: parley.Party{Kind: parley.PartyAgent, AgentID: actor.Agent.ID, Name: actor.Agent.DisplayName}, Text: text,
		ClientID: opt.ClientID,
	}
	stored, err := s.store.AppendEvents(ctx, c.ID, []parley.Event{e})
	if err != nil {
		return nil, internal("append event", err)
	}
	s.publish(ctx, stored...)
	if err := ownRetry(e, stored[0]); err != nil {
		return nil, err
	}
	return &stored[0], nil
}

// Barge lets a supervisor join a chat being handled: the visitor sees the
// supervisor join and both can write. The agent stays.
func (s *Service) Barge(ctx context.Context, actor Actor, chatID string) (*ChatView, error) {
	if err := requireSupervisor(actor); err != nil {
		return nil, err
	}
	return s.join(ctx, actor, chatID, actor.Agent)
}

// Conference adds another agent to a chat the actor handles (or, for a
// supervisor, any chat being handled); the added agent is told as for an
// assignment and can write in the chat until it leaves.
func (s *Service) Conference(ctx context.Context, actor Actor, chatID string, agentID int64) (*ChatView, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents add agents to a chat")
	}
	if agentID == 0 {
		return nil, parley.Errorf(parley.EINVALID, "agent_id is required")
	}
	a, err := s.store.Agent(ctx, agentID)
	if isCode(err, parley.ENOTFOUND) || (err == nil && a.TenantID != actor.TenantID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "agent not found")
	} else if err != nil {
		return nil, internal("load agent", err)
	}
	if a.Presence == parley.PresenceOffline {
		return nil, parley.Errorf(parley.ECONFLICT, "%s is not logged in", a.NameForVisitors())
	}
	c, err := s.tenantChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if c.AgentID != actor.Agent.ID && requireSupervisor(actor) != nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "this chat is not yours")
	}
	return s.join(ctx, actor, chatID, a)
}

// join adds agent a to a chat being handled.
func (s *Service) join(ctx context.Context, actor Actor, chatID string, a *parley.Agent) (*ChatView, error) {
	unlock := s.lockChat(chatID)
	c, err := s.tenantChat(ctx, actor, chatID)
	if err != nil {
		unlock()
		return nil, err
	}
	switch {
	case !c.Active():
		unlock()
		return nil, errChatEnded
	case c.State != parley.StateHandling:
		unlock()
		return nil, parley.Errorf(parley.ECONFLICT, "the chat is not being handled yet")
	case c.AgentID == a.ID || c.Participant(parley.PartyAgent, a.ID) != nil:
		unlock()
		return nil, parley.Errorf(parley.ECONFLICT, "%s is in the chat already", a.NameForVisitors())
	}
	now := s.now().UTC()
	ap := parley.Party{Kind: parley.PartyAgent, AgentID: a.ID, Name: a.NameForVisitors()}
	c.Participants = append(c.Participants, parley.Participant{Party: ap, JoinedAt: now})
	events := []parley.Event{{Type: parley.EventJoined, From: ap}}
	stamp(c.ID, now, events)
	stored, err := s.store.UpdateChat(ctx, c, events)
	unlock()
	if err != nil {
		return nil, internal("join chat", err)
	}
	s.publish(ctx, stored...)
	view, err := s.view(ctx, c, true)
	if err != nil {
		return nil, err
	}
	s.notifyAgent(ctx, a.ID, AgentNotice{Type: NoticeAssigned, ChatID: c.ID, Chat: view})
	return view, nil
}

// leaveConference takes an agent who joined a chat (not its handling
// agent) out of it.
func (s *Service) leaveConference(ctx context.Context, actor Actor, chatID string) error {
	unlock := s.lockChat(chatID)
	c, err := s.tenantChat(ctx, actor, chatID)
	if err != nil {
		unlock()
		return err
	}
	p := c.Participant(parley.PartyAgent, actor.Agent.ID)
	switch {
	case !c.Active():
		unlock()
		return nil
	case c.AgentID == actor.Agent.ID:
		unlock()
		return parley.Errorf(parley.ECONFLICT, "the handling agent ends or transfers the chat instead")
	case p == nil:
		unlock()
		return parley.Errorf(parley.EFORBIDDEN, "you are not in this chat")
	}
	now := s.now().UTC()
	p.LeftAt = now
	events := []parley.Event{{Type: parley.EventLeft, From: p.Party}}
	stamp(c.ID, now, events)
	stored, err := s.store.UpdateChat(ctx, c, events)
	unlock()
	if err != nil {
		return internal("leave chat", err)
	}
	s.publish(ctx, stored...)
	s.notifyAgent(ctx, actor.Agent.ID, AgentNotice{Type: NoticeRemoved, ChatID: c.ID})
	return nil
}

// SendInternal sends text from the actor to another agent of the tenant:
// it is stored, then delivered on the agent feed (type internal) of both.
func (s *Service) SendInternal(ctx context.Context, actor Actor, toAgentID int64, text string) (*parley.InternalMessage, error) {
	to, err := s.internalPartner(ctx, actor, toAgentID)
	if err != nil {
		return nil, err
	}
	if text, err = checkText(text, s.cfg.MaxMessageLength); err != nil {
		return nil, err
	}
	m := &parley.InternalMessage{
		TenantID: actor.TenantID,
		From:     parley.Party{Kind: parley.PartyAgent, AgentID: actor.Agent.ID, Name: actor.Agent.DisplayName},
		To:       parley.Party{Kind: parley.PartyAgent, AgentID: to.ID, Name: to.DisplayName},
		Text:     text, At: s.now().UTC(),
	}
	if err := s.store.CreateInternalMessage(ctx, m); err != nil {
		return nil, internal("store internal message", err)
	}
	for _, id := range []int64{to.ID, actor.Agent.ID} {
		s.notifyAgent(ctx, id, AgentNotice{Type: NoticeInternal, Message: m})
	}
	return m, nil
}

// InternalHistory returns the messages between the actor and another
// agent with IDs below before (0: the newest), newest first.
func (s *Service) InternalHistory(ctx context.Context, actor Actor, otherID, before int64, limit int) ([]*parley.InternalMessage, error) {
	if _, err := s.internalPartner(ctx, actor, otherID); err != nil {
		return nil, err
	}
	switch {
	case limit == 0:
		limit = 50
	case limit < 0 || limit > 500:
		return nil, parley.Errorf(parley.EINVALID, "limit must be between 1 and 500")
	}
	if before < 0 {
		return nil, parley.Errorf(parley.EINVALID, "before must not be negative")
	}
	list, err := s.store.InternalMessages(ctx, actor.TenantID, actor.Agent.ID, otherID, before, limit)
	if err != nil {
		return nil, internal("list internal messages", err)
	}
	return list, nil
}

// internalPartner loads the other agent of an internal conversation.
func (s *Service) internalPartner(ctx context.Context, actor Actor, id int64) (*parley.Agent, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents have internal chats")
	}
	if id == actor.Agent.ID {
		return nil, parley.Errorf(parley.EINVALID, "agents do not message themselves")
	}
	a, err := s.store.Agent(ctx, id)
	if isCode(err, parley.ENOTFOUND) || (err == nil && a.TenantID != actor.TenantID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "agent not found")
	} else if err != nil {
		return nil, internal("load agent", err)
	}
	return a, nil
}
