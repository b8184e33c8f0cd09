package store

import (
	"context"
	"slices"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// ExportFilter narrows one page of a bulk export beyond its query.
type ExportFilter struct {
	// After is the paging position: only rows after it (0 for the start).
	After int64
	// Limit bounds the resources of the page and MaxBytes their body
	// bytes (a page stops at the first resource that reaches it), so what
	// one page holds in memory is bounded whatever the resources' sizes.
	Limit    int
	MaxBytes int
	// Patients keeps only resources in the compartments of these patients
	// (a Group export); AnyPatient keeps only those in some patient's
	// compartment (a Patient-level export).
	Patients   []string
	AnyPatient bool
	// Exclude drops resources that match any of these queries (the
	// _typeFilter queries of the type already exported, so that a resource
	// matching two of them is written once).
	Exclude []*Query
}

// ExportReader is what a backend offers for bulk export: pages of the
// current resources matching q (one type, its clauses and visibility) in
// storage order, with the position to continue from (0 at the end).
type ExportReader interface {
	ExportScan(ctx context.Context, q *Query, f ExportFilter) (rs []*Resource, next int64, err error)
}

// ExportPage reads one page of a bulk export of q's type as the actor of
// ctx: authorised like a search, with sensitive resources the actor may not
// see left out. It writes no audit record of its own: an export is
// recorded once per job and once per file downloaded (RecordExport), not
// once per page.
func (s *Store) ExportPage(ctx context.Context, q *Query, f ExportFilter) ([]*Resource, int64, error) {
	if len(q.Types) != 1 {
		return nil, 0, custodian.Errorf(custodian.EINVALID, "an export page reads one resource type")
	}
	a, err := s.allow(ctx, q.Types[0], "search")
	if err != nil {
		return nil, 0, err
	}
	var rs []*Resource
	var next int64
	err = s.backend.Read(ctx, func(rd Reader) error {
		er, ok := rd.(ExportReader)
		if !ok {
			return custodian.Errorf(custodian.ENOTIMPLEMENTED, "this store cannot export")
		}
		vis, err := s.visibilityOf(ctx, rd, a)
		if err != nil {
			return err
		}
		q.Visible = &Visibility{All: vis.all}
		for pt := range vis.breakGlass {
			q.Visible.Patients = append(q.Visible.Patients, pt)
		}
		if rs, next, err = er.ExportScan(ctx, q, f); err != nil {
			return err
		}
		out := rs[:0]
		for _, r := range rs {
			if ok, _, _ := vis.sees(r); ok {
				out = append(out, r)
			}
		}
		rs = out
		return nil
	})
	return rs, next, err
}

// ExportCheck reports whether the actor of ctx may export resources of
// typ (may search them), without recording anything.
func (s *Store) ExportCheck(ctx context.Context, typ string) error {
	_, err := s.allow(ctx, typ, "search")
	return err
}

// ExportRecord describes an export event for the audit trail: a job's
// kick-off refused, a job ended, or a file downloaded.
type ExportRecord struct {
	// Query is the export request (the kick-off URL), and for a download
	// the file.
	Query string
	// Resources are what the event names (the Group exported, the file).
	Resources []string
	// Patients are the patients whose records the event touched, when the
	// export named them (Group members, patient parameters); empty for a
	// system or all-patients export, whose Query says so.
	Patients []string
	// Failure, when not nil, is why the event failed or was refused.
	Failure error
}

// RecordExport appends an export entry to the audit trail as the actor of
// ctx, before the caller answers.
func (s *Store) RecordExport(ctx context.Context, x ExportRecord) error {
	e := s.entry(ctx, audit.ActionExport)
	e.Query = x.Query
	e.Resources = slices.Clone(x.Resources)
	e.Patients = slices.Clone(x.Patients)
	if x.Failure != nil {
		e.Outcome = custodian.ErrorCode(x.Failure)
	}
	return s.record(ctx, e)
}

// Allowed reports whether the actor of ctx may perform interaction on
// typ. A refusal is recorded in the audit trail like any other. It lets an
// adapter refuse before it does costly work (streaming a large upload, say).
func (s *Store) Allowed(ctx context.Context, typ, interaction string) error {
	if _, err := s.allow(ctx, typ, interaction); err != nil {
		action := interaction
		if action == "search" {
			action = audit.ActionSearch
		}
		e := s.entry(ctx, action)
		e.Resources = []string{typ}
		return s.fail(ctx, e, err)
	}
	return nil
}
