package rocketchat

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/parleychat/parley"
)

// Date is a time as Rocket.Chat sends it: {"$date": ms} over DDP (EJSON),
// an ISO 8601 string over REST. The widget accepts both.
type Date struct {
	T     time.Time
	EJSON bool
}

// MarshalJSON implements json.Marshaler.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.EJSON {
		return []byte(`{"$date":` + strconv.FormatInt(d.T.UnixMilli(), 10) + `}`), nil
	}
	return json.Marshal(d.T.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// User is the author of a message: {_id, username, name}.
type User struct {
	ID       string `json:"_id"`
	Username string `json:"username"`
	Name     string `json:"name,omitempty"`
}

// Message is a Rocket.Chat message (IMessage, the fields the widget reads).
type Message struct {
	ID          string        `json:"_id"`
	RID         string        `json:"rid"`
	Msg         string        `json:"msg"`
	TS          Date          `json:"ts"`
	U           User          `json:"u"`
	UpdatedAt   Date          `json:"_updatedAt"`
	T           string        `json:"t,omitempty"`
	Token       string        `json:"token,omitempty"`
	Alias       string        `json:"alias,omitempty"`
	Groupable   *bool         `json:"groupable,omitempty"`
	File        *MessageFile  `json:"file,omitempty"`
	Files       []MessageFile `json:"files,omitempty"`
	Attachments []Attachment  `json:"attachments,omitempty"`
	EditedAt    *Date         `json:"editedAt,omitempty"`
	EditedBy    *User         `json:"editedBy,omitempty"`
	// NewRoom and ShowConnecting answer sendMessageLivechat only.
	NewRoom        *bool `json:"newRoom,omitempty"`
	ShowConnecting *bool `json:"showConnecting,omitempty"`
}

// MessageFile names a message's file.
type MessageFile struct {
	ID   string `json:"_id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// Attachment is how the widget shows a file.
type Attachment struct {
	Type              string `json:"type"`
	Title             string `json:"title"`
	TitleLink         string `json:"title_link"`
	TitleLinkDownload bool   `json:"title_link_download"`
	ImageURL          string `json:"image_url,omitempty"`
	ImageType         string `json:"image_type,omitempty"`
	ImageSize         int64  `json:"image_size,omitempty"`
	Size              int64  `json:"size,omitempty"`
	Format            string `json:"format,omitempty"`
}

// Visitor is a Rocket.Chat guest.
type Visitor struct {
	ID            string            `json:"_id"`
	Token         string            `json:"token"`
	Username      string            `json:"username"`
	Name          string            `json:"name,omitempty"`
	VisitorEmails []Email           `json:"visitorEmails,omitempty"`
	Phone         []Phone           `json:"phone,omitempty"`
	Department    string            `json:"department,omitempty"`
	Status        string            `json:"status,omitempty"`
	TS            Date              `json:"ts"`
	LivechatData  map[string]string `json:"livechatData,omitempty"`
}

// Email is one of a visitor's addresses.
type Email struct {
	Address string `json:"address"`
}

// Phone is one of a visitor's numbers.
type Phone struct {
	PhoneNumber string `json:"phoneNumber"`
}

// RoomVisitor is a room's v field.
type RoomVisitor struct {
	ID       string `json:"_id"`
	Username string `json:"username"`
	Token    string `json:"token"`
	Status   string `json:"status"`
}

// ServedBy is the agent serving a room.
type ServedBy struct {
	ID       string `json:"_id"`
	Username string `json:"username"`
	TS       Date   `json:"ts"`
}

// Room is a Livechat room (t "l").
type Room struct {
	ID              string      `json:"_id"`
	T               string      `json:"t"`
	FName           string      `json:"fname,omitempty"`
	Open            bool        `json:"open"`
	CL              bool        `json:"cl"`
	TS              Date        `json:"ts"`
	Msgs            int64       `json:"msgs"`
	V               RoomVisitor `json:"v"`
	ServedBy        *ServedBy   `json:"servedBy,omitempty"`
	DepartmentID    string      `json:"departmentId,omitempty"`
	WaitingResponse bool        `json:"waitingResponse"`
	ClosedAt        *Date       `json:"closedAt,omitempty"`
	Source          RoomSource  `json:"source"`
}

// RoomSource says where a room came from.
type RoomSource struct {
	Type string `json:"type"`
}

// Agent is the agent data a visitor sees.
type Agent struct {
	ID       string  `json:"_id"`
	Username string  `json:"username"`
	Name     string  `json:"name,omitempty"`
	Status   string  `json:"status,omitempty"`
	Emails   []Email `json:"emails,omitempty"`
	Phone    []Phone `json:"phone,omitempty"`
	// Livechat and CustomFields are present and empty, as Rocket.Chat
	// sends them for agents without them.
	Livechat     map[string]string `json:"livechat,omitempty"`
	CustomFields map[string]string `json:"customFields,omitempty"`
	Avatar       string            `json:"avatar,omitempty"`
}

// Department is a Parley group as a Rocket.Chat department.
type Department struct {
	ID                 string `json:"_id"`
	Name               string `json:"name"`
	ShowOnRegistration bool   `json:"showOnRegistration"`
	ShowOnOfflineForm  bool   `json:"showOnOfflineForm"`
	Enabled            bool   `json:"enabled"`
}

// departmentID is a group's department id: its number in decimal.
func departmentID(groupID int64) string { return strconv.FormatInt(groupID, 10) }

// agentUser names an agent as Rocket.Chat names users.
func agentUser(p parley.Party) User {
	return User{ID: agentID(p.AgentID), Username: agentUsername(p.AgentID), Name: p.Name}
}

func agentID(id int64) string       { return "agent-" + strconv.FormatInt(id, 10) }
func agentUsername(id int64) string { return "agent." + strconv.FormatInt(id, 10) }
