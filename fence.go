package parley

import (
	"context"
	"time"
)

type fenceKey struct{}

// WithFence marks the writes made with ctx as decisions of the routing
// leader that holds the lease at epoch. A store shared by several nodes
// checks the epoch in the transaction of each such write and refuses it
// with EUNAVAILABLE once another node has taken the lease over, so a
// deposed leader's late decision changes nothing. A store of one node
// ignores it.
func WithFence(ctx context.Context, epoch int64) context.Context {
	return context.WithValue(ctx, fenceKey{}, epoch)
}

// FenceOf returns the leader epoch WithFence put on ctx.
func FenceOf(ctx context.Context) (epoch int64, ok bool) {
	epoch, ok = ctx.Value(fenceKey{}).(int64)
	return epoch, ok
}

// LeaseState is what a lease round found: who holds the lease, at which
// epoch, until when, and whether that is the caller.
type LeaseState struct {
	Holder  string
	Epoch   int64
	Held    bool
	Expires time.Time
}
