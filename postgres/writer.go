package postgres

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/parleychat/parley"
)

// maxBatch bounds the appends one group commit carries, so that a commit
// and the wait of its first caller stay short under any load.
const maxBatch = 256

// errClosed is returned by appends to a closed store.
var errClosed = errors.New("postgres: store is closed")

// Request states: an append waits until the writer takes it into a batch,
// or until its caller gives up first; exactly one of the two wins.
const (
	reqWaiting int32 = iota
	reqTaken
	reqAbandoned
)

// appendReq is one append waiting for its group commit.
type appendReq struct {
	chatID string
	events []parley.Event
	state  atomic.Int32
	out    []parley.Event
	err    error
	// complete is called once out and err are final, on the completer
	// goroutine, in commit order.
	complete func([]parley.Event, error)
}

// AppendEvents appends events to the chat's log and returns them with
// their seqs; see parley.Store.
//
// Appends are group-committed: one writer goroutine takes every append
// that waits when it is free (up to maxBatch) into one transaction, and
// each call returns after that transaction has committed. The batch is
// whatever queued during the previous commit, so an idle store commits
// a lone append at once and a busy one commits many per transaction.
// An append whose batch fails gets the error and is not stored; an error
// returned because ctx ended means the events were not stored either.
// The one exception is a commit whose answer is lost with the connection:
// PostgreSQL may have stored it, and the error says so; events with a
// ClientID can be appended again safely, which returns the stored ones.
func (s *Store) AppendEvents(ctx context.Context, chatID string, events []parley.Event) ([]parley.Event, error) {
	if err := checkEvents(chatID, events); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	r := &appendReq{chatID: chatID, events: events}
	r.complete = func([]parley.Event, error) { close(done) }
	if err := s.enqueue(ctx, r); err != nil {
		return nil, err
	}
	select {
	case <-done:
		return r.out, r.err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqWaiting, reqAbandoned) {
			return nil, ctx.Err()
		}
	case <-s.writerDone:
		if r.state.CompareAndSwap(reqWaiting, reqAbandoned) {
			return nil, errClosed
		}
	}
	// The writer took the append before the caller gave up: its outcome
	// is decided by the commit, so report that rather than a guess.
	<-done
	return r.out, r.err
}

// AppendEventsAsync queues an append like AppendEvents and returns at
// once; done is called with the outcome after the commit. Calls of done
// happen on one goroutine in commit order, so a caller that queues a
// chat's appends in order learns of their commits in that order too. done
// must not block for long: it holds up the completions that follow. ctx
// bounds only the wait for room in the queue.
func (s *Store) AppendEventsAsync(ctx context.Context, chatID string, events []parley.Event, done func([]parley.Event, error)) {
	if err := checkEvents(chatID, events); err != nil {
		done(nil, err)
		return
	}
	r := &appendReq{chatID: chatID, events: events, complete: done}
	if err := s.enqueue(ctx, r); err != nil {
		done(nil, err)
	}
}

// enqueue hands r to the writer. Once the store is closing it refuses, so
// that every queued append is either committed or drained by stopWriter
// and reported.
func (s *Store) enqueue(ctx context.Context, r *appendReq) error {
	s.enqueueMu.RLock()
	defer s.enqueueMu.RUnlock()
	if s.stopping {
		return errClosed
	}
	select {
	case s.appends <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return errClosed
	}
}

// runWriter group-commits appends until the store closes.
func (s *Store) runWriter() {
	defer close(s.writerDone)
	batch := make([]*appendReq, 0, maxBatch)
	for {
		select {
		case r := <-s.appends:
			batch = append(batch[:0], r)
		case <-s.closing:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-s.appends:
				batch = append(batch, r)
			default:
				break more
			}
		}
		taken := batch[:0]
		for _, r := range batch {
			if r.state.CompareAndSwap(reqWaiting, reqTaken) {
				taken = append(taken, r)
			}
		}
		if len(taken) > 0 {
			s.commitBatch(taken)
		}
		clear(batch)
	}
}

