package store

import (
	"context"
	"strconv"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// entry starts the audit entry of an interaction by the actor of ctx.
func (s *Store) entry(ctx context.Context, action string) *audit.Entry {
	e := &audit.Entry{Time: s.Now().UTC(), Action: action, Outcome: "success"}
	if a := custodian.ActorFromContext(ctx); a != nil {
		e.Actor, e.ActorKind, e.Roles, e.Address, e.Purpose = a.ID, a.Kind, a.Roles, a.Address, a.PurposeOfUse
	}
	return e
}

// touched records what out wrote in e.
func touched(e *audit.Entry, out *Outcome) {
	if out == nil || out.Resource == nil {
		return
	}
	r := out.Resource
	e.Resources = append(e.Resources[:0:0], r.Ref()+"/_history/"+strconv.FormatInt(r.VersionID, 10))
	e.Patients = nonEmpty(r.Compartment)
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// prepare authorises interaction on typ for the actor of ctx and parses and
// validates body. A refusal is recorded in the audit trail.
func (s *Store) prepare(ctx context.Context, e *audit.Entry, typ, interaction string, body []byte) (map[string]any, error) {
	if _, err := s.allow(ctx, typ, interaction); err != nil {
		return nil, s.fail(ctx, e, err)
	}
	res, err := s.parse(typ, body)
	if err != nil {
		return nil, s.fail(ctx, e, err)
	}
	return res, nil
}

// commit runs fn in a write transaction and appends e to the audit trail in
// the same transaction; if fn fails, the failure is recorded on its own.
func (s *Store) commit(ctx context.Context, e *audit.Entry, fn func(Tx) error) error {
	write, wt := s.watching(func(tx Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Audit(ctx, e)
	})
	if err := s.backend.Write(ctx, write); err != nil {
		return s.fail(ctx, e, err)
	}
	s.notify(ctx, wt)
	return nil
}

// fail records a refused or failed interaction and returns err. If even the
// audit record cannot be written, that error is returned instead.
func (s *Store) fail(ctx context.Context, e *audit.Entry, err error) error {
	if aerr := s.recordGlassReads(ctx, err); aerr != nil {
		return aerr
	}
	if e.Outcome == "success" {
		e.Outcome = custodian.ErrorCode(err)
	}
	refusedPatients(e, err)
	if aerr := s.record(ctx, e); aerr != nil {
		return aerr
	}
	return err
}

// record writes e on its own. Reads are served only once this succeeds.
func (s *Store) record(ctx context.Context, e *audit.Entry) error {
	if s.NoAudit {
		return nil
	}
	var err error
	if ap, ok := s.backend.(auditAppender); ok {
		err = ap.AppendAudit(ctx, e, s.DurableReadAudit)
	} else {
		write := s.backend.Record
		if s.DurableReadAudit {
			write = s.backend.Write
		}
		err = write(context.WithoutCancel(ctx), func(tx Tx) error { return tx.Audit(ctx, e) })
	}
	if err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "the access could not be recorded in the audit trail")
	}
	return nil
}

// auditAppender is a backend that appends the audit entries of concurrent
// reads together (package sqldb gathers them into blocks), returning once
// the caller's entry has committed: durably (like a write) with durable
// set, otherwise as Backend.Record commits. It records the entry even when
// ctx is cancelled (the read it records may have been answered).
type auditAppender interface {
	AppendAudit(ctx context.Context, e *audit.Entry, durable bool) error
}

// RecordBulkRead appends the one audit entry of a bulk read: a run of
// ExportPage calls over all resources of typ made by one of Custodian's
// own services (the master patient index and the measures read the whole
// record at start). why names the service or purpose in words; it goes in
// the entry's query. An actor without a purpose of use is recorded with
// HOPERAT (healthcare operations), which is what these reads serve.
func (s *Store) RecordBulkRead(ctx context.Context, typ, why string) error {
	e := s.entry(ctx, audit.ActionSearch)
	e.Query = typ + " (bulk read: " + why + ")"
	e.Resources = []string{typ}
	if e.Purpose == "" {
		e.Purpose = "HOPERAT"
	}
	return s.record(ctx, e)
}

// SignIn records a sign-in or token request and its outcome (access calls
// it for every attempt, so failed and locked-out attempts are in the trail
// for the privacy officer). reason is a short code such as "bad-password".
func (s *Store) SignIn(ctx context.Context, a *custodian.Actor, ok bool, reason string) error {
	e := s.entry(ctx, audit.ActionSignIn)
	if a != nil {
		e.Actor, e.ActorKind, e.Roles, e.Address, e.Purpose = a.ID, a.Kind, a.Roles, a.Address, a.PurposeOfUse
	}
	if !ok {
		e.Outcome = "failed"
	}
	e.Reason = reason
	return s.record(ctx, e)
}

// Administer records the management of an identity (access calls it for
// users and clients created, disabled or given new passwords): who did it,
// to whom (target), and whether it was refused.
func (s *Store) Administer(ctx context.Context, action, target string, failure error) error {
	e := s.entry(ctx, action)
	e.Resources = []string{target}
	if failure != nil {
		e.Outcome = custodian.ErrorCode(failure)
	}
	return s.record(ctx, e)
}
