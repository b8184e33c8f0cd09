package roi

import (
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// Authorization is a patient's signed authorization to release records,
// kept as a FHIR Consent.
type Authorization struct {
	// ID is the Consent's id and Version its version id.
	ID      string
	Version int64
	Patient string
	// Recipient is who may receive the records.
	Recipient string
	// Purposes are PurposeOfUse codes (empty: any stated purpose).
	Purposes []string
	// From and To bound the dates of the records (zero: open-ended).
	From, To time.Time
	// Types are the record types it covers (empty: every record type).
	Types []string
	// Categories are the sensitive categories it names (Category.Code).
	Categories []string
	// Signed is when the patient signed; Expires when it lapses (zero: no
	// expiry date, which the form should not allow; see check).
	Signed, Expires time.Time
	// Revoked is set once the patient revokes it (Consent.status inactive).
	Revoked bool
}

// CategorySystem codes a sensitive category (Category.Code) in an
// authorization's provision.securityLabel.
const CategorySystem = "https://custodian-him.org/fhir/CodeSystem/roi-category"

const (
	consentScope    = "http://terminology.hl7.org/CodeSystem/consentscope"
	loinc           = "http://loinc.org"
	roiConsentCode  = "64292-6"
	participation   = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	resourceTypesCS = "http://hl7.org/fhir/resource-types"
)

func (a *Authorization) check(s *Service) error {
	if a.Patient == "" || strings.TrimSpace(a.Recipient) == "" {
		return custodian.Errorf(custodian.EINVALID, "an authorization names the patient and the recipient")
	}
	if a.Signed.IsZero() || a.Expires.IsZero() {
		return custodian.Errorf(custodian.EINVALID, "an authorization needs the date signed and an expiry date (45 CFR 164.508(c)(1)(v))")
	}
	if !a.Expires.After(a.Signed) {
		return custodian.Errorf(custodian.EINVALID, "the authorization expires before it was signed")
	}
	for _, t := range a.Types {
		if _, ok := RecordTypes[t]; !ok {
			return custodian.Errorf(custodian.EINVALID, "%q is not a record type an authorization can name", t)
		}
	}
	for _, c := range a.Categories {
		if s.category(c) == nil {
			return custodian.Errorf(custodian.EINVALID, "%q is not a sensitive category this site knows", c)
		}
	}
	for _, p := range a.Purposes {
		if _, ok := Purposes[p]; !ok {
			return custodian.Errorf(custodian.EINVALID, "the purpose %q is not a known purpose of use code", p)
		}
	}
	return nil
}

// consent returns a as a FHIR Consent.
func (a *Authorization) consent(s *Service) map[string]any {
	status := "active"
	if a.Revoked {
		status = "inactive"
	}
	prov := map[string]any{
		"type":   "permit",
		"period": map[string]any{"start": day(a.Signed), "end": day(a.Expires)},
		"actor": []any{map[string]any{
			"role":      map[string]any{"coding": []any{map[string]any{"system": participation, "code": "IRCP", "display": "information recipient"}}},
			"reference": map[string]any{"display": a.Recipient},
		}},
		"action": []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "disclose"}}}},
	}
	if !a.From.IsZero() || !a.To.IsZero() {
		dp := map[string]any{}
		if !a.From.IsZero() {
			dp["start"] = day(a.From)
		}
		if !a.To.IsZero() {
			dp["end"] = day(a.To)
		}
		prov["dataPeriod"] = dp
	}
	var classes []any
	for _, t := range a.Types {
		classes = append(classes, map[string]any{"system": resourceTypesCS, "code": t})
	}
	if classes != nil {
		prov["class"] = classes
	}
	var labels []any
	for _, c := range a.Categories {
		// The category's own code first, so a site category without
		// labels is still named; then its labels, for other systems.
		labels = append(labels, map[string]any{"system": CategorySystem, "code": c, "display": s.category(c).Name})
		for _, l := range s.category(c).Labels {
			labels = append(labels, map[string]any{"system": l.System, "code": l.Code, "display": c})
		}
	}
	if labels != nil {
		prov["securityLabel"] = labels
	}
	var purposes []any
	for _, p := range a.Purposes {
		purposes = append(purposes, map[string]any{"system": PurposeSystem, "code": p})
	}
	if purposes != nil {
		prov["purpose"] = purposes
	}
	c := map[string]any{
		"resourceType": "Consent",
		"status":       status,
		"scope":        map[string]any{"coding": []any{map[string]any{"system": consentScope, "code": "patient-privacy"}}},
		"category":     []any{map[string]any{"coding": []any{map[string]any{"system": loinc, "code": roiConsentCode, "display": "Release of information consent"}}}},
		"patient":      map[string]any{"reference": "Patient/" + a.Patient},
		"dateTime":     day(a.Signed),
		"performer":    []any{map[string]any{"reference": "Patient/" + a.Patient}},
		"policyRule":   map[string]any{"text": "HIPAA authorization (45 CFR 164.508)"},
		"provision":    prov,
	}
	if a.ID != "" {
		c["id"] = a.ID
	}
	return c
}

