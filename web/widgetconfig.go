package web

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// widgetStatusTimeout bounds the group status lookup of /widget/config.
const widgetStatusTimeout = 2 * time.Second

// Layers of the widget configuration, weakest first (SPEC F1.3).
const (
	layerServer = 1 << iota // built-in defaults and <data>/widget/config.json
	layerFile               // the host's config.json (configurl)
	layerAttr               // HTML attributes of <parley-widget>
	layerParam              // parley-* GET parameters of the page URL

	layersAll    = layerServer | layerFile | layerAttr | layerParam
	layersNoPage = layerServer | layerFile | layerAttr
	layersServer = layerServer | layerFile
)

// Value kinds of widget keys.
const (
	kindBool = iota
	kindInt
	kindString
	kindList     // JSON array of strings, or comma-separated in attributes and parameters
	kindPosition // one of positions
	kindColor    // CSS hex color
	kindField    // pre-chat field: required, optional or off
	kindOrigin   // a web origin
	kindCall     // a call to ring with the chat: "", audio or video
)

// widgetKey is one setting of the widget; the table below is the source
// of docs/widget.md's key list (a test checks the two agree).
type widgetKey struct {
	name   string
	mitel  string // the Mitel.ChatToolbox.Config property it stands for, if any
	kind   int
	layers int
	def    any
}

var positions = []string{"top-left", "top-right", "center-left", "center-right", "bottom-left", "bottom-right"}

// widgetKeys lists every widget setting. Keys that widen what a page may
// do (the postMessage origin, the tenant, limits) cannot be set from the
// page URL, which any visitor can edit.
func widgetKeys() []widgetKey {
	return []widgetKey{
		{"available", "ToolboxAvailable", kindBool, layersNoPage, true},
		{"showWhenUnavailable", "ShowWhenUnavailable", kindBool, layersAll, true},
		{"statePollInterval", "StatePollInterval", kindInt, layersNoPage, 20},
		{"showEstimatedWaitTime", "ShowEstimatedWaitTime", kindBool, layersAll, true},
		{"sessionId", "SessionID", kindString, layersAll, ""},
		{"customerName", "CustomerName", kindString, layersAll, ""},
		{"customerId", "CustomerID", kindString, layersAll, ""},
		{"customerEmail", "CustomerEmail", kindString, layersAll, ""},
		{"customerPhone", "CustomerPhone", kindString, layersAll, ""},
		{"initialMessage", "InitialMessage", kindString, layersAll, ""},
		{"tenant", "TenantID", kindInt, layersNoPage, -1},
		{"group", "ServiceGroupID / ServiceGroupName", kindString, layersAll, ""},
		{"groups", "", kindList, layersAll, []string{}},
		{"agent", "", kindInt, layersAll, 0},
		{"privateData", "PrivateData", kindString, layersNoPage, ""},
		{"hideAgentName", "HideAgentName", kindBool, layersNoPage, false},
		{"showPostChat", "ShowPostChat", kindBool, layersAll, true},
		{"timeoutAfterConversation", "TimeoutAfterConversation", kindInt, layersNoPage, 0},
		{"position", "ToolboxPosition", kindPosition, layersAll, "bottom-right"},
		{"idleTimeout", "IdleTimeout", kindInt, layersNoPage, 300},
		{"idleWarning", "WarningBeforeIdleTimeout", kindInt, layersNoPage, 60},
		{"movable", "AllowMovingChatCard", kindBool, layersAll, true},
		{"initialMessageToAgent", "InitialMessageToAgent", kindString, layersNoPage, ""},
		{"postedMessageAllowedOrigin", "PostedMessageAllowedOrigin", kindOrigin, layersNoPage, ""},
		{"maxMessageLength", "MaxMessageLength", kindInt, layersNoPage, 0},
		{"maxAttachmentKB", "MaxAttachmentSize", kindInt, layersNoPage, -1},
		{"allowedAttachmentTypes", "AllowedAttachmentTypes", kindList, layersNoPage, []string{}},
		{"restrictedAttachmentTypes", "RestrictedAttachmentTypes", kindList, layersNoPage, []string{}},
		{"title", "", kindString, layersAll, ""},
		{"logo", "", kindString, layersNoPage, ""},
		{"lang", "", kindString, layersAll, ""},
		{"headerBackground", "", kindColor, layersAll, "#4f46e5"},
		{"headerText", "", kindColor, layersAll, "#ffffff"},
		{"headerTextInactive", "", kindColor, layersAll, ""},
		{"highlight", "", kindColor, layersAll, "#4f46e5"},
		{"onlineColor", "", kindColor, layersAll, "#16a34a"},
		{"offlineColor", "", kindColor, layersAll, "#6b7280"},
		{"prechatName", "", kindField, layersAll, "required"},
		{"prechatEmail", "", kindField, layersAll, "optional"},
		{"prechatPhone", "", kindField, layersAll, "off"},
		{"prechatQuestion", "", kindField, layersAll, "required"},
		{"offlineForm", "", kindBool, layersAll, true},
		{"rating", "", kindBool, layersAll, true},
		{"transcript", "", kindBool, layersAll, true},
		{"audioCalls", "", kindBool, layersAll, false},
		{"videoCalls", "", kindBool, layersAll, false},
		{"call", "", kindCall, layersAll, ""},
	}
}

