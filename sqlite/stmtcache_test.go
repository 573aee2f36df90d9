package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// A query run again while rows of the same text are still open must not
// reset those rows: the second run gets its own statement.
func TestStmtCacheNestedQuery(t *testing.T) {
	ctx := context.Background()
	db := sql.OpenDB(newConnector(filepath.Join(t.TempDir(), "c.db")))
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE n (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := db.ExecContext(ctx, `INSERT INTO n (v) VALUES ($1)`, i); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT v FROM n WHERE v >= $1 ORDER BY v`
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	outer, err := tx.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var pairs int
	var seen []int
	for outer.Next() {
		var v int
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, v)
		inner, err := tx.QueryContext(ctx, q, v)
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			pairs++
		}
		if err := inner.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	// 1 → 1,2,3; 2 → 2,3; 3 → 3.
	if len(seen) != 3 || pairs != 6 {
		t.Fatalf("outer rows %v, inner rows %d; want [1 2 3] and 6", seen, pairs)
	}
	// The cached statement is reusable after its rows closed.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM n WHERE v >= $1`, 2).Scan(&n); err != nil || n != 2 {
		t.Fatalf("count %d, %v; want 2", n, err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM n WHERE v >= $1`, 1).Scan(&n); err != nil || n != 3 {
		t.Fatalf("count %d, %v; want 3", n, err)
	}
}
