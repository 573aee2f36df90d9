package parley

// Corrections of a message. The log stays append-only: an edit or a
// withdrawal is a new event that names the message it changes, and
// readers apply it; the original stays in the log for the record.
const (
	// EventEdited replaces the text of an earlier message of the same
	// party: Text is the new text, Args[0] the message's seq and Args[1]
	// its client id ("" when it had none).
	EventEdited EventType = "edited"
	// EventDeleted withdraws an earlier message of the same party:
	// Args[0] is the message's seq and Args[1] its client id.
	EventDeleted EventType = "deleted"
)