// widgetConfig is a resolved configuration: key → typed value.
type widgetConfig map[string]any

func (c widgetConfig) str(k string) string { s, _ := c[k].(string); return s }

func (c widgetConfig) int(k string) int64 {
	if n, ok := c[k].(int64); ok {
		return n
	}
	return 0
}

// configProblem reports a value that a layer set and that was ignored.
type configProblem struct {
	Layer   string `json:"layer"`
	Key     string `json:"key"`
	Message string `json:"message"`
}

// normKey folds the spellings of a key: HTML attributes are lower case
// and may use dashes (hide-agent-name), JSON uses camelCase.
func normKey(k string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(k))
}

// resolveWidgetConfig merges the layers, weakest first: defaults, the
// server's config.json, the host's config.json, the attributes and the
// page's GET parameters. A value a layer may not set, an unknown key or
// a malformed value is ignored and reported; it never fails the widget.
func resolveWidgetConfig(server, file, attrs, params map[string]any) (widgetConfig, []configProblem) {
	keys := widgetKeys()
	byNorm := make(map[string]*widgetKey, len(keys))
	cfg := widgetConfig{}
	for i := range keys {
		k := &keys[i]
		byNorm[normKey(k.name)] = k
		cfg[k.name] = k.def
	}
	cfg["tenant"] = int64(-1)
	for _, n := range []string{"agent", "statePollInterval", "timeoutAfterConversation", "idleTimeout", "idleWarning", "maxMessageLength", "maxAttachmentKB"} {
		cfg[n] = int64(cfg[n].(int))
	}
	for alias, name := range estosColors {
		byNorm[normKey(alias)] = byNorm[normKey(name)]
	}
	var problems []configProblem
	apply := func(layer int, layerName string, m map[string]any) {
		if layer == layerServer || layer == layerFile {
			var ps []configProblem
			m, ps = flattenEstos(layerName, m)
			problems = append(problems, ps...)
		}
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			k, ok := byNorm[normKey(n)]
			if !ok {
				// Host pages carry other attributes (id, class, style).
				if layer != layerAttr {
					problems = append(problems, configProblem{layerName, n, "unknown key"})
				}
				continue
			}
			if k.layers&layer == 0 {
				problems = append(problems, configProblem{layerName, k.name, "this key cannot be set here"})
				continue
			}
			v, err := convertWidgetValue(k, m[n], layer == layerAttr || layer == layerParam)
			if err != nil {
				problems = append(problems, configProblem{layerName, k.name, err.Error()})
				continue
			}
			cfg[k.name] = v
		}
	}
	apply(layerServer, "server", server)
	apply(layerFile, "file", file)
	apply(layerAttr, "attribute", attrs)
	apply(layerParam, "parameter", params)
	if w := cfg.int("idleWarning"); w >= cfg.int("idleTimeout") {
		cfg["idleWarning"] = int64(0)
	}
	return cfg, problems
}

// estosColors maps the color names of estos LiveChat's config.json
// ("colors": {...}) to widget keys; the flat names are aliases too.
var estosColors = map[string]string{
	"headerBackground":   "headerBackground",
	"headerFontActive":   "headerText",
	"headerFontInactive": "headerTextInactive",
	"highlight":          "highlight",
}

