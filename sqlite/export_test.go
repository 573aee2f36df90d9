package sqlite

import "context"

// IndexText indexes every message not yet in the text index, so that a
// test can search the index rather than the backlog.
func (s *Store) IndexText(ctx context.Context) error { return s.indexText(ctx) }
