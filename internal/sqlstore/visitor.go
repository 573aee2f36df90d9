package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/parleychat/parley"
)

const visitorColumns = `id, tenant_id, name, email, phone, customer_id, private_data, tz_offset, token_hash, created_at`

func scanVisitor(sc scanner) (*parley.Visitor, error) {
	var v parley.Visitor
	err := sc.Scan(&v.ID, &v.TenantID, &v.Name, &v.Email, &v.Phone, &v.CustomerID, &v.PrivateData,
		&v.TZOffset, &v.TokenHash, &v.CreatedAt)
	if err != nil {
		return nil, err
	}
	v.CreatedAt = v.CreatedAt.UTC()
	return &v, nil
}

// CreateVisitor stores v and sets v.CreatedAt (unless set); v.ID must be
// set. A visitor without a token hash is allowed.
func (s *Tables) CreateVisitor(ctx context.Context, v *parley.Visitor) error {
	if v.ID == "" {
		return parley.Errorf(parley.EINVALID, "visitor id is required")
	}
	created := s.stamp(v.CreatedAt)
	_, err := s.db.ExecContext(ctx, `INSERT INTO visitors (`+visitorColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		v.ID, v.TenantID, v.Name, v.Email, v.Phone, v.CustomerID, v.PrivateData, v.TZOffset,
		NullBytes(v.TokenHash), created)
	if err != nil {
		return s.dbError(err, "insert visitor", "a visitor with this ID or token already exists",
			fmt.Sprintf("tenant %d does not exist", v.TenantID))
	}
	v.CreatedAt = created
	return nil
}

// UpdateVisitor replaces the visitor's details, not its tenant, token or
// creation time, and sets those on v from the stored record.
func (s *Tables) UpdateVisitor(ctx context.Context, v *parley.Visitor) error {
	var tenantID int64
	var token []byte
	var created time.Time
	err := s.db.QueryRowContext(ctx, `UPDATE visitors SET name = $2, email = $3, phone = $4,
		customer_id = $5, private_data = $6, tz_offset = $7
		WHERE id = $1 RETURNING tenant_id, token_hash, created_at`,
		v.ID, v.Name, v.Email, v.Phone, v.CustomerID, v.PrivateData, v.TZOffset).
		Scan(&tenantID, &token, &created)
	if err != nil {
		return s.notFound(err, "update visitor", "visitor not found")
	}
	v.TenantID, v.TokenHash, v.CreatedAt = tenantID, token, created.UTC()
	return nil
}

// Visitor returns the visitor id.
func (s *Tables) Visitor(ctx context.Context, id string) (*parley.Visitor, error) {
	v, err := scanVisitor(s.rdb.QueryRowContext(ctx, `SELECT `+visitorColumns+` FROM visitors WHERE id = $1`, id))
	if err != nil {
		return nil, s.notFound(err, "select visitor", "visitor not found")
	}
	return v, nil
}

// VisitorByToken returns the visitor with the token hash.
func (s *Tables) VisitorByToken(ctx context.Context, tokenHash []byte) (*parley.Visitor, error) {
	if len(tokenHash) == 0 {
		return nil, parley.Errorf(parley.ENOTFOUND, "visitor not found")
	}
	v, err := scanVisitor(s.rdb.QueryRowContext(ctx,
		`SELECT `+visitorColumns+` FROM visitors WHERE token_hash = $1`, tokenHash))
	if err != nil {
		return nil, s.notFound(err, "select visitor by token", "visitor not found")
	}
	return v, nil
}

// CreateAttachment records a stored file and sets a.CreatedAt (unless set).
func (s *Tables) CreateAttachment(ctx context.Context, a *parley.Attachment) error {
	if a.ID == "" {
		return parley.Errorf(parley.EINVALID, "attachment id is required")
	}
	created := s.stamp(a.CreatedAt)
	_, err := s.db.ExecContext(ctx, `INSERT INTO attachments (id, chat_id, name, content_type, size, sha256, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		a.ID, a.ChatID, a.Name, a.ContentType, a.Size, a.SHA256, created)
	if err != nil {
		return s.dbError(err, "insert attachment", "an attachment with this ID already exists",
			"the attachment's chat does not exist")
	}
	a.CreatedAt = created
	return nil
}

// Attachment returns the attachment record id.
func (s *Tables) Attachment(ctx context.Context, id string) (*parley.Attachment, error) {
	var a parley.Attachment
	err := s.rdb.QueryRowContext(ctx, `SELECT id, chat_id, name, content_type, size, sha256, created_at
		FROM attachments WHERE id = $1`, id).
		Scan(&a.ID, &a.ChatID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.CreatedAt)
	if err != nil {
		return nil, s.notFound(err, "select attachment", "attachment not found")
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}
