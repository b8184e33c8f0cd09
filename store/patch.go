package store

import (
	"context"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// Patch applies a JSON Patch (RFC 6902) document to the current version of
// typ/id and stores the result as the next version, after the same
// validation as an update. The patch may not change resourceType or id.
func (s *Store) Patch(ctx context.Context, typ, id string, patch []byte, opt WriteOptions) (*Outcome, error) {
	e := s.entry(ctx, audit.ActionPatch)
	e.Resources = []string{typ + "/" + id}
	if _, err := s.allow(ctx, typ, "update"); err != nil {
		return nil, s.fail(ctx, e, err)
	}
	if err := s.checkTypeID(typ, id); err != nil {
		return nil, s.fail(ctx, e, err)
	}
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return nil, s.fail(ctx, e, custodian.Wrap(custodian.EINVALID, err, "the body is not a JSON Patch document"))
	}
	var out *Outcome
	err = s.commit(ctx, e, func(tx Tx) error {
		var err error
		out, err = s.patch(ctx, tx, typ, id, p, opt.IfMatch)
		touched(e, out)
		return err
	})
	return out, err
}

func (s *Store) patch(ctx context.Context, tx Tx, typ, id string, p jsonpatch.Patch, ifMatch int64) (*Outcome, error) {
	cur, err := tx.Current(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	if cur.Deleted {
		return nil, custodian.Errorf(custodian.EGONE, "%s/%s was deleted; it cannot be patched", typ, id)
	}
	if ifMatch != 0 && ifMatch != cur.VersionID {
		return nil, custodian.Errorf(custodian.EPRECONDITION, "%s/%s is at version %d, not %d", typ, id, cur.VersionID, ifMatch)
	}
	patched, err := p.Apply(cur.Body)
	if err != nil {
		return nil, custodian.Wrap(custodian.EUNPROCESSABLE, err, "the patch cannot be applied to %s/%s", typ, id)
	}
	res, err := Decode(patched)
	if err != nil {
		return nil, err
	}
	if err := s.check(typ, res); err != nil {
		return nil, err
	}
	if err := checkBodyID(res, id); err != nil {
		return nil, err
	}
	return s.update(ctx, tx, typ, id, res, 0, MethodPatch, nil)
}
