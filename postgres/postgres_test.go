package postgres_test

import (
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/pgtest"
	"github.com/parleychat/parley/postgres"
	"github.com/parleychat/parley/storetest"
)

// open opens a store on a new schema of the test database.
func open(t testing.TB, opts postgres.Options) *postgres.Store {
	t.Helper()
	url := pgtest.URL(t)
	s, err := postgres.Open(t.Context(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store {
		return open(t, postgres.Options{})
	})
}
