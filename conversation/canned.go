package conversation

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// canEditCanned reports whether the actor manages canned responses.
func canEditCanned(actor Actor) error {
	if !actor.hasRole(parley.RoleSupervisor, parley.RoleAdmin) {
		return parley.Errorf(parley.EFORBIDDEN, "only supervisors and admins manage canned responses")
	}
	return nil
}

// CannedResponses lists the responses the actor may use: those for every
// group and those of the actor's groups (all groups for supervisors and
// admins). groupID, when not 0, keeps that group's and the shared ones.
func (s *Service) CannedResponses(ctx context.Context, actor Actor, groupID int64) ([]*parley.CannedResponse, error) {
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents use canned responses")
	}
	all, err := s.store.CannedResponses(ctx, actor.TenantID)
	if err != nil {
		return nil, internal("list canned responses", err)
	}
	every := actor.hasRole(parley.RoleSupervisor, parley.RoleAdmin)
	out := []*parley.CannedResponse{}
	for _, c := range all {
		switch {
		case groupID != 0 && c.GroupID != 0 && c.GroupID != groupID:
		case c.GroupID == 0 || every || actor.Agent.InGroup(c.GroupID):
			out = append(out, c)
		}
	}
	return out, nil
}

// checkCannedGroup checks that a response's group is one of the tenant's.
func (s *Service) checkCannedGroup(ctx context.Context, actor Actor, groupID int64) error {
	if groupID == 0 {
		return nil
	}
	g, err := s.store.Group(ctx, groupID)
	if isCode(err, parley.ENOTFOUND) || (err == nil && g.TenantID != actor.TenantID) {
		return parley.Errorf(parley.ENOTFOUND, "group %d not found", groupID)
	}
	if err != nil {
		return internal("load group", err)
	}
	return nil
}

// CreateCanned stores a new response in the actor's tenant.
func (s *Service) CreateCanned(ctx context.Context, actor Actor, c *parley.CannedResponse) error {
	if err := canEditCanned(actor); err != nil {
		return err
	}
	c.ID, c.TenantID = 0, actor.TenantID
	if err := c.Validate(); err != nil {
		return err
	}
	if err := s.checkCannedGroup(ctx, actor, c.GroupID); err != nil {
		return err
	}
	if err := s.store.CreateCanned(ctx, c); err != nil {
		if isCode(err, parley.ECONFLICT) {
			return shortcutTaken(c.Shortcut)
		}
		return internal("create canned response", err)
	}
	return s.audit(ctx, actor, c.TenantID, "canned.create", "canned", c.ID, c.Title, "")
}

// CannedUpdate changes the fields that are set.
type CannedUpdate struct {
	GroupID  *int64  `json:"group_id"`
	Folder   *string `json:"folder"`
	Shortcut *string `json:"shortcut"`
	Title    *string `json:"title"`
	Text     *string `json:"text"`
}

