package store

import (
	"bytes"
	"context"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
)

// SensitiveLabels are the security labels (meta.security) that make a
// resource sensitive: hidden from search and read unless the actor's role
// and purpose of use allow it, or the actor broke the glass for the patient.
var SensitiveLabels = map[string]map[string]bool{
	"http://terminology.hl7.org/CodeSystem/v3-ActCode": {
		"PSY": true, "PSYTHPN": true, // psychiatry, psychotherapy notes
		"ETH": true, "ETHUD": true, // substance use (42 CFR Part 2)
		"HIV": true, "STD": true, "SDV": true, "SEX": true, "SICKLE": true, "TBOO": true, "GDIS": true,
		"CEL": true, // celebrity / VIP
	},
	"http://terminology.hl7.org/CodeSystem/v3-Confidentiality": {
		"R": true, "V": true, // restricted, very restricted
	},
}

// Guard decides what an actor may do and see. Package access implements
// it; the store asks it before every interaction, so the API, the
// workbench and the command line enforce the same rules.
type Guard interface {
	// Allow returns nil if actor may perform interaction (read, search,
	// create, update, delete) on resources of typ, or an EFORBIDDEN error.
	Allow(actor *custodian.Actor, typ, interaction string) error
	// SeesSensitive reports whether actor, with its stated purpose of use,
	// may see resources that carry sensitive security labels.
	SeesSensitive(actor *custodian.Actor) bool
}

// isSensitive reports whether a resource tree carries a sensitive label.
func isSensitive(res map[string]any) bool {
	meta, _ := res["meta"].(map[string]any)
	labels, _ := meta["security"].([]any)
	for _, l := range labels {
		c, _ := l.(map[string]any)
		sys, _ := c["system"].(string)
		code, _ := c["code"].(string)
		if SensitiveLabels[sys][code] {
			return true
		}
	}
	return false
}

// bodySensitive reports whether a stored body carries a sensitive label,
// decoding it only when it has security labels at all.
func bodySensitive(body []byte) bool {
	if !bytes.Contains(body, []byte(`"security"`)) {
		return false
	}
	res, err := Decode(body)
	return err != nil || isSensitive(res) // an unreadable body is treated as sensitive
}

// compartment returns the patient whose record res belongs to, from its
// index entries and the R4 patient compartment definition.
func compartment(typ string, res map[string]any, index []IndexEntry) string {
	if typ == "Patient" {
		id, _ := res["id"].(string)
		return id
	}
	for _, p := range fhir.PatientCompartmentParams(typ) {
		for _, e := range index {
			if e.Kind == KindReference && e.Param == p && (e.RefType == "Patient" || e.RefType == "") && ValidID(e.RefID) {
				return e.RefID
			}
		}
	}
	return ""
}

// actor returns the actor of ctx, or EUNAUTHORIZED when there is none.
func (s *Store) actor(ctx context.Context) (*custodian.Actor, error) {
	a := custodian.ActorFromContext(ctx)
	if a == nil {
		return nil, custodian.Errorf(custodian.EUNAUTHORIZED, "the request has no authenticated actor")
	}
	return a, nil
}

// allow checks that the actor of ctx may perform interaction on typ.
func (s *Store) allow(ctx context.Context, typ, interaction string) (*custodian.Actor, error) {
	a, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.Kind == "system" || s.Guard == nil {
		return a, nil
	}
	return a, s.Guard.Allow(a, typ, interaction)
}

// visibility describes what sensitive data an actor may see right now.
type visibility struct {
	all        bool              // sees every sensitive resource
	breakGlass map[string]string // patient → reason, from active grants
}

func (s *Store) visibilityOf(ctx context.Context, rd Reader, a *custodian.Actor) (*visibility, error) {
	if a.Kind == "system" || (s.Guard != nil && s.Guard.SeesSensitive(a)) || s.Guard == nil {
		return &visibility{all: true}, nil
	}
	bg, err := rd.BreakGlass(ctx, a.ID, s.Now())
	if err != nil {
		return nil, err
	}
	return &visibility{breakGlass: bg}, nil
}

// sees reports whether r is visible, and whether that takes a
// break-the-glass grant (whose reason is returned).
func (v *visibility) sees(r *Resource) (ok bool, glass bool, reason string) {
	if r.Deleted || v.all || !bodySensitive(r.Body) {
		return true, false, ""
	}
	if reason, ok := v.breakGlass[r.Compartment]; ok && r.Compartment != "" {
		return true, true, reason
	}
	return false, false, ""
}

// BreakGlass opens the sensitive records of patient to the actor of ctx for
// d (at most four hours), for the reason given. The grant and its audit
// entry, flagged for the privacy officer, are written together.
func (s *Store) BreakGlass(ctx context.Context, patient, reason string, d time.Duration) error {
	a, err := s.actor(ctx)
	if err != nil {
		return err
	}
	if !ValidID(patient) {
		return custodian.Errorf(custodian.EINVALID, "%q is not a valid patient id", patient)
	}
	if len(reason) < 10 {
		return custodian.Errorf(custodian.EINVALID, "break-the-glass needs a stated reason of at least 10 characters")
	}
	if d <= 0 || d > 4*time.Hour {
		return custodian.Errorf(custodian.EINVALID, "break-the-glass lasts from 1 minute to 4 hours")
	}
	now := s.now()
	e := s.entry(ctx, "break-glass")
	e.Patients, e.BreakGlass, e.Reason = []string{patient}, true, reason
	e.Resources = []string{"Patient/" + patient}
	return s.backend.Write(ctx, func(tx Tx) error {
		if _, err := tx.Current(ctx, "Patient", patient); err != nil {
			return err
		}
		if err := tx.GrantBreakGlass(ctx, a.ID, patient, reason, now, now.Add(d)); err != nil {
			return err
		}
		return tx.Audit(ctx, e)
	})
}
