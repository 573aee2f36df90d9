package parley

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// A call is an audio or video conversation between the visitor and one
// agent of a chat, signalled through the chat. Its lifecycle (invite,
// accept, decline, hang-up) is stored in the chat's log as EventSignal
// events; the WebRTC negotiation (offer, answer, ICE candidates) and the
// parties' media state are EventRTC events, relayed to the other party of
// the call and never stored.

// Call actions. The first four are stored; the rest are relayed only.
const (
	CallInvite  = "invite"  // a party rings the other side (Media)
	CallAccept  = "accept"  // the called side answers
	CallDecline = "decline" // the called side refuses; the call ends
	CallHangup  = "hangup"  // either party ends the call (the caller before an answer cancels it)
	// CallEnd is the action the service stores when a call ends without
	// a party hanging up: the chat ended around it.
	CallEnd = "end"

	CallOffer     = "offer"     // an SDP offer (SDP)
	CallAnswer    = "answer"    // an SDP answer (SDP)
	CallCandidate = "candidate" // a trickled ICE candidate (Candidate)
	CallMedia     = "media"     // the sender's microphone, camera and screen sharing state (Audio, Video, Screen)
)

// Call media.
const (
	MediaAudio = "audio"
	MediaVideo = "video"
)

// Outcomes of a call, on the event that closes it.
const (
	OutcomeCompleted = "completed" // answered, then hung up; Duration is set
	OutcomeDeclined  = "declined"  // the called side refused
	OutcomeCanceled  = "canceled"  // the caller hung up before an answer
	OutcomeMissed    = "missed"    // the chat ended before anyone answered
)

// Limits of relayed signalling.
const (
	MaxSDP       = 32 << 10 // bytes of one SDP offer or answer
	MaxCandidate = 1024     // bytes of one ICE candidate line
	maxMid       = 64
)

// CallSignal is the payload (Event.Signal) of EventSignal and EventRTC
// events.
type CallSignal struct {
	// Call identifies the call; the server assigns it on invite.
	Call   string `json:"call,omitempty"`
	Action string `json:"action"`
	// Media is audio or video, on every stored event.
	Media string `json:"media,omitempty"`
	// Outcome and Duration (whole seconds of an answered call) are set on
	// the event that closes the call.
	Outcome  string `json:"outcome,omitempty"`
	Duration int64  `json:"duration,omitempty"`
	// SDP is set on offer and answer.
	SDP string `json:"sdp,omitempty"`
	// Candidate is set on candidate; an empty Candidate.Candidate is the
	// end of candidates.
	Candidate *ICECandidate `json:"candidate,omitempty"`
	// Audio and Video are set on media: whether the sender's microphone
	// and camera are on. Screen says whether the sender's video is its
	// screen (an agent sharing it) rather than its camera.
	Audio  *bool `json:"audio,omitempty"`
	Video  *bool `json:"video,omitempty"`
	Screen *bool `json:"screen,omitempty"`
}

