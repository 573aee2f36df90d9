// Package turncred issues and checks TURN credentials of the TURN REST API
// scheme: the user name is "<expiry>:<user>" (expiry in Unix seconds) and
// the password the base64 of HMAC-SHA1 over the user name with a secret
// shared between Parley and the TURN server. Any TURN server that supports
// the scheme (Parley's own, coturn's use-auth-secret) accepts them.
package turncred

import (
	"crypto/hmac"
	"crypto/sha1" // the scheme is defined on SHA-1; the secret, not the hash, carries the strength
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Issue returns the user name and password for user, valid until expiry.
func Issue(secret, user string, expiry time.Time) (username, password string) {
	username = strconv.FormatInt(expiry.Unix(), 10) + ":" + user
	return username, Password(secret, username)
}

// Password returns the password of a user name under secret.
func Password(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Errors of Parse.
var (
	ErrMalformed = errors.New("turncred: the user name is not <expiry>:<user>")
	ErrExpired   = errors.New("turncred: the credentials have expired")
)

// Parse splits a user name into its expiry and user, and checks that it
// has not expired at now. It cannot check the password: a TURN server
// proves that the client knows it (MESSAGE-INTEGRITY) with Password's
// result.
func Parse(username string, now time.Time) (user string, expiry time.Time, err error) {
	ts, user, ok := strings.Cut(username, ":")
	if !ok || user == "" || len(username) > 256 {
		return "", time.Time{}, ErrMalformed
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 {
		return "", time.Time{}, ErrMalformed
	}
	expiry = time.Unix(sec, 0)
	if !now.Before(expiry) {
		return "", time.Time{}, ErrExpired
	}
	return user, expiry, nil
}
