package fhirapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/roi"
)

// ROIOperations serves release of information (package roi):
//
//   - POST /fhir/Task/$roi-request: a new request (parameters patient,
//     requesterKind, requesterName, requesterAddress, purpose, purposeText,
//     basis, authorization, legalAuthority, identityVerified, received,
//     from, to, recordType*, category*); answers the Task, 201.
//   - POST /fhir/Task/{id}/$roi-review (from, to, recordType*, category*
//     to narrow the selection), $roi-extend, $roi-deny and $roi-cancel
//     (reason): move the request; answer the Task.
//   - POST /fhir/Task/{id}/$release (deliveryMethod, deliveryRecipient,
//     deliveryDate): check the selection against the legal basis and the
//     authorization, build and store the packet, record the delivery;
//     answers the Task, whose outputs name the packet DocumentReference.
//     An expired or revoked authorization answers 403 saying so.
//   - POST /fhir/Task/{id}/$regenerate: rebuild the packet from the
//     versions it pinned; answers Parameters (match, sha256, pages).
//   - POST /fhir/Consent/$roi-authorize (patient, recipient, purpose*,
//     from, to, recordType*, category*, signed, expires): store an
//     authorization; answers the Consent, 201. POST
//     /fhir/Consent/{id}/$revoke revokes it.
//   - GET /fhir/Patient/{id}/$accounting (from, to): the accounting of
//     disclosures, as Parameters with one disclosure part each.
func ROIOperations(s *roi.Service) []Operation {
	op := func(pattern, name, typ string, h func(w http.ResponseWriter, r *http.Request) error) Operation {
		return Operation{Pattern: pattern, Name: name, Type: typ, Handle: h}
	}
	o := &roiOps{s: s}
	return []Operation{
		op("POST /fhir/Task/$roi-request", "roi-request", "Task", o.request),
		op("POST /fhir/Task/{id}/$roi-review", "roi-review", "Task", o.review),
		op("POST /fhir/Task/{id}/$roi-extend", "roi-extend", "Task", o.move(s.Extend)),
		op("POST /fhir/Task/{id}/$roi-deny", "roi-deny", "Task", o.move(s.Deny)),
		op("POST /fhir/Task/{id}/$roi-cancel", "roi-cancel", "Task", o.move(s.Cancel)),
		op("POST /fhir/Task/{id}/$release", "release", "Task", o.release),
		op("POST /fhir/Task/{id}/$regenerate", "regenerate", "Task", o.regenerate),
		op("POST /fhir/Consent/$roi-authorize", "roi-authorize", "Consent", o.authorize),
		op("POST /fhir/Consent/{id}/$revoke", "revoke", "Consent", o.revoke),
		op("GET /fhir/Patient/{id}/$accounting", "accounting", "Patient", o.accounting),
	}
}

type roiOps struct{ s *roi.Service }

// paramDate reads an optional date parameter.
func paramDate(p *Params, name string) (time.Time, error) {
	v := p.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v[:min(len(v), 10)])
	if err != nil {
		return time.Time{}, custodian.Errorf(custodian.EINVALID, "%s %q is not a date (YYYY-MM-DD)", name, v)
	}
	return t, nil
}

