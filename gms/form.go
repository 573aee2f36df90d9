package gms

import (
	"errors"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// Limits of a request's form.
const (
	maxForm          = 64 << 10 // a form-encoded body
	maxUserData      = 50       // userData[…] entries per request
	maxUserDataKey   = 100      // characters of a userData key
	maxUserDataValue = 4000     // characters of a userData value
	multipartMemory  = 1 << 20  // multipart parts kept in memory; the rest goes to a temporary file
)

// form is a decoded request: its parameters, its userData[…] entries and,
// for an upload, its file.
type form struct {
	values   url.Values
	userData map[string]string
	file     *multipart.FileHeader
	mp       *multipart.Form
}

// get returns the first value of a parameter.
func (f *form) get(name string) string { return f.values.Get(name) }

// has reports whether the parameter was sent.
func (f *form) has(name string) bool { _, ok := f.values[name]; return ok }

// close removes a multipart form's temporary files.
func (f *form) close() {
	if f.mp != nil {
		_ = f.mp.RemoveAll()
	}
}

// readForm decodes a POST body: application/x-www-form-urlencoded, or
// multipart/form-data (whose file part, named "file", is kept when
// fileLimit > 0). Parameters in the query string count too. A body over
// its limit, a malformed body and invalid userData are refused.
func readForm(w http.ResponseWriter, r *http.Request, fileLimit int64) (*form, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return nil, parley.Errorf(parley.EINVALID, "the Content-Type is malformed")
	}
	f := &form{}
	switch ct {
	case "multipart/form-data":
		limit := int64(maxForm)
		if fileLimit > 0 {
			limit += fileLimit
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := r.ParseMultipartForm(multipartMemory); err != nil {
			if r.MultipartForm != nil {
				_ = r.MultipartForm.RemoveAll()
			}
			return nil, bodyError(err, "the multipart body is malformed")
		}
		f.mp = r.MultipartForm
		f.values = url.Values{}
		for k, v := range r.MultipartForm.Value {
			f.values[k] = v
		}
		for k, v := range r.URL.Query() {
			if _, ok := f.values[k]; !ok {
				f.values[k] = v
			}
		}
		if files := r.MultipartForm.File["file"]; len(files) > 0 {
			if fileLimit <= 0 {
				f.close()
				return nil, parley.Errorf(parley.EINVALID, "this operation takes no file")
			}
			f.file = files[0]
		}
	case "application/x-www-form-urlencoded", "":
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			return nil, bodyError(err, "the form is malformed")
		}
		f.values = r.Form
	default:
		return nil, parley.Errorf(parley.EINVALID, "the body must be form-encoded or multipart/form-data")
	}
	if err := f.decode(); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

func bodyError(err error, msg string) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return parley.Errorf(parley.ETOOLARGE, "the body is larger than %d bytes", tooBig.Limit)
	}
	return parley.Errorf(parley.EINVALID, "%s", msg)
}

// decode checks every parameter and collects userData[…].
func (f *form) decode() error {
	f.userData = map[string]string{}
	for k, vs := range f.values {
		if !utf8.ValidString(k) {
			return parley.Errorf(parley.EINVALID, "a parameter name is not valid UTF-8")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return parley.Errorf(parley.EINVALID, "parameter %q is not valid UTF-8", clip(k))
			}
		}
		key, ok := userDataKey(k)
		if !ok || len(vs) == 0 {
			continue
		}
		if len(f.userData) == maxUserData {
			return parley.Errorf(parley.EINVALID, "at most %d userData entries are allowed", maxUserData)
		}
		if err := checkUserData(key, vs[0]); err != nil {
			return err
		}
		f.userData[key] = vs[0]
	}
	return nil
}

// userDataKey returns k's key when k is userData[key].
func userDataKey(k string) (string, bool) {
	key, ok := strings.CutPrefix(k, "userData[")
	if !ok || !strings.HasSuffix(key, "]") {
		return "", false
	}
	return key[:len(key)-1], true
}

func checkUserData(key, value string) error {
	switch {
	case strings.TrimSpace(key) == "" || utf8.RuneCountInString(key) > maxUserDataKey:
		return parley.Errorf(parley.EINVALID, "a userData key must have 1 to %d characters", maxUserDataKey)
	case strings.ContainsAny(key, ":\n"):
		return parley.Errorf(parley.EINVALID, "a userData key must not contain ':'")
	case utf8.RuneCountInString(value) > maxUserDataValue:
		return parley.Errorf(parley.EINVALID, "userData[%s] is longer than %d characters", clip(key), maxUserDataValue)
	}
	if err := parley.CheckChars("a userData key", key, false); err != nil {
		return err
	}
	return parley.CheckChars("userData["+clip(key)+"]", value, false)
}

// clip shortens a client's string for an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}

// encodeUserData renders userData as the visitor's private data: one
// "key: value" line each, in the order given.
func encodeUserData(keys []string, data map[string]string) string {
	var b strings.Builder
	for _, k := range keys {
		v, ok := data[k]
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v)
	}
	return b.String()
}

// decodeUserData reads private data written by encodeUserData back,
// with the keys in their order.
func decodeUserData(s string) ([]string, map[string]string) {
	keys, data := []string{}, map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || k == "" {
			continue
		}
		if _, dup := data[k]; !dup {
			keys = append(keys, k)
		}
		data[k] = v
	}
	return keys, data
}
