package conversation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files keeps the content of attachments, by chat and file ID. The
// default is a directory on this node (DirFiles, Config.FilesDir); an
// edge node, which keeps nothing, sends them to a core node instead
// (storebus.Files). Open, Stat and Remove report a missing file with an
// error that matches fs.ErrNotExist.
type Files interface {
	// Create starts a new file of the chat.
	Create(ctx context.Context, chatID string) (Upload, error)
	// Open returns a file's content.
	Open(ctx context.Context, chatID, id string) (io.ReadSeekCloser, error)
	// Stat reports whether a file is there (nil) or not (fs.ErrNotExist).
	Stat(ctx context.Context, chatID, id string) error
	// Remove deletes a file.
	Remove(ctx context.Context, chatID, id string) error
	// RemoveChats deletes every file of the chats and returns how many
	// there were.
	RemoveChats(ctx context.Context, chatIDs []string) (int, error)
}

// Upload is a file being written. Nothing of it can be opened before
// Commit, which makes it durable under its ID; Abort drops it.
type Upload interface {
	io.Writer
	Commit(id string) error
	Abort()
}

// DirFiles keeps attachments under a directory of this node:
// <dir>/<chat ID>/<file ID>.
type DirFiles struct{ Dir string }

// Create starts an upload: a temporary file in the chat's directory.
func (d DirFiles) Create(_ context.Context, chatID string) (Upload, error) {
	if !validChatDir(chatID) {
		return nil, errors.New("files: bad chat ID")
	}
	dir := filepath.Join(d.Dir, chatID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return nil, err
	}
	return &dirUpload{f: f, dir: dir}, nil
}

// OpenUpload reopens a temporary upload by name (".upload-…") to write at
// an offset: how a core node receives an edge's file in chunks. Any core
// with the same directory (a shared file system) may take any chunk.
func (d DirFiles) OpenUpload(chatID, name string) (*os.File, error) {
	if !validChatDir(chatID) || !validUploadName(name) {
		return nil, errors.New("files: bad chat or upload name")
	}
	dir := filepath.Join(d.Dir, chatID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY, 0o640)
}

// CommitUpload makes a temporary upload the file id.
func (d DirFiles) CommitUpload(chatID, name, id string) error {
	if !validChatDir(chatID) || !validUploadName(name) || !validFileName(id) {
		return errors.New("files: bad chat, upload or file name")
	}
	dir := filepath.Join(d.Dir, chatID)
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(filepath.Join(dir, name), filepath.Join(dir, id))
}

// AbortUpload removes a temporary upload.
func (d DirFiles) AbortUpload(chatID, name string) error {
	if !validChatDir(chatID) || !validUploadName(name) {
		return errors.New("files: bad chat or upload name")
	}
	err := os.Remove(filepath.Join(d.Dir, chatID, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// NewUploadName returns a fresh name for a temporary upload.
func NewUploadName() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return ".upload-" + hex.EncodeToString(b)
}

func validUploadName(name string) bool {
	return strings.HasPrefix(name, ".upload-") && validFileName(name)
}

// validFileName keeps a name to one entry of a chat's directory.
func validFileName(name string) bool {
	return name != "" && len(name) <= 100 && validChatDir(name)
}

func (d DirFiles) path(chatID, id string) (string, error) {
	if !validChatDir(chatID) || !validFileName(id) {
		return "", fs.ErrNotExist
	}
	return filepath.Join(d.Dir, chatID, id), nil
}

// Open opens a stored file.
func (d DirFiles) Open(_ context.Context, chatID, id string) (io.ReadSeekCloser, error) {
	p, err := d.path(chatID, id)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Stat reports whether a file is there.
func (d DirFiles) Stat(_ context.Context, chatID, id string) error {
	p, err := d.path(chatID, id)
	if err != nil {
		return err
	}
	_, err = os.Stat(p)
	return err
}

// Remove deletes a file.
func (d DirFiles) Remove(_ context.Context, chatID, id string) error {
	p, err := d.path(chatID, id)
	if err != nil {
		return err
	}
	return os.Remove(p)
}

// RemoveChats deletes the chats' directories.
func (d DirFiles) RemoveChats(_ context.Context, chatIDs []string) (int, error) {
	if d.Dir == "" {
		return 0, nil
	}
	n := 0
	var errs []error
	for _, id := range chatIDs {
		if !validChatDir(id) {
			continue
		}
		dir := filepath.Join(d.Dir, id)
		_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				n++
			}
			return nil
		})
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// dirUpload is an upload to a temporary file of DirFiles.
type dirUpload struct {
	f   *os.File
	dir string
}

func (u *dirUpload) Write(p []byte) (int, error) { return u.f.Write(p) }

func (u *dirUpload) Commit(id string) error {
	if !validFileName(id) {
		u.Abort()
		return errors.New("files: bad file ID")
	}
	if err := u.f.Sync(); err != nil {
		u.Abort()
		return err
	}
	if err := u.f.Close(); err != nil {
		os.Remove(u.f.Name())
		return err
	}
	if err := os.Rename(u.f.Name(), filepath.Join(u.dir, id)); err != nil {
		os.Remove(u.f.Name())
		return err
	}
	return nil
}

func (u *dirUpload) Abort() {
	u.f.Close()
	os.Remove(u.f.Name())
}
