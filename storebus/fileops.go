package storebus

import (
	"context"
	"errors"
	"io"
	"io/fs"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/conversation"
)

// fileMethods are the file operations a core node answers.
var fileMethods = []string{"FileWrite", "FileCommit", "FileAbort", "FileSize", "FileRead", "FileRemove", "FileRemoveChats"}

// fileOps serves an edge's attachments from the core's files directory.
// Uploads arrive in chunks written at their offsets into a temporary
// file, so any core sharing the directory can take any chunk.
type fileOps struct{ files conversation.DirFiles }

func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return parley.Errorf(parley.ENOTFOUND, "file not found")
	}
	return err
}

// FileWrite writes a chunk of an upload at offset.
func (o fileOps) FileWrite(_ context.Context, chatID, upload string, offset int64, data []byte) error {
	if len(data) > partSize || offset < 0 {
		return parley.Errorf(parley.EINVALID, "bad file chunk")
	}
	f, err := o.files.OpenUpload(chatID, upload)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(data, offset); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// FileCommit makes an upload the file id, durably.
func (o fileOps) FileCommit(_ context.Context, chatID, upload, id string) error {
	return notFound(o.files.CommitUpload(chatID, upload, id))
}

// FileAbort drops an upload.
func (o fileOps) FileAbort(_ context.Context, chatID, upload string) error {
	return o.files.AbortUpload(chatID, upload)
}

// FileSize returns a file's size.
func (o fileOps) FileSize(ctx context.Context, chatID, id string) (int64, error) {
	f, err := o.files.Open(ctx, chatID, id)
	if err != nil {
		return 0, notFound(err)
	}
	defer f.Close()
	return f.Seek(0, io.SeekEnd)
}

// FileRead reads up to n bytes of a file at offset.
func (o fileOps) FileRead(ctx context.Context, chatID, id string, offset int64, n int) ([]byte, error) {
	if n <= 0 || n > partSize || offset < 0 {
		return nil, parley.Errorf(parley.EINVALID, "bad file read")
	}
	f, err := o.files.Open(ctx, chatID, id)
	if err != nil {
		return nil, notFound(err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	got, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return buf[:got], nil
}

// FileRemove deletes a file.
func (o fileOps) FileRemove(ctx context.Context, chatID, id string) error {
	return notFound(o.files.Remove(ctx, chatID, id))
}

// FileRemoveChats deletes the chats' files and says how many there were.
func (o fileOps) FileRemoveChats(ctx context.Context, chatIDs []string) (int, error) {
	return o.files.RemoveChats(ctx, chatIDs)
}