// commitBatch stores the appends of batch in one transaction and
// completes each. An append refused for its own reason before it wrote
// anything (a missing chat, bad data) gets its error and the others are
// committed; any other failure rolls the whole transaction back, and then
// each append is tried alone so that only the one at fault fails.
//
// The transaction locks the chats' rows in chat ID order (a stable sort
// keeps each chat's appends in the order they came), so that the batches
// of several nodes never wait for each other in a cycle.
func (s *Store) commitBatch(batch []*appendReq) {
	ctx := context.WithoutCancel(s.bg)
	if len(batch) > 1 {
		order := slices.Clone(batch)
		slices.SortStableFunc(order, func(a, b *appendReq) int { return strings.Compare(a.chatID, b.chatID) })
		inBatch := false // the failure was an append's, not the commit's
		err := s.write(ctx, "append events", func(tx *sql.Tx) error {
			for _, r := range order {
				out, _, wrote, err := s.appendEventsTx(ctx, tx, r.chatID, r.events)
				if err != nil && (wrote || !isDomain(err)) {
					inBatch = true
					return err
				}
				r.out, r.err = out, err
			}
			return nil
		})
		if err == nil {
			s.commits.Add(1)
			s.completed(batch)
			return
		}
		if !inBatch {
			// The commit failed, or its answer was lost with the
			// connection: the batch may be stored, and trying its
			// appends again could store them twice. Each caller gets
			// the error; one that retries with its events' ClientIDs
			// gets the stored events back if they were.
			for _, r := range batch {
				r.out, r.err = nil, err
			}
			s.completed(batch)
			return
		}
	}
	for _, r := range batch {
		r.out, r.err = nil, nil
		r.err = s.write(ctx, "append events", func(tx *sql.Tx) error {
			var err error
			r.out, _, _, err = s.appendEventsTx(ctx, tx, r.chatID, r.events)
			return err
		})
		if r.err != nil {
			r.out = nil
		} else {
			s.commits.Add(1)
		}
	}
	s.completed(batch)
}

// completed hands a committed batch to the completer, which reports each
// append's outcome in commit order while the writer starts the next batch.
func (s *Store) completed(batch []*appendReq) {
	s.completions <- slices.Clone(batch)
}

// runCompleter reports the outcomes of committed batches, in order, until
// the writer has stopped and every batch is reported.
func (s *Store) runCompleter() {
	defer close(s.completerDone)
	for batch := range s.completions {
		for _, r := range batch {
			r.complete(r.out, r.err)
		}
	}
}

// isDomain reports whether err is a parley.Error, which the store returns
// for what is wrong with a request rather than with the database (whose
// loss, EUNAVAILABLE, is not the request's fault).
func isDomain(err error) bool {
	var pe *parley.Error
	return errors.As(err, &pe) && !isUnavailable(err)
}

// startWriter starts the group-commit writer and its completer.
func (s *Store) startWriter() {
	s.bg, s.stopBG = context.WithCancel(context.Background())
	s.appends = make(chan *appendReq, maxBatch)
	s.closing = make(chan struct{})
	s.writerDone = make(chan struct{})
	s.completions = make(chan []*appendReq, 64)
	s.completerDone = make(chan struct{})
	go s.runWriter()
	go s.runCompleter()
}

// stopWriter stops the writer after the batch it is committing and waits
// for it; appends still queued fail with errClosed.
func (s *Store) stopWriter() error {
	if s.closing == nil {
		return nil
	}
	select {
	case <-s.closing:
		return nil // closed before
	default:
	}
	close(s.closing)
	s.enqueueMu.Lock() // wait for enqueues under way; later ones are refused
	s.stopping = true
	s.enqueueMu.Unlock()
	<-s.writerDone
	close(s.completions)
	<-s.completerDone
	for {
		select {
		case r := <-s.appends:
			if r.state.CompareAndSwap(reqWaiting, reqAbandoned) {
				r.complete(nil, errClosed)
			}
		default:
			return nil
		}
	}
}
