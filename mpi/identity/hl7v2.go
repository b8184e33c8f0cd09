package identity

import (
	"context"
	"net/url"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/store"
)

var _ hl7v2.IdentityChanger = (*Service)(nil)

// ChangeIdentity applies an HL7 v2 A40 (merge) or A47 (identifier change)
// as the actor of ctx (the feed's). Applying one again changes nothing.
// A patient the message names that is not in the store is EUNPROCESSABLE.
func (s *Service) ChangeIdentity(ctx context.Context, c *hl7v2.IdentityChange) error {
	survivor, err := s.byIdentifier(ctx, c.Survivor)
	if err != nil {
		return err
	}
	retired, err := s.byIdentifier(ctx, c.Retired)
	if err != nil {
		return err
	}
	switch c.Kind {
	case "merge":
		if survivor == nil || retired == nil {
			return custodian.Errorf(custodian.EUNPROCESSABLE, "merge %s: no patient has identifier %s|%s", c.ControlID, pick(survivor == nil, c.Survivor, c.Retired).System, pick(survivor == nil, c.Survivor, c.Retired).Value)
		}
		if survivor.ID == retired.ID {
			return nil // the retired number is the survivor's old one: merged already
		}
		res, err := store.Decode(retired.Body)
		if err != nil {
			return err
		}
		if linkOf(res, "replaced-by") == "Patient/"+survivor.ID {
			return nil
		}
		_, err = s.Merge(ctx, survivor.ID, retired.ID, false)
		return err
	case "identifier-change":
		if retired == nil {
			if survivor != nil {
				return nil // changed already
			}
			return custodian.Errorf(custodian.EUNPROCESSABLE, "identifier change %s: no patient has identifier %s|%s", c.ControlID, c.Retired.System, c.Retired.Value)
		}
		if survivor != nil && survivor.ID != retired.ID {
			return custodian.Errorf(custodian.ECONFLICT, "identifier change %s: %s|%s belongs to another patient (Patient/%s); that is a merge (A40)", c.ControlID, c.Survivor.System, c.Survivor.Value, survivor.ID)
		}
		if survivor != nil {
			return nil
		}
		res, err := store.Decode(retired.Body)
		if err != nil {
			return err
		}
		var ids []any
		for _, x := range asList(res["identifier"]) {
			id, _ := x.(map[string]any)
			if id["system"] == c.Retired.System && id["value"] == c.Retired.Value {
				old := clone(id)
				old["use"] = "old"
				ids = append(ids, map[string]any{"system": c.Survivor.System, "value": c.Survivor.Value}, old)
				if t, ok := id["type"]; ok {
					ids[len(ids)-2].(map[string]any)["type"] = t
				}
				continue
			}
			ids = append(ids, x)
		}
		res["identifier"] = ids
		body, err := store.Encode(res)
		if err != nil {
			return err
		}
		_, err = s.Store.Update(ctx, "Patient", retired.ID, body, store.WriteOptions{IfMatch: retired.VersionID})
		return err
	}
	return custodian.Errorf(custodian.EINVALID, "unknown identity change %q", c.Kind)
}

func pick(first bool, a, b hl7v2.Identifier) hl7v2.Identifier {
	if first {
		return a
	}
	return b
}

// byIdentifier returns the current, not retired patient with id (nil if
// none), preferring one that is not merged away.
func (s *Service) byIdentifier(ctx context.Context, id hl7v2.Identifier) (*store.Resource, error) {
	q, _, err := s.Store.ParseQuery("Patient", url.Values{"identifier": {id.System + "|" + id.Value}}, true)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	var found *store.Resource
	for _, r := range page.Resources {
		res, err := store.Decode(r.Body)
		if err != nil {
			return nil, err
		}
		if linkOf(res, "replaced-by") == "" {
			return r, nil
		}
		found = r
	}
	return found, nil
}