func dates(p *Params, names ...string) ([]time.Time, error) {
	out := make([]time.Time, len(names))
	for i, n := range names {
		var err error
		if out[i], err = paramDate(p, n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (o *roiOps) writeTask(w http.ResponseWriter, r *http.Request, id string, status int) error {
	res, err := o.s.Store.Read(r.Context(), "Task", id)
	if err != nil {
		return err
	}
	writeRaw(w, status, res.Body)
	return nil
}

func (o *roiOps) request(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	d, err := dates(p, "received", "from", "to")
	if err != nil {
		return err
	}
	if d[0].IsZero() {
		return custodian.Errorf(custodian.EINVALID, "received (the date the request arrived) is required")
	}
	req := &roi.Request{Patient: strings.TrimPrefix(p.Get("patient"), "Patient/"), RequesterKind: roi.RequesterKind(p.Get("requesterKind")),
		RequesterName: p.Get("requesterName"), RequesterAddress: p.Get("requesterAddress"), Purpose: p.Get("purpose"),
		PurposeText: p.Get("purposeText"), Basis: roi.Basis(p.Get("basis")), Authorization: strings.TrimPrefix(p.Get("authorization"), "Consent/"),
		LegalAuthority: p.Get("legalAuthority"), IdentityVerified: p.Get("identityVerified"),
		Received: d[0], From: d[1], To: d[2], Types: p.All("recordType"), Categories: p.All("category")}
	out, err := o.s.Submit(r.Context(), req)
	if err != nil {
		return err
	}
	return o.writeTask(w, r, out.ID, http.StatusCreated)
}

func (o *roiOps) review(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	var sel *roi.Selection
	if p.Has("recordType") || p.Has("from") || p.Has("to") || p.Has("category") {
		d, err := dates(p, "from", "to")
		if err != nil {
			return err
		}
		sel = &roi.Selection{From: d[0], To: d[1], Types: p.All("recordType"), Categories: p.All("category")}
	}
	out, err := o.s.Review(r.Context(), r.PathValue("id"), sel)
	if err != nil {
		return err
	}
	return o.writeTask(w, r, out.ID, http.StatusOK)
}

func (o *roiOps) move(fn func(ctx context.Context, id, reason string) (*roi.Request, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := ReadParams(w, r)
		if err != nil {
			return err
		}
		out, err := fn(r.Context(), r.PathValue("id"), p.Get("reason"))
		if err != nil {
			return err
		}
		return o.writeTask(w, r, out.ID, http.StatusOK)
	}
}

func (o *roiOps) release(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	d, err := dates(p, "deliveryDate")
	if err != nil {
		return err
	}
	out, _, err := o.s.Release(r.Context(), r.PathValue("id"), roi.Delivery{Method: p.Get("deliveryMethod"),
		Recipient: p.Get("deliveryRecipient"), Date: d[0]})
	if err != nil {
		return err
	}
	return o.writeTask(w, r, out.ID, http.StatusOK)
}

func (o *roiOps) regenerate(w http.ResponseWriter, r *http.Request) error {
	pk, match, err := o.s.Regenerate(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": []any{
		map[string]any{"name": "match", "valueBoolean": match},
		map[string]any{"name": "sha256", "valueString": pk.SHA256},
		map[string]any{"name": "bundleSha256", "valueString": pk.BundleSHA256},
		map[string]any{"name": "pages", "valueInteger": pk.Pages},
	}})
	return nil
}

func (o *roiOps) authorize(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	d, err := dates(p, "from", "to", "signed", "expires")
	if err != nil {
		return err
	}
	a, err := o.s.Authorize(r.Context(), &roi.Authorization{Patient: strings.TrimPrefix(p.Get("patient"), "Patient/"),
		Recipient: p.Get("recipient"), Purposes: p.All("purpose"), From: d[0], To: d[1], Types: p.All("recordType"),
		Categories: p.All("category"), Signed: d[2], Expires: d[3]})
	if err != nil {
		return err
	}
	res, err := o.s.Store.Read(r.Context(), "Consent", a.ID)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusCreated, res.Body)
	return nil
}

func (o *roiOps) revoke(w http.ResponseWriter, r *http.Request) error {
	a, err := o.s.Revoke(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	res, err := o.s.Store.Read(r.Context(), "Consent", a.ID)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, res.Body)
	return nil
}

func (o *roiOps) accounting(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	d, err := dates(p, "from", "to")
	if err != nil {
		return err
	}
	acc, err := o.s.Accounting(r.Context(), r.PathValue("id"), d[0], d[1])
	if err != nil {
		return err
	}
	params := []any{
		map[string]any{"name": "patient", "valueReference": map[string]any{"reference": "Patient/" + acc.Patient}},
		map[string]any{"name": "from", "valueDateTime": acc.From.Format(time.RFC3339)},
		map[string]any{"name": "to", "valueDateTime": acc.To.Format(time.RFC3339)},
	}
	for _, x := range acc.Disclosures {
		params = append(params, map[string]any{"name": "disclosure", "part": []any{
			map[string]any{"name": "date", "valueDateTime": x.Date.Format(time.RFC3339)},
			map[string]any{"name": "recipient", "valueString": x.Recipient},
			map[string]any{"name": "what", "valueString": x.What},
			map[string]any{"name": "why", "valueString": x.Why},
			map[string]any{"name": "source", "valueCode": x.Source},
			map[string]any{"name": "reference", "valueString": x.Ref},
		}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": params})
	return nil
}