// UpdateCanned changes a response of the actor's tenant.
func (s *Service) UpdateCanned(ctx context.Context, actor Actor, id int64, u CannedUpdate) (*parley.CannedResponse, error) {
	if err := canEditCanned(actor); err != nil {
		return nil, err
	}
	c, err := s.tenantCanned(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	before := *c
	set(&c.GroupID, u.GroupID)
	set(&c.Folder, u.Folder)
	set(&c.Shortcut, u.Shortcut)
	set(&c.Title, u.Title)
	set(&c.Text, u.Text)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := s.checkCannedGroup(ctx, actor, c.GroupID); err != nil {
		return nil, err
	}
	c.UpdatedAt = time.Time{}
	if err := s.store.UpdateCanned(ctx, c); err != nil {
		if isCode(err, parley.ECONFLICT) {
			return nil, shortcutTaken(c.Shortcut)
		}
		return nil, internal("update canned response", err)
	}
	return c, s.audit(ctx, actor, c.TenantID, "canned.update", "canned", c.ID, c.Title, changed(before, c))
}

// DeleteCanned deletes a response of the actor's tenant.
func (s *Service) DeleteCanned(ctx context.Context, actor Actor, id int64) error {
	if err := canEditCanned(actor); err != nil {
		return err
	}
	c, err := s.tenantCanned(ctx, actor, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteCanned(ctx, id); err != nil {
		return internal("delete canned response", err)
	}
	return s.audit(ctx, actor, c.TenantID, "canned.delete", "canned", c.ID, c.Title, "")
}

func (s *Service) tenantCanned(ctx context.Context, actor Actor, id int64) (*parley.CannedResponse, error) {
	c, err := s.store.Canned(ctx, id)
	if isCode(err, parley.ENOTFOUND) || (err == nil && c.TenantID != actor.TenantID) {
		return nil, parley.Errorf(parley.ENOTFOUND, "canned response not found")
	}
	if err != nil {
		return nil, internal("load canned response", err)
	}
	return c, nil
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// MaxCannedImport bounds the responses of one import.
const MaxCannedImport = 5000

// ImportCanned reads responses in format "csv" or "json" (see
// docs/api.md) into groupID (0: every group). A response whose shortcut,
// or else folder and title, matches a stored one of the same group
// replaces it. Nothing is stored unless every row is valid.
func (s *Service) ImportCanned(ctx context.Context, actor Actor, groupID int64, format string, r io.Reader) (*ImportResult, error) {
	if err := canEditCanned(actor); err != nil {
		return nil, err
	}
	if err := s.checkCannedGroup(ctx, actor, groupID); err != nil {
		return nil, err
	}
	var rows []*parley.CannedResponse
	var err error
	switch format {
	case "csv":
		rows, err = readCannedCSV(r)
	case "json":
		rows, err = readCannedJSON(r)
	default:
		return nil, parley.Errorf(parley.EINVALID, "format must be csv or json")
	}
	if err != nil {
		return nil, err
	}
	if len(rows) > MaxCannedImport {
		return nil, parley.Errorf(parley.ETOOLARGE, "at most %d responses per import", MaxCannedImport)
	}
	for i, c := range rows {
		c.TenantID, c.GroupID = actor.TenantID, groupID
		if err := c.Validate(); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "response %d: %s", i+1, parley.ErrorMessage(err))
		}
	}
	existing, err := s.store.CannedResponses(ctx, actor.TenantID)
	if err != nil {
		return nil, internal("list canned responses", err)
	}
	key := func(c *parley.CannedResponse) string {
		if c.Shortcut != "" {
			return "/" + c.Shortcut
		}
		return c.Folder + "\x00" + c.Title
	}
	stored := map[string]*parley.CannedResponse{}
	for _, c := range existing {
		if c.GroupID == groupID {
			stored[key(c)] = c
		}
	}
	res := &ImportResult{}
	for _, c := range rows {
		if old, ok := stored[key(c)]; ok {
			c.ID = old.ID
			if err := s.store.UpdateCanned(ctx, c); err != nil {
				return res, internal("update canned response", err)
			}
			res.Updated++
			continue
		}
		if err := s.store.CreateCanned(ctx, c); err != nil {
			if isCode(err, parley.ECONFLICT) {
				return res, parley.Errorf(parley.ECONFLICT, "shortcut /%s is used by another response", c.Shortcut)
			}
			return res, internal("create canned response", err)
		}
		stored[key(c)] = c
		res.Created++
	}
	detail := strconv.Itoa(res.Created) + " created, " + strconv.Itoa(res.Updated) + " updated"
	return res, s.audit(ctx, actor, actor.TenantID, "canned.import", "canned", groupID, "", detail)
}

// readCannedCSV reads a CSV file whose header names the columns folder,
// shortcut, title and text (title and text required, any order).
func readCannedCSV(r io.Reader) ([]*parley.CannedResponse, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "the CSV file has no header line")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["title"]; !ok {
		return nil, parley.Errorf(parley.EINVALID, "the CSV header needs the columns title and text")
	}
	if _, ok := col["text"]; !ok {
		return nil, parley.Errorf(parley.EINVALID, "the CSV header needs the columns title and text")
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var out []*parley.CannedResponse
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "CSV line %d: %v", line, err)
		}
		if len(out) >= MaxCannedImport {
			return nil, parley.Errorf(parley.ETOOLARGE, "at most %d responses per import", MaxCannedImport)
		}
		out = append(out, &parley.CannedResponse{
			Folder: field(rec, "folder"), Shortcut: field(rec, "shortcut"),
			Title: field(rec, "title"), Text: field(rec, "text"),
		})
	}
}

// readCannedJSON reads a JSON array of {folder, shortcut, title, text}.
func readCannedJSON(r io.Reader) ([]*parley.CannedResponse, error) {
	var in []struct {
		Folder   string `json:"folder"`
		Shortcut string `json:"shortcut"`
		Title    string `json:"title"`
		Text     string `json:"text"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "the JSON file is not an array of {folder, shortcut, title, text}: %v", err)
	}
	out := make([]*parley.CannedResponse, 0, len(in))
	for _, c := range in {
		out = append(out, &parley.CannedResponse{Folder: c.Folder, Shortcut: c.Shortcut, Title: c.Title, Text: c.Text})
	}
	return out, nil
}

// ChatCanned returns the responses usable in a chat the agent handles or
// may read, with placeholders replaced by the chat's details.
func (s *Service) ChatCanned(ctx context.Context, actor Actor, chatID string) ([]*parley.CannedResponse, error) {
	c, err := s.readableChat(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if actor.Agent == nil {
		return nil, parley.Errorf(parley.EFORBIDDEN, "only agents use canned responses")
	}
	list, err := s.CannedResponses(ctx, actor, c.GroupID)
	if err != nil {
		return nil, err
	}
	v, err := s.store.Visitor(ctx, c.VisitorID)
	if err != nil {
		return nil, internal("load visitor", err)
	}
	g, err := s.store.Group(ctx, c.GroupID)
	if err != nil {
		return nil, internal("load group", err)
	}
	loc, _ := g.Routing.Location()
	if loc == nil {
		loc = time.UTC
	}
	now := s.now().In(loc)
	a := actor.Agent
	r := strings.NewReplacer(
		"{visitor.name}", v.Name, "{visitor.email}", v.Email, "{visitor.phone}", v.Phone,
		"{visitor.customer_id}", v.CustomerID,
		"{agent.name}", a.NameForVisitors(), "{agent.first_name}", a.FirstName, "{agent.last_name}", a.LastName,
		"{group.name}", g.Name, "{chat.id}", c.ID,
		"{date}", now.Format(time.DateOnly), "{time}", now.Format("15:04"),
	)
	for _, cr := range list {
		cr.Text = r.Replace(cr.Text)
	}
	return list, nil
}

// shortcutTaken is the error of a shortcut another response of the group
// has.
func shortcutTaken(shortcut string) error {
	return &parley.Error{Code: parley.ECONFLICT, Message: "shortcut /" + shortcut + " is used by another response", Field: "shortcut"}
}