// flattenEstos reads a config.json written for estos LiveChat: the colors
// object becomes the widget's color keys, and "lib" (how estos reaches its
// UCServer) means nothing to Parley and is reported as ignored. A flat key
// set beside the colors object wins.
func flattenEstos(layerName string, m map[string]any) (map[string]any, []configProblem) {
	_, hasColors := m["colors"]
	_, hasLib := m["lib"]
	if !hasColors && !hasLib {
		return m, nil
	}
	var problems []configProblem
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != "colors" && k != "lib" {
			out[k] = v
		}
	}
	if hasLib {
		problems = append(problems, configProblem{layerName, "lib", "estos connection settings; Parley ignores them"})
	}
	if hasColors {
		colors, ok := m["colors"].(map[string]any)
		if !ok {
			return out, append(problems, configProblem{layerName, "colors", "must be an object"})
		}
		for k, v := range colors {
			name, known := estosColors[k]
			if !known {
				name = "colors." + k // reported as an unknown key
			}
			if _, set := out[name]; !set {
				out[name] = v
			}
		}
	}
	return out, problems
}

var colorPattern = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// convertWidgetValue checks and converts one value. Attributes and GET
// parameters are strings; JSON files carry typed values.
func convertWidgetValue(k *widgetKey, v any, fromText bool) (any, error) {
	s, isString := v.(string)
	switch k.kind {
	case kindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if isString && fromText {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true", "1", "yes", "":
				return true, nil
			case "false", "0", "no":
				return false, nil
			}
		}
		return nil, fmt.Errorf("must be true or false")
	case kindInt:
		var n float64
		switch x := v.(type) {
		case float64:
			n = x
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil || !fromText {
				return nil, fmt.Errorf("must be a whole number")
			}
			n = f
		default:
			return nil, fmt.Errorf("must be a whole number")
		}
		if n != math.Trunc(n) || math.Abs(n) > 1e9 {
			return nil, fmt.Errorf("must be a whole number")
		}
		return int64(n), nil
	case kindList:
		var out []string
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				switch y := e.(type) {
				case string:
					out = append(out, y)
				case float64:
					out = append(out, strconv.FormatFloat(y, 'f', -1, 64))
				default:
					return nil, fmt.Errorf("must be a list of strings")
				}
			}
		case string:
			t := strings.TrimSpace(x)
			if strings.HasPrefix(t, "[") {
				if err := json.Unmarshal([]byte(t), &out); err != nil {
					var nums []any
					if json.Unmarshal([]byte(t), &nums) != nil {
						return nil, fmt.Errorf("must be a JSON array of strings")
					}
					return convertWidgetValue(k, nums, false)
				}
			} else if t != "" {
				for _, p := range strings.Split(t, ",") {
					out = append(out, strings.TrimSpace(p))
				}
			}
		default:
			return nil, fmt.Errorf("must be a list of strings")
		}
		if out == nil {
			out = []string{}
		}
		if len(out) > 50 {
			return nil, fmt.Errorf("holds more than 50 entries")
		}
		return out, nil
	}
	if !isString {
		if n, ok := v.(float64); ok && k.kind == kindString {
			return strconv.FormatFloat(n, 'f', -1, 64), nil
		}
		return nil, fmt.Errorf("must be a string")
	}
	if len(s) > 4000 {
		return nil, fmt.Errorf("is longer than 4000 bytes")
	}
	switch k.kind {
	case kindPosition:
		if !slices.Contains(positions, s) {
			return nil, fmt.Errorf("must be one of %s", strings.Join(positions, ", "))
		}
	case kindColor:
		if !colorPattern.MatchString(s) {
			return nil, fmt.Errorf("must be a hex color such as #4f46e5")
		}
	case kindField:
		if s != "required" && s != "optional" && s != "off" {
			return nil, fmt.Errorf("must be required, optional or off")
		}
	case kindCall:
		if s != "" && s != "audio" && s != "video" {
			return nil, fmt.Errorf("must be audio or video")
		}
	case kindOrigin:
		if s != "" && s != "*" && !originPattern.MatchString(s) {
			return nil, fmt.Errorf("must be an origin such as https://www.example.com")
		}
	}
	return s, nil
}

var originPattern = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?$`)
