package storebus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// Files keeps an edge node's attachments on the core nodes: uploads go
// in chunks of at most 512 KB, reads fetch the ranges asked for. It
// implements conversation.Files.
type Files struct{ c *Client }

var _ conversation.Files = Files{}

// Files returns the client's attachments store.
func (c *Client) Files() Files { return Files{c} }

// missing turns a core's ENOTFOUND into fs.ErrNotExist, as
// conversation.Files reports a missing file.
func missing(err error) error {
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return fmt.Errorf("%w: %v", fs.ErrNotExist, err)
	}
	return err
}

// Create starts an upload on the core nodes.
func (f Files) Create(ctx context.Context, chatID string) (conversation.Upload, error) {
	return &upload{ctx: ctx, c: f.c, chat: chatID, name: conversation.NewUploadName()}, nil
}

// Open returns a reader of a file on the core nodes.
func (f Files) Open(ctx context.Context, chatID, id string) (io.ReadSeekCloser, error) {
	var size int64
	if err := f.c.call(ctx, "FileSize", []any{chatID, id}, &size); err != nil {
		return nil, missing(err)
	}
	return &remoteFile{ctx: context.WithoutCancel(ctx), c: f.c, chat: chatID, id: id, size: size}, nil
}

// Stat reports whether a file is on the core nodes.
func (f Files) Stat(ctx context.Context, chatID, id string) error {
	var size int64
	return missing(f.c.call(ctx, "FileSize", []any{chatID, id}, &size))
}

// Remove deletes a file on the core nodes.
func (f Files) Remove(ctx context.Context, chatID, id string) error {
	return missing(f.c.call(ctx, "FileRemove", []any{chatID, id}))
}

// RemoveChats deletes the chats' files on the core nodes.
func (f Files) RemoveChats(ctx context.Context, chatIDs []string) (int, error) {
	var n int
	err := f.c.call(ctx, "FileRemoveChats", []any{chatIDs}, &n)
	return n, err
}

// upload buffers a chunk and sends it when full; Commit sends the rest
// and makes the file.
type upload struct {
	ctx  context.Context
	c    *Client
	chat string
	name string
	buf  []byte
	off  int64
	sent bool // a chunk reached the core: Abort must tell it
}

func (u *upload) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), partSize-len(u.buf))
		u.buf = append(u.buf, p[:k]...)
		p = p[k:]
		if len(u.buf) == partSize {
			if err := u.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (u *upload) flush() error {
	u.sent = true
	err := u.c.call(u.ctx, "FileWrite", []any{u.chat, u.name, u.off, u.buf})
	u.off += int64(len(u.buf))
	u.buf = u.buf[:0]
	return err
}

func (u *upload) Commit(id string) error {
	err := u.flush()
	if err == nil {
		err = u.c.call(u.ctx, "FileCommit", []any{u.chat, u.name, id})
	}
	if err != nil {
		u.Abort()
	}
	return err
}

func (u *upload) Abort() {
	if u.sent {
		_ = u.c.call(context.WithoutCancel(u.ctx), "FileAbort", []any{u.chat, u.name})
	}
}

// remoteFile reads a file on the core nodes by ranges.
type remoteFile struct {
	ctx  context.Context
	c    *Client
	chat string
	id   string
	size int64
	off  int64
}

func (r *remoteFile) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := min(len(p), partSize, int(r.size-r.off))
	var data []byte
	if err := r.c.call(r.ctx, "FileRead", []any{r.chat, r.id, r.off, n}, &data); err != nil {
		return 0, missing(err)
	}
	if len(data) == 0 {
		return 0, io.ErrUnexpectedEOF // the file shrank
	}
	copy(p, data)
	r.off += int64(len(data))
	return len(data), nil
}

func (r *remoteFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("storebus: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("storebus: seek before the start")
	}
	r.off = offset
	return offset, nil
}

func (r *remoteFile) Close() error { return nil }
