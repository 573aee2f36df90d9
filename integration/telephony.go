package integration

import (
	"net/http"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// CallBody is a phone system's report about one agent: the call state
// and the agent, by login or by phone number or extension.
type CallBody struct {
	// State is on_call (a call started or was answered) or ended.
	State string `json:"state"`
	Login string `json:"login"`
	Phone string `json:"phone"`
}

// CallAnswer is the agent's presence after the report.
type CallAnswer struct {
	AgentID        int64           `json:"agent_id"`
	OnCall         bool            `json:"on_call"`
	Presence       parley.Presence `json:"presence"`
	PresenceReason string          `json:"presence_reason,omitempty"`
}

// callState is the telephony presence source: an agent on a call is away
// (reason call) while it chose available, and back when the call ends.
func (h *Handler) callState(w http.ResponseWriter, r *http.Request) (any, int, error) {
	in, err := h.integration(r)
	if err != nil {
		return nil, 0, err
	}
	var b CallBody
	if err := decode(w, r, &b); err != nil {
		return nil, 0, err
	}
	var onCall bool
	switch b.State {
	case "on_call":
		onCall = true
	case "ended":
	default:
		return nil, 0, parley.Errorf(parley.EINVALID, "state must be on_call or ended")
	}
	a, err := h.svc.SetOnCall(r.Context(), in, conversation.CallParty{Login: b.Login, Phone: b.Phone}, onCall)
	if err != nil {
		return nil, 0, err
	}
	return CallAnswer{AgentID: a.ID, OnCall: a.OnCall, Presence: a.Presence, PresenceReason: a.PresenceReason}, http.StatusOK, nil
}
