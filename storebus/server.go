package storebus

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// Server answers an edge's store requests on a core node.
type Server struct {
	conn    *nats.Conn
	prefix  string // the bus prefix with its dot, or ""
	log     *slog.Logger
	methods map[string]reflect.Value
	sem     chan struct{}
	wg      sync.WaitGroup
	sub     *nats.Subscription
}

// Serve answers requests on conn under prefix (the bus prefix with its
// trailing dot, as natsbus.Bus.Subject gives it) until Close, with store
// and the attachments under files. store must have every method of the
// allow-list (postgres.Store has: the records, the webhook and integration
// records, and LeaseState, a read of the routing lease). Requests are shared with the other
// core nodes (a queue group), and at most 64 are served at once.
func Serve(conn *nats.Conn, prefix string, store any, files conversation.DirFiles, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{conn: conn, prefix: prefix, log: log, methods: map[string]reflect.Value{}, sem: make(chan struct{}, 64)}
	sv := reflect.ValueOf(store)
	for _, name := range append(storeMethods, "Events", "LeaseState") {
		m := sv.MethodByName(name)
		if !m.IsValid() {
			return nil, fmt.Errorf("storebus: the store has no method %s", name)
		}
		s.methods[name] = m
	}
	fv := reflect.ValueOf(fileOps{files})
	for _, name := range fileMethods {
		s.methods[name] = fv.MethodByName(name)
	}
	sub, err := conn.QueueSubscribe(prefix+subjectStore+"*", queueGroup, s.handle)
	if err != nil {
		return nil, fmt.Errorf("storebus: subscribe: %w", err)
	}
	if err := conn.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("storebus: subscribe: %w", err)
	}
	s.sub = sub
	return s, nil
}

// Close stops answering and waits for the requests being served.
func (s *Server) Close() error {
	err := s.sub.Unsubscribe()
	s.wg.Wait()
	return err
}

func (s *Server) handle(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	s.sem <- struct{}{}
	s.wg.Add(1)
	go func() {
		defer func() { <-s.sem; s.wg.Done() }()
		name := strings.TrimPrefix(m.Subject, s.prefix+subjectStore)
		out := s.call(name, m.Data)
		if err := s.respond(m.Reply, out); err != nil {
			s.log.Warn("storebus: reply", "method", name, "err", err)
		}
	}()
}

// respond sends data in parts of at most partSize; the first part says
// how many there are. One connection publishes them in order, and NATS
// keeps that order to the subscriber.
func (s *Server) respond(to string, data []byte) error {
	n := max(1, (len(data)+partSize-1)/partSize)
	for i := range n {
		msg := &nats.Msg{Subject: to, Data: data[i*partSize : min(len(data), (i+1)*partSize)]}
		if i == 0 {
			msg.Header = nats.Header{partsHeader: []string{strconv.Itoa(n)}}
		}
		if err := s.conn.PublishMsg(msg); err != nil {
			return err
		}
	}
	return nil
}

// call runs one request and returns the encoded reply.
func (s *Server) call(name string, data []byte) []byte {
	out, err := s.invoke(name, data)
	if err != nil {
		s.log.Warn("storebus: request", "method", name, "err", err)
		rep := reply{Err: toWire(err)}
		out, _ = encode(&rep, &rep.Nil, nil)
	}
	return out
}

// invoke decodes the arguments, calls the method and encodes its results;
// an error of the method itself travels in the reply, other errors (an
// unknown method, a malformed request) are returned.
func (s *Server) invoke(name string, data []byte) ([]byte, error) {
	m, ok := s.methods[name]
	if !ok {
		return nil, parley.Errorf(parley.EFORBIDDEN, "storebus: method %q is not served to edge nodes", name)
	}
	dec := gob.NewDecoder(bytes.NewReader(data))
	var req request
	if err := dec.Decode(&req); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "storebus: bad request: %v", err)
	}
	mt := m.Type()
	types := make([]reflect.Type, mt.NumIn()-1)
	for i := range types {
		types[i] = mt.In(i + 1)
	}
	args, err := decodeValues(dec, types, req.Nil)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "storebus: bad request: %v", err)
	}
	timeout := req.Timeout
	if timeout <= 0 || timeout > 2*defaultTimeout {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if req.Fenced {
		ctx = parley.WithFence(ctx, req.Fence)
	}
	res := m.Call(append([]reflect.Value{reflect.ValueOf(ctx)}, args...))
	var rep reply
	if e := res[len(res)-1]; !e.IsNil() {
		rep.Err = toWire(e.Interface().(error))
		return encode(&rep, &rep.Nil, nil)
	}
	vals := res[:len(res)-1]
	for i, t := range types {
		if echoed(t) {
			vals = append(vals, args[i])
		}
	}
	return encode(&rep, &rep.Nil, vals)
}
