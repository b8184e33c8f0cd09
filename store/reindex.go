package store

import (
	"context"

	"github.com/custodian-him/custodian"
)

// Reindexer is what a backend offers for rebuilding the search index.
type Reindexer interface {
	// ScanCurrent returns current, non-deleted resources with row ids
	// above after, in row-id order, at most limit, and their row ids.
	ScanCurrent(ctx context.Context, after int64, limit int) ([]*Resource, []int64, error)
	// ReplaceIndex replaces the index rows and compartment of typ/id if its
	// current version is still vid.
	ReplaceIndex(ctx context.Context, typ, id string, vid int64, compartment string, index []IndexEntry) error
}

// Reindex rebuilds the search index of up to batch resources after the row
// id after, and returns where to continue (0 when there is nothing left)
// and how many it did. It adds no versions and runs beside ordinary
// traffic: each batch is one short write, and a resource written meanwhile
// has indexed itself. Run it after the search parameters change.
func (s *Store) Reindex(ctx context.Context, after int64, batch int) (next int64, n int, err error) {
	if _, err := s.allow(ctx, "", "update"); err != nil {
		return 0, 0, err
	}
	if a := custodian.ActorFromContext(ctx); a.Kind != "system" {
		return 0, 0, custodian.Errorf(custodian.EFORBIDDEN, "reindexing is an administrative task run from the command line")
	}
	var rs []*Resource
	var rids []int64
	err = s.backend.Read(ctx, func(rd Reader) error {
		ri, ok := rd.(Reindexer)
		if !ok {
			return custodian.Errorf(custodian.ENOTIMPLEMENTED, "this store cannot reindex")
		}
		rs, rids, err = ri.ScanCurrent(ctx, after, batch)
		return err
	})
	if err != nil || len(rs) == 0 {
		return 0, 0, err
	}
	type job struct {
		r           *Resource
		compartment string
		index       []IndexEntry
	}
	jobs := make([]job, 0, len(rs))
	for _, r := range rs {
		res, err := Decode(r.Body)
		if err != nil {
			return 0, 0, err
		}
		index, err := s.index(r.Type, res)
		if err != nil {
			return 0, 0, err
		}
		jobs = append(jobs, job{r, compartment(r.Type, res, index), index})
	}
	err = s.backend.Write(ctx, func(tx Tx) error {
		ri, ok := tx.(Reindexer)
		if !ok {
			return custodian.Errorf(custodian.ENOTIMPLEMENTED, "this store cannot reindex")
		}
		for _, j := range jobs {
			if err := ri.ReplaceIndex(ctx, j.r.Type, j.r.ID, j.r.VersionID, j.compartment, j.index); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return rids[len(rids)-1], len(rs), nil
}
