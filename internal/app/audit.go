package app

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	sb "github.com/switchboard-voice/switchboard"
)

// AuditPage is one page of audit records and the cursor of the next.
type AuditPage struct {
	Records    []*sb.AuditRecord
	NextCursor *string
}

// Audit list bounds (CONTRACT §10.1).
const (
	DefaultAuditLimit = 50
	MaxAuditLimit     = 200
)

// EncodeCursor makes an opaque cursor for records below id.
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a:" + strconv.FormatInt(id, 10)))
}

// DecodeCursor reads a cursor made by encodeCursor. Errors: validation_error.
func DecodeCursor(c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	s, ok := strings.CutPrefix(string(raw), "a:")
	id, perr := strconv.ParseInt(s, 10, 64)
	if err != nil || !ok || perr != nil || id < 1 {
		return 0, sb.Invalid("cursor", sb.FieldInvalidValue, "is not a cursor returned by this API")
	}
	return id, nil
}

// ListAudit returns the caller's tenant's audit records, newest first.
// Errors: forbidden, not_found.
func (s *Service) ListAudit(ctx context.Context, actor sb.Actor, pathAuthID string, f AuditFilter) (*AuditPage, error) {
	parent, err := parentOf(actor, pathAuthID)
	if err != nil {
		return nil, err
	}
	f.TenantID = parent.AuthID
	return s.listAudit(ctx, f)
}

// AdminListAudit returns every tenant's records (or f.TenantID's).
func (s *Service) AdminListAudit(ctx context.Context, actor sb.Actor, f AuditFilter) (*AuditPage, error) {
	if err := operatorOnly(actor); err != nil {
		return nil, err
	}
	return s.listAudit(ctx, f)
}

func (s *Service) listAudit(ctx context.Context, f AuditFilter) (*AuditPage, error) {
	if f.Limit < 1 {
		f.Limit = DefaultAuditLimit
	}
	f.Limit = min(f.Limit, MaxAuditLimit)
	want := f.Limit
	f.Limit++ // one more tells whether a next page exists
	var recs []*sb.AuditRecord
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		recs, err = tx.ListAudit(ctx, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	p := &AuditPage{Records: recs}
	if len(recs) > want {
		p.Records = recs[:want]
		c := encodeCursor(p.Records[want-1].ID)
		p.NextCursor = &c
	}
	return p, nil
}

// AuditVerification is the result of checking the whole chain.
type AuditVerification struct {
	Valid      bool
	Rows       int
	FirstBadID *int64
}

// VerifyAudit recomputes every hash and link of the chain.
func (s *Service) VerifyAudit(ctx context.Context, actor sb.Actor) (*AuditVerification, error) {
	if err := operatorOnly(actor); err != nil {
		return nil, err
	}
	v := &AuditVerification{Valid: true}
	prev, after := sb.GenesisHash, int64(0)
	for {
		var recs []*sb.AuditRecord
		err := s.store.View(ctx, func(tx Tx) error {
			var err error
			recs, err = tx.AuditChain(ctx, after, 1000)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			v.Rows++
			h, err := r.ComputeHash()
			if v.Valid && (err != nil || r.PrevHash != prev || h != r.Hash) {
				v.Valid = false
				id := r.ID
				v.FirstBadID = &id
			}
			prev, after = r.Hash, r.ID
		}
		if len(recs) < 1000 {
			return v, nil
		}
	}
}