// ICECandidate is an RTCIceCandidateInit.
type ICECandidate struct {
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
	// UsernameFragment is the ICE ufrag the candidate belongs to.
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Stored reports whether an action is one of the call's lifecycle, kept
// in the chat's log.
func (s *CallSignal) Stored() bool {
	switch s.Action {
	case CallInvite, CallAccept, CallDecline, CallHangup, CallEnd:
		return true
	}
	return false
}

// DecodeCallSignal parses and checks a signal a client sent. Anything
// malformed, unknown or over its limit is an EINVALID or ETOOLARGE error;
// it never panics, whatever the input. Clients never send CallEnd,
// Outcome or Duration: the server decides those.
func DecodeCallSignal(data []byte) (CallSignal, error) {
	var s CallSignal
	if len(data) > MaxSDP+4096 {
		return s, Errorf(ETOOLARGE, "the signal is larger than %d bytes", MaxSDP+4096)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return CallSignal{}, Errorf(EINVALID, "the signal is not a valid JSON object: %v", err)
	}
	if dec.More() {
		return CallSignal{}, Errorf(EINVALID, "a signal holds one JSON object")
	}
	if err := s.check(); err != nil {
		return CallSignal{}, err
	}
	return s, nil
}

func (s *CallSignal) check() error {
	if s.Outcome != "" || s.Duration != 0 {
		return Errorf(EINVALID, "outcome and duration are set by the server")
	}
	if s.Action != CallInvite && (len(s.Call) == 0 || len(s.Call) > 64 || !printableASCII(s.Call)) {
		return Errorf(EINVALID, "%s needs call, the call's ID", s.Action)
	}
	only := func(want ...string) error {
		set := map[string]bool{
			"media": s.Media != "", "sdp": s.SDP != "", "candidate": s.Candidate != nil,
			"audio": s.Audio != nil, "video": s.Video != nil, "screen": s.Screen != nil,
		}
		for _, w := range want {
			delete(set, w)
		}
		for k, v := range set {
			if v {
				return Errorf(EINVALID, "%s takes no %s", s.Action, k)
			}
		}
		return nil
	}
	switch s.Action {
	case CallInvite:
		if s.Call != "" {
			return Errorf(EINVALID, "invite takes no call: the server assigns it")
		}
		if s.Media != MediaAudio && s.Media != MediaVideo {
			return Errorf(EINVALID, "invite needs media, audio or video")
		}
		return only("media")
	case CallAccept, CallDecline, CallHangup:
		return only()
	case CallOffer, CallAnswer:
		if err := only("sdp"); err != nil {
			return err
		}
		return CheckSDP(s.SDP)
	case CallCandidate:
		if err := only("candidate"); err != nil {
			return err
		}
		if s.Candidate == nil {
			return Errorf(EINVALID, "candidate needs candidate")
		}
		return s.Candidate.check()
	case CallMedia:
		if s.Audio == nil && s.Video == nil && s.Screen == nil {
			return Errorf(EINVALID, "media needs audio, video or screen")
		}
		return only("audio", "video", "screen")
	case "":
		return Errorf(EINVALID, "the signal's action is missing")
	default:
		return Errorf(EINVALID, "unknown signal action %q", s.Action)
	}
}

// CheckSDP accepts a session description of the shape browsers exchange:
// "v=0" first, then lines "<letter>=<value>" separated by CRLF (or LF),
// printable UTF-8, at most MaxSDP bytes.
func CheckSDP(sdp string) error {
	if len(sdp) > MaxSDP {
		return Errorf(ETOOLARGE, "the SDP has %d bytes; the limit is %d", len(sdp), MaxSDP)
	}
	if !utf8.ValidString(sdp) {
		return Errorf(EINVALID, "the SDP is not valid UTF-8")
	}
	if !strings.HasPrefix(sdp, "v=0") {
		return Errorf(EINVALID, "the SDP does not start with v=0")
	}
	lines := strings.Split(strings.ReplaceAll(sdp, "\r\n", "\n"), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if len(l) < 2 || l[1] != '=' || l[0] < 'a' || l[0] > 'z' {
			return Errorf(EINVALID, "SDP line %d is not of the form x=value", i+1)
		}
		for _, r := range l {
			if r < 0x20 || r == 0x7f {
				return Errorf(EINVALID, "SDP line %d holds a control character", i+1)
			}
		}
	}
	return nil
}

func (c *ICECandidate) check() error {
	if len(c.Candidate) > MaxCandidate {
		return Errorf(ETOOLARGE, "the candidate has %d bytes; the limit is %d", len(c.Candidate), MaxCandidate)
	}
	if c.Candidate != "" && (!strings.HasPrefix(c.Candidate, "candidate:") || !printableASCII(c.Candidate)) {
		return Errorf(EINVALID, "the candidate is not an ICE candidate line")
	}
	if c.SDPMid != nil && (len(*c.SDPMid) > maxMid || !printableASCII(*c.SDPMid)) {
		return Errorf(EINVALID, "sdpMid must be at most %d printable characters", maxMid)
	}
	if c.UsernameFragment != nil && (len(*c.UsernameFragment) > 256 || !printableASCII(*c.UsernameFragment)) {
		return Errorf(EINVALID, "usernameFragment must be at most 256 printable characters")
	}
	if c.SDPMLineIndex != nil && *c.SDPMLineIndex > 255 {
		return Errorf(EINVALID, "sdpMLineIndex must be at most 255")
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// CallOf returns the call signal an EventSignal or EventRTC event carries,
// or false when e carries none (or one that does not decode).
func (e *Event) CallOf() (CallSignal, bool) {
	if (e.Type != EventSignal && e.Type != EventRTC) || len(e.Signal) == 0 {
		return CallSignal{}, false
	}
	var s CallSignal
	if json.Unmarshal(e.Signal, &s) != nil || s.Action == "" {
		return CallSignal{}, false
	}
	return s, true
}

// CallSummary renders the closing event of a call for people, in English:
// "Video call, 4 min 12 s", "Missed audio call". It returns "" for events
// that do not close a call.
func (s CallSignal) CallSummary() string {
	kind := "Audio call"
	if s.Media == MediaVideo {
		kind = "Video call"
	}
	switch s.Outcome {
	case OutcomeCompleted:
		return kind + ", " + FormatCallDuration(time.Duration(s.Duration)*time.Second)
	case OutcomeDeclined:
		return kind + ", declined"
	case OutcomeCanceled:
		return kind + ", canceled"
	case OutcomeMissed:
		return "Missed " + strings.ToLower(kind[:1]) + kind[1:]
	}
	return ""
}

// FormatCallDuration renders a duration as "4 min 12 s" (an hour is "60
// min 0 s") or "12 s", as the widget and the console do.
func FormatCallDuration(d time.Duration) string {
	sec := int64(d / time.Second)
	if sec >= 60 {
		return fmt.Sprintf("%d min %d s", sec/60, sec%60)
	}
	return fmt.Sprintf("%d s", sec)
}
