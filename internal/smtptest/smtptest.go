// Package smtptest runs a minimal SMTP server over TCP for tests: it
// speaks enough of RFC 5321 (EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP,
// QUIT) for a real client to deliver mail, and keeps what it receives.
package smtptest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one delivered mail.
type Message struct {
	From string
	To   []string
	// Data is the message as received, headers and body, CRLF line ends.
	Data []byte
}

// Parse returns the message's headers and body.
func (m Message) Parse() (*mail.Message, error) {
	return mail.ReadMessage(bytes.NewReader(m.Data))
}

// Parts returns the decoded text of each part of the message by media
// type (text/plain, text/html), following multipart bodies and undoing
// quoted-printable and base64 transfer encodings.
func (m Message) Parts() (map[string]string, error) {
	msg, err := m.Parse()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	err = collectParts(textproto.MIMEHeader(msg.Header), msg.Body, out)
	return out, err
}

func collectParts(h textproto.MIMEHeader, body io.Reader, out map[string]string) error {
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := collectParts(p.Header, p, out); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	out[mt] += string(data)
	return nil
}

// Server is a running SMTP server.
type Server struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	msgs []Message
	// conns counts the SMTP sessions opened, delivered or not.
	conns int
}

// Start listens on a free local port; the server stops when the test
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Listen starts a server on addr (host:port).
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr returns host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server and waits for its sessions.
func (s *Server) Close() {
	s.ln.Close()
	s.wg.Wait()
}

// Messages returns the mail delivered so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Sessions returns how many SMTP sessions clients opened.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// WaitFor polls until at least n messages arrived or timeout passes, and
// returns the messages.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if msgs := s.Messages(); len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtptest: %d messages after %v; want %d", len(s.Messages()), timeout, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) serve() {
	defer s.wg.Done()
	var sessions sync.WaitGroup
	defer sessions.Wait()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		sessions.Add(1)
		go func() {
			defer sessions.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			s.session(textproto.NewConn(c))
		}()
	}
}

// session runs one SMTP conversation.
func (s *Server) session(c *textproto.Conn) {
	reply := func(code int, msg string) bool { return c.PrintfLine("%d %s", code, msg) == nil }
	if !reply(220, "smtptest ESMTP ready") {
		return
	}
	var from string
	var to []string
	for {
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			if c.PrintfLine("250-smtptest greets %s", arg) != nil || c.PrintfLine("250-8BITMIME") != nil ||
				!reply(250, "HELP") {
				return
			}
		case "HELO":
			reply(250, "smtptest")
		case "MAIL":
			a, ok := address(arg, "FROM:")
			if !ok {
				reply(501, "syntax: MAIL FROM:<address>")
				continue
			}
			from, to = a, nil
			reply(250, "OK")
		case "RCPT":
			a, ok := address(arg, "TO:")
			if !ok || from == "" {
				reply(503, "need MAIL before RCPT")
				continue
			}
			to = append(to, a)
			reply(250, "OK")
		case "DATA":
			if len(to) == 0 {
				reply(503, "need RCPT before DATA")
				continue
			}
			if !reply(354, "end data with <CR><LF>.<CR><LF>") {
				return
			}
			data, err := io.ReadAll(c.DotReader())
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, Message{From: from, To: to, Data: bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))})
			s.mu.Unlock()
			from, to = "", nil
			reply(250, "OK: queued")
		case "RSET":
			from, to = "", nil
			reply(250, "OK")
		case "NOOP":
			reply(250, "OK")
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(502, "command not implemented")
		}
	}
}

// address parses "FROM:<a@b> SIZE=…" style arguments.
func address(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}
