package rocketchat

import (
	"net/url"
	"slices"
	"strings"
)

func sortStrings(s []string) { slices.Sort(s) }

// sameHost reports whether an Origin header names the request's host.
func sameHost(o, host string) bool {
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, host)
}
