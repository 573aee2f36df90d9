// Package storebus carries the store over NATS, for the cluster's edge
// nodes (parley serve --role edge), which hold no database connection. A
// core node runs a Server: it answers request/reply on
// <prefix>.store.<Method> with its real store and its attachments'
// directory. An edge node uses a Client, which implements the store
// interfaces the service needs (parley.Store, webhook.Store,
// conversation.IntegrationStore) and conversation.Files by asking a
// core.
//
// The server answers only the methods of an allow-list (storeMethods and
// the file operations); the outbox's and the webhook sender's methods are
// not on it, since an edge runs neither. Values travel as gob, which
// keeps every exported field (a session's token hash, an agent's password
// hash: the store's whole records, not their API views). Errors keep
// their parley.Error code and message. Requests carry the caller's
// deadline and its routing fence. A reply is sent after the store call
// returned, so an append an edge acknowledges was committed. Replies
// larger than a NATS message go in parts of at most 512 KB; event logs
// are read in pages of 500.
package storebus

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/parleychat/parley"
)

//go:generate go run ./internal/gen .. client_gen.go

const (
	// subjectStore starts the subject of every request: store.<Method>.
	subjectStore = "store."
	// queueGroup shares the requests among the core nodes.
	queueGroup = "parley-store"
	// partSize is the most a reply message carries; a larger reply is
	// sent in several.
	partSize = 512 << 10
	// partsHeader, on a reply's first message, says how many it has.
	partsHeader = "Parley-Parts"
	// eventsPage is how many events one request reads.
	eventsPage = 500
	// defaultTimeout bounds a request whose context has no deadline.
	defaultTimeout = 30 * time.Second
)

// request is what precedes a request's arguments.
type request struct {
	// Timeout is what was left of the caller's deadline (a duration, so
	// that the nodes' clocks do not matter).
	Timeout time.Duration
	// Fence is the caller's routing epoch (parley.WithFence), if Fenced.
	Fence  int64
	Fenced bool
	// Nil marks the arguments sent as nil (not encoded).
	Nil []bool
}

// reply is what precedes a reply's values: the method's results but the
// error, then the pointer-to-struct arguments as the store left them
// (a create sets the record's ID and times).
type reply struct {
	Err *wireError
	Nil []bool
}

// wireError is an error on the wire: a parley.Error keeps its code,
// message and field; any other error has no code.
type wireError struct {
	Code, Message, Field string
}

func toWire(err error) *wireError {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return &wireError{Code: pe.Code, Message: pe.Message, Field: pe.Field}
	}
	return &wireError{Message: err.Error()}
}

func (w *wireError) err() error {
	if w.Code == "" {
		return fmt.Errorf("storebus: core node: %s", w.Message)
	}
	return &parley.Error{Code: w.Code, Message: w.Message, Field: w.Field}
}

// isNil reports whether v can be nil, and is.
func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// encode writes head (whose Nil it fills) and the non-nil values.
func encode(head any, nils *[]bool, vals []reflect.Value) ([]byte, error) {
	*nils = make([]bool, len(vals))
	for i, v := range vals {
		(*nils)[i] = isNil(v)
	}
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	if err := enc.Encode(head); err != nil {
		return nil, err
	}
	for i, v := range vals {
		if (*nils)[i] {
			continue
		}
		if err := enc.EncodeValue(v); err != nil {
			return nil, fmt.Errorf("encode %s: %w", v.Type(), err)
		}
	}
	return buf.Bytes(), nil
}

// decodeValues reads values of the types, nil where nils says so. An
// empty slice or map stays empty, not nil (nil often means "all").
func decodeValues(dec *gob.Decoder, types []reflect.Type, nils []bool) ([]reflect.Value, error) {
	if len(nils) != len(types) {
		return nil, fmt.Errorf("storebus: %d values, want %d", len(nils), len(types))
	}
	out := make([]reflect.Value, len(types))
	for i, t := range types {
		if nils[i] {
			out[i] = reflect.Zero(t)
			continue
		}
		p := reflect.New(t)
		if err := dec.DecodeValue(p); err != nil {
			return nil, fmt.Errorf("decode %s: %w", t, err)
		}
		v := p.Elem()
		emptyLists(v, 0)
		switch {
		case t.Kind() == reflect.Slice && v.IsNil():
			v = reflect.MakeSlice(t, 0, 0)
		case t.Kind() == reflect.Map && v.IsNil():
			v = reflect.MakeMap(t)
		case t.Kind() == reflect.Pointer && v.IsNil():
			v = reflect.New(t.Elem()) // a record with only zero fields
		}
		out[i] = v
	}
	return out, nil
}

// echoed reports whether an argument of type t is sent back with the
// reply: a pointer to a struct, which the store may fill in.
func echoed(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct
}

// copyExported sets the exported fields of dst (a *struct) from src.
func copyExported(dst, src reflect.Value) {
	d, s := dst.Elem(), src.Elem()
	for i := range d.NumField() {
		if d.Type().Field(i).IsExported() {
			d.Field(i).Set(s.Field(i))
		}
	}
}

// emptyLists makes the nil slices inside v (struct fields, elements)
// empty: gob sends an empty slice as nothing, and the stores return
// lists, never nil ones (storetest checks an archive page's). Top-level
// values keep their nil, which the request's Nil flags carry.
func emptyLists(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			emptyLists(v.Elem(), depth+1)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			f := v.Field(i)
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if f.Kind() == reflect.Slice && f.IsNil() && f.Type().Elem().Kind() != reflect.Uint8 {
				f.Set(reflect.MakeSlice(f.Type(), 0, 0))
				continue
			}
			emptyLists(f, depth+1)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			emptyLists(v.Index(i), depth+1)
		}
	case reflect.Map:
		if v.Type().Elem().Kind() == reflect.Pointer {
			for _, k := range v.MapKeys() {
				emptyLists(v.MapIndex(k), depth+1)
			}
		}
	}
}
