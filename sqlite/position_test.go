package sqlite

import (
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkPosition is what a MiCC GetEvents call adds: one read of the
// chat's position, and the upsert of a response that moved it.
func BenchmarkPosition(b *testing.B) {
	s := newTestChats(b, filepath.Join(b.TempDir(), "p.db"), Options{}, 200)
	b.Run("read", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := s.ReadPosition(b.Context(), "chat-"+strconv.Itoa(i%200), "micc"); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("save", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if err := s.SavePosition(b.Context(), "chat-"+strconv.Itoa(i%200), "micc", int64(i+1)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
