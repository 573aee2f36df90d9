package storebus

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/postgres"
	"github.com/parleychat/parley/storetest"
)

// TestStoreConformance runs the store's conformance suite through the
// bus: every method an edge calls is a request a core answers with
// PostgreSQL. The methods of the outbox, the webhook sender and the
// retention job, which edges never call (and cores refuse them), go to
// the database directly.
func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store {
		s := openStack(t)
		return &coreOnly{Client: s.client, pg: s.pg}
	})
}

// coreOnly is the client with the core-only methods of the core's store.
type coreOnly struct {
	*Client
	pg *postgres.Store
}

func (c *coreOnly) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*parley.OutboxMail, error) {
	return c.pg.ClaimMail(ctx, now, lease, limit)
}

func (c *coreOnly) MarkMailSent(ctx context.Context, id int64, at time.Time) error {
	return c.pg.MarkMailSent(ctx, id, at)
}

func (c *coreOnly) MarkMailFailed(ctx context.Context, id int64, next time.Time, reason string, final bool) error {
	return c.pg.MarkMailFailed(ctx, id, next, reason, final)
}

func (c *coreOnly) CaptureDeliveries(ctx context.Context, done []int64, deliveries []*parley.WebhookDelivery) error {
	return c.pg.CaptureDeliveries(ctx, done, deliveries)
}

func (c *coreOnly) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*parley.WebhookDelivery, error) {
	return c.pg.ClaimDeliveries(ctx, now, lease, limit)
}

func (c *coreOnly) RetentionPolicies(ctx context.Context) ([]*parley.RetentionPolicy, error) {
	return c.pg.RetentionPolicies(ctx)
}

func (c *coreOnly) Purge(ctx context.Context, tenantID int64, before time.Time, limit int) (*parley.Deletion, error) {
	return c.pg.Purge(ctx, tenantID, before, limit)
}