// authorizationOf reads a Consent written by consent.
func authorizationOf(s *Service, r *store.Resource) (*Authorization, error) {
	c, err := store.Decode(r.Body)
	if err != nil {
		return nil, err
	}
	a := &Authorization{ID: r.ID, Version: r.VersionID}
	a.Revoked = str(c, "status") != "active"
	a.Patient = strings.TrimPrefix(str(obj(c, "patient"), "reference"), "Patient/")
	a.Signed = parseDay(str(c, "dateTime"))
	prov := obj(c, "provision")
	per := obj(prov, "period")
	if a.Signed.IsZero() {
		a.Signed = parseDay(str(per, "start"))
	}
	a.Expires = parseDay(str(per, "end"))
	for _, x := range list(prov, "actor") {
		if hasCode(obj(x, "role"), participation, "IRCP") {
			a.Recipient = str(obj(x, "reference"), "display")
		}
	}
	dp := obj(prov, "dataPeriod")
	a.From, a.To = parseDay(str(dp, "start")), parseDay(str(dp, "end"))
	for _, x := range list(prov, "class") {
		if str(x, "system") == resourceTypesCS {
			a.Types = append(a.Types, str(x, "code"))
		}
	}
	for _, x := range list(prov, "securityLabel") {
		if str(x, "system") == CategorySystem && s.category(str(x, "code")) != nil && !slices.Contains(a.Categories, str(x, "code")) {
			a.Categories = append(a.Categories, str(x, "code"))
		}
		for _, cat := range s.categories() {
			for _, l := range cat.Labels {
				if l.System == str(x, "system") && l.Code == str(x, "code") && !slices.Contains(a.Categories, cat.Code) {
					a.Categories = append(a.Categories, cat.Code)
				}
			}
		}
	}
	for _, x := range list(prov, "purpose") {
		a.Purposes = append(a.Purposes, str(x, "code"))
	}
	return a, nil
}

// permits checks that a allows releasing the selection of r to r's
// requester at now; the error says why not in a sentence for the
// specialist (EFORBIDDEN).
func (a *Authorization) permits(r *Request, now time.Time, s *Service) error {
	ref := "Consent/" + a.ID
	switch {
	case a.Revoked:
		return custodian.Errorf(custodian.EFORBIDDEN, "The authorization %s has been revoked by the patient; nothing may be released under it. Ask the requester for a new authorization.", ref)
	case a.Patient != r.Patient:
		return custodian.Errorf(custodian.EFORBIDDEN, "The authorization %s is for another patient.", ref)
	case !a.Expires.IsZero() && !now.Before(a.Expires.AddDate(0, 0, 1)):
		return custodian.Errorf(custodian.EFORBIDDEN, "The authorization %s expired on %s; release is blocked until a current authorization is on file.", ref, day(a.Expires))
	case now.Before(a.Signed):
		return custodian.Errorf(custodian.EFORBIDDEN, "The authorization %s is dated %s, after today.", ref, day(a.Signed))
	case !strings.EqualFold(strings.TrimSpace(a.Recipient), strings.TrimSpace(r.RequesterName)):
		return custodian.Errorf(custodian.EFORBIDDEN, "The authorization %s names %q as recipient, not the requester %q.", ref, a.Recipient, r.RequesterName)
	}
	if len(a.Purposes) > 0 && !slices.Contains(a.Purposes, r.Purpose) {
		return custodian.Errorf(custodian.EFORBIDDEN, "The authorization %s does not cover the purpose %q.", ref, Purposes[r.Purpose])
	}
	if !a.From.IsZero() && (r.From.IsZero() || r.From.Before(a.From)) {
		return custodian.Errorf(custodian.EFORBIDDEN, "The selection starts before %s, the first date of records the authorization %s covers; narrow the date range.", day(a.From), ref)
	}
	if !a.To.IsZero() && (r.To.IsZero() || r.To.After(a.To)) {
		return custodian.Errorf(custodian.EFORBIDDEN, "The selection ends after %s, the last date of records the authorization %s covers; narrow the date range.", day(a.To), ref)
	}
	if len(a.Types) > 0 {
		for _, t := range r.Types {
			if !slices.Contains(a.Types, t) {
				return custodian.Errorf(custodian.EFORBIDDEN, "The authorization %s does not cover %s; take it out of the selection.", ref, RecordTypes[t])
			}
		}
	}
	for _, c := range r.Categories {
		if !slices.Contains(a.Categories, c) {
			name := c
			if cat := s.category(c); cat != nil {
				name = cat.Name + " (" + cat.Regulation + ")"
			}
			return custodian.Errorf(custodian.EFORBIDDEN, "The authorization %s does not name %s; they cannot be released under it.", ref, name)
		}
	}
	return nil
}
