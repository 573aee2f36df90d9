package postgres_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/postgres"
)

// BenchmarkPosition is what a MiCC GetEvents call adds: one read of the
// chat's position, and the upsert of a response that moved it.
func BenchmarkPosition(b *testing.B) {
	s := open(b, postgres.Options{})
	ctx := b.Context()
	g := &parley.Group{TenantID: parley.DefaultTenantID, Name: "Support"}
	v := &parley.Visitor{ID: "v", TenantID: parley.DefaultTenantID, Name: "V"}
	if err := s.CreateGroup(ctx, g); err != nil {
		b.Fatal(err)
	}
	if err := s.CreateVisitor(ctx, v); err != nil {
		b.Fatal(err)
	}
	for i := range 200 {
		c := &parley.Chat{ID: fmt.Sprintf("chat-%d", i), TenantID: parley.DefaultTenantID, GroupID: g.ID, VisitorID: v.ID}
		if _, err := s.CreateChat(ctx, c, nil); err != nil {
			b.Fatal(err)
		}
	}
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
