package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleychat/parley"
)

// RoutingLease names the lease of the cluster's routing leader.
const RoutingLease = "routing"

// TakeLease takes the lease name for holder for ttl, or renews it when
// holder has it: in one statement, on the database's clock, so nodes'
// clocks do not matter. Another holder's lease is taken over only once it
// has expired, and then the epoch goes up. The result says who holds it
// now.
func (s *Store) TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (parley.LeaseState, error) {
	var st parley.LeaseState
	err := s.db.QueryRowContext(ctx, `INSERT INTO leases AS l (name, holder, epoch, expires_at)
		VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
		ON CONFLICT (name) DO UPDATE SET
			epoch = CASE WHEN l.holder = EXCLUDED.holder THEN l.epoch ELSE l.epoch + 1 END,
			holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
		WHERE l.holder = EXCLUDED.holder OR l.expires_at <= now()
		RETURNING holder, epoch, expires_at`, name, holder, ttl.Milliseconds()).Scan(&st.Holder, &st.Epoch, &st.Expires)
	if err == sql.ErrNoRows {
		// Someone else holds it: say who.
		err = s.db.QueryRowContext(ctx, `SELECT holder, epoch, expires_at FROM leases WHERE name = $1`, name).
			Scan(&st.Holder, &st.Epoch, &st.Expires)
	}
	if err != nil {
		return parley.LeaseState{}, fmt.Errorf("postgres: lease %s: %w", name, err)
	}
	st.Held = st.Holder == holder
	st.Expires = st.Expires.UTC()
	return st, nil
}

// LeaseState reads who holds the lease name, without taking it (an edge
// node's view). Held is always false; a lease never taken gives ENOTFOUND.
func (s *Store) LeaseState(ctx context.Context, name string) (parley.LeaseState, error) {
	var st parley.LeaseState
	err := s.db.QueryRowContext(ctx, `SELECT holder, epoch, expires_at FROM leases WHERE name = $1`, name).
		Scan(&st.Holder, &st.Epoch, &st.Expires)
	if err == sql.ErrNoRows {
		return st, parley.Errorf(parley.ENOTFOUND, "lease %s was never taken", name)
	}
	if err != nil {
		return parley.LeaseState{}, fmt.Errorf("postgres: lease %s: %w", name, err)
	}
	st.Expires = st.Expires.UTC()
	return st, nil
}

// ReleaseLease gives the lease up at once (a leader that shuts down), so
// that another node need not wait for it to expire.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE leases SET expires_at = now() WHERE name = $1 AND holder = $2`, name, holder)
	if err != nil {
		return fmt.Errorf("postgres: release lease %s: %w", name, err)
	}
	return nil
}

// checkFence refuses a write made under a leader epoch (parley.WithFence)
// that is no longer the routing lease's. The lease row is locked for
// share until the transaction ends, so it cannot be taken over while the
// write commits.
func checkFence(ctx context.Context, tx *sql.Tx) error {
	epoch, ok := parley.FenceOf(ctx)
	if !ok {
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM leases WHERE name = $1 AND epoch = $2 FOR SHARE`, RoutingLease, epoch).Scan(&one)
	if err == sql.ErrNoRows {
		return parley.Errorf(parley.EUNAVAILABLE, "routing leader epoch %d was deposed", epoch)
	}
	if err != nil {
		return fmt.Errorf("postgres: check leader epoch: %w", err)
	}
	return nil
}
