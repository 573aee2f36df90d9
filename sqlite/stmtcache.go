package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"modernc.org/sqlite"
)

// maxCachedStmts bounds the prepared statements one connection keeps;
// the store's queries are a fixed set, so the bound is never reached in
// practice.
const maxCachedStmts = 256

// stmtCacheConnector opens connections that keep their prepared
// statements. Without it every query is parsed and planned again, which
// cost a third of the CPU of sending a message.
type stmtCacheConnector struct {
	dsn string
	drv *sqlite.Driver
}

func newConnector(dsn string) *stmtCacheConnector {
	return &stmtCacheConnector{dsn: dsn, drv: &sqlite.Driver{}}
}

func (c *stmtCacheConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(stmtConn)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite: the driver's connection lacks the context methods")
	}
	cc := &cachingConn{stmtConn: inner, stmts: map[string]*cachedStmt{}, work: make(chan func())}
	go cc.serve()
	return cc, nil
}

func (c *stmtCacheConnector) Driver() driver.Driver { return c.drv }

// stmtConn is what the store needs of a driver connection.
type stmtConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn runs queries through statements prepared once per
// connection. database/sql uses a connection from one goroutine at a
// time, so the cache needs no lock.
//
// Every call into SQLite runs on the connection's own goroutine. The
// transpiled SQLite code needs tens of kilobytes of stack, and a goroutine
// keeps a grown stack while it is parked: run on the caller's goroutine,
// every WebSocket session that once read the store kept such a stack for
// its whole life.
type cachingConn struct {
	stmtConn
	stmts map[string]*cachedStmt
	work  chan func()
}

// serve runs the connection's calls until Close.
func (c *cachingConn) serve() {
	for f := range c.work {
		f()
	}
}

// inlineKey marks a context whose calls run SQLite on the caller's own
// goroutine instead: the group-commit writer's. It is one long-lived
// goroutine, so its grown stack is paid once, while a hop to the
// connection's goroutine and back for every statement, row and commit of
// a batch would make each wait for the scheduler twice.
type inlineKey struct{}

// inline returns ctx marked for calls on the caller's goroutine.
func inline(ctx context.Context) context.Context { return context.WithValue(ctx, inlineKey{}, true) }

func isInline(ctx context.Context) bool { v, _ := ctx.Value(inlineKey{}).(bool); return v }

// run runs f on the caller's goroutine when inline is set, else on the
// connection's.
func (c *cachingConn) run(inline bool, f func()) {
	if inline {
		f()
		return
	}
	c.do(f)
}

// do runs f on the connection's goroutine and waits for it; a panic in f
// goes on in the caller.
func (c *cachingConn) do(f func()) {
	done := make(chan any, 1)
	c.work <- func() {
		defer func() { done <- recover() }()
		f()
	}
	if p := <-done; p != nil {
		panic(p)
	}
}

type cachedStmt struct {
	stmt driver.Stmt
	busy bool // rows of it are open: SQLite cannot run it again meanwhile
}

// stmt returns the cached statement of query, preparing it on first use,
// or nil when the query must run uncached (a script, rows of the same
// statement still open, a full cache).
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	if len(c.stmts) >= maxCachedStmts || strings.Contains(query, ";") {
		return nil, nil
	}
	st, err := c.stmtConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{stmt: st}
	c.stmts[query] = cs
	return cs, nil
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (rows driver.Rows, err error) {
	in := isInline(ctx)
	c.run(in, func() {
		var cs *cachedStmt
		if cs, err = c.stmt(ctx, query); err != nil {
			return
		}
		if cs == nil {
			if rows, err = c.stmtConn.QueryContext(ctx, query, args); err == nil {
				rows = &connRows{Rows: rows, c: c, inline: in}
			}
			return
		}
		if rows, err = cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args); err == nil {
			cs.busy = true
			rows = &connRows{Rows: rows, c: c, cs: cs, inline: in}
		}
	})
	return rows, err
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (res driver.Result, err error) {
	c.run(isInline(ctx), func() {
		var cs *cachedStmt
		if cs, err = c.stmt(ctx, query); err != nil {
			return
		}
		if cs == nil {
			res, err = c.stmtConn.ExecContext(ctx, query, args)
			return
		}
		res, err = cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	})
	return res, err
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (st driver.Stmt, err error) {
	c.do(func() { st, err = c.stmtConn.PrepareContext(ctx, query) })
	return st, err
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (tx driver.Tx, err error) {
	in := isInline(ctx)
	c.run(in, func() { tx, err = c.stmtConn.BeginTx(ctx, opts) })
	if err != nil {
		return nil, err
	}
	return &connTx{tx: tx, c: c, inline: in}, nil
}

func (c *cachingConn) Ping(ctx context.Context) (err error) {
	c.do(func() { err = c.stmtConn.Ping(ctx) })
	return err
}

func (c *cachingConn) ResetSession(ctx context.Context) (err error) {
	c.do(func() { err = c.stmtConn.ResetSession(ctx) })
	return err
}

func (c *cachingConn) Close() (err error) {
	c.do(func() {
		var errs []error
		for q, cs := range c.stmts {
			errs = append(errs, cs.stmt.Close())
			delete(c.stmts, q)
		}
		err = errors.Join(append(errs, c.stmtConn.Close())...)
	})
	close(c.work)
	return err
}

// connTx ends a transaction on the connection's goroutine.
type connTx struct {
	tx     driver.Tx
	c      *cachingConn
	inline bool // begun with an inline context: see inlineKey
}

func (t *connTx) Commit() (err error) {
	t.c.run(t.inline, func() { err = t.tx.Commit() })
	return err
}

func (t *connTx) Rollback() (err error) {
	t.c.run(t.inline, func() { err = t.tx.Rollback() })
	return err
}

// connRows steps through rows on the connection's goroutine and frees a
// cached statement for the next query when closed.
type connRows struct {
	driver.Rows
	c      *cachingConn
	cs     *cachedStmt // nil when uncached
	inline bool        // queried with an inline context: see inlineKey
}

func (r *connRows) Columns() (cols []string) {
	r.c.run(r.inline, func() { cols = r.Rows.Columns() })
	return cols
}

func (r *connRows) Next(dest []driver.Value) (err error) {
	r.c.run(r.inline, func() { err = r.Rows.Next(dest) })
	return err
}

func (r *connRows) Close() (err error) {
	r.c.run(r.inline, func() {
		err = r.Rows.Close()
		if r.cs != nil {
			r.cs.busy = false
		}
	})
	return err
}
