package parley

import "time"

// Rating is a visitor's rating of an ended chat, one per chat.
type Rating struct {
	ChatID string `json:"chat_id"`
	// Score is 1 (poor) to 5 (excellent).
	Score     int       `json:"score"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// OfflineMessage is what a visitor left in the widget's offline form while
// the group was closed.
type OfflineMessage struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"tenant_id"`
	GroupID   int64     `json:"group_id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}
