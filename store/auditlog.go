package store

import (
	"context"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// AuditLog reads the audit trail; package sqldb implements it.
type AuditLog interface {
	FindAudit(ctx context.Context, f audit.Filter) ([]*audit.Entry, error)
}

// FindAudit searches the audit trail for an actor allowed to read
// AuditEvent (auditors and privacy officers). Reading the trail is itself
// recorded in it.
func (s *Store) FindAudit(ctx context.Context, f audit.Filter) ([]*audit.Entry, error) {
	e := s.entry(ctx, audit.ActionSearch)
	e.Query = "AuditEvent"
	if f.Patient != "" {
		e.Patients = []string{f.Patient}
	}
	if _, err := s.allow(ctx, "AuditEvent", "search"); err != nil {
		return nil, s.fail(ctx, e, err)
	}
	if s.AuditLog == nil {
		return nil, s.fail(ctx, e, custodian.Errorf(custodian.ENOTIMPLEMENTED, "the audit trail cannot be searched here"))
	}
	out, err := s.AuditLog.FindAudit(ctx, f)
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	return out, s.record(ctx, e)
}
