package release

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/store"
)

// authView is an authorization with its state on a date.
type authView struct {
	*roi.Authorization
	// State is valid, expired, revoked or not yet valid.
	State string
	OK    bool
}

func authState(a *roi.Authorization, now time.Time) authView {
	v := authView{Authorization: a, State: "valid", OK: true}
	switch {
	case a.Revoked:
		v.State, v.OK = "revoked", false
	case !a.Expires.IsZero() && !now.Before(a.Expires.AddDate(0, 0, 1)):
		v.State, v.OK = "expired", false
	case now.Before(a.Signed):
		v.State, v.OK = "not yet valid", false
	}
	return v
}

// authorizations lists the patient's release authorizations on file.
func (p *pages) authorizations(ctx context.Context, patient string) ([]authView, error) {
	q, err := p.svc.Store.ParseQueryString("Consent", "patient=Patient/"+patient+"&category=http://loinc.org|64292-6&_count=100")
	if err != nil {
		return nil, err
	}
	page, err := p.svc.Store.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	now := p.now()
	var out []authView
	for _, res := range page.Resources {
		a, err := p.svc.Authorization(ctx, res.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, authState(a, now))
	}
	slices.SortFunc(out, func(a, b authView) int { return b.Signed.Compare(a.Signed) })
	return out, nil
}

// requestForm is the new request page.
type requestForm struct {
	Find    *finder
	Patient *patient
	// Auths are the patient's authorizations on file.
	Auths []authView
	Error string
	// The fields as entered.
	Kind, Name, Address, Purpose, PurposeText, Basis    string
	Authorization, Authority, Verified                  string
	Received, From, To                                  string
	Types, Categories                                   []string
	Kinds, Purposes, Bases, RecordTypes, CategoryChoice []option
}

var basisOptions = []option{
	{"", "the usual one for the requester and purpose"},
	{string(roi.BasisIndividual), "right of access (the patient or a personal representative)"},
	{string(roi.BasisAuthorization), "the patient's authorization"},
	{string(roi.BasisTPO), "treatment, payment or operations"},
	{string(roi.BasisCourtOrder), "court order"},
	{string(roi.BasisLaw), "required or permitted by law"},
}

var kindLabels = map[roi.RequesterKind]string{
	roi.Patient: "the patient", roi.Representative: "personal representative", roi.Attorney: "attorney",
	roi.Insurer: "insurer", roi.Provider: "another provider", roi.Agency: "government agency", roi.CourtOrder: "court",
}

func (p *pages) choices(f *requestForm) {
	for _, k := range roi.RequesterKinds {
		f.Kinds = append(f.Kinds, option{string(k), kindLabels[k]})
	}
	f.Purposes, f.Bases, f.RecordTypes, f.CategoryChoice = purposeOptions(), basisOptions, recordTypeOptions(), p.categoryOptions()
}

// newRequest is the new request form: first the patient (a POSTed
// search), then the request, with the patient's authorizations on file.
func (p *pages) newRequest(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if r.Method == http.MethodPost {
		if err := parseForm(w, r); err != nil {
			return err
		}
	}
	f := &requestForm{Received: p.now().Format(time.DateOnly), Kind: string(roi.Patient), Purpose: "PATRQT"}
	p.choices(f)
	id := r.URL.Query().Get("patient")
	if r.Method == http.MethodPost {
		id = r.PostForm.Get("patient")
	}
	if id == "" {
		f.Find = &finder{Action: PathNew, Next: PathNew}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			var err error
			if status, err = p.find(ctx, r, f.Find); err != nil {
				return err
			}
		}
		return p.render(w, r, status, "New release request", PathQueue, "new", f)
	}
	pt, err := p.readPatient(ctx, id)
	if err != nil {
		return err
	}
	f.Patient = pt
	if f.Auths, err = p.authorizations(ctx, pt.ID); err != nil {
		return err
	}
	if r.Method == http.MethodGet {
		if a := r.URL.Query().Get("authorization"); store.ValidID(a) {
			f.Authorization, f.Basis, f.Kind, f.Purpose = a, string(roi.BasisAuthorization), string(roi.Attorney), "HLEGAL"
			for _, x := range f.Auths {
				if x.ID == a {
					f.Name = x.Recipient
					f.Types, f.Categories = x.Types, x.Categories
					if len(x.Purposes) == 1 {
						f.Purpose = x.Purposes[0]
					}
				}
			}
		}
		return p.render(w, r, http.StatusOK, "New release request", PathQueue, "new", f)
	}
	v := r.PostForm
	f.Kind, f.Name, f.Address = v.Get("kind"), strings.TrimSpace(v.Get("name")), strings.TrimSpace(v.Get("address"))
	f.Purpose, f.PurposeText, f.Basis = v.Get("purpose"), strings.TrimSpace(v.Get("purpose_text")), v.Get("basis")
	f.Authorization, f.Authority, f.Verified = v.Get("authorization"), strings.TrimSpace(v.Get("authority")), strings.TrimSpace(v.Get("verified"))
	f.Received, f.From, f.To = v.Get("received"), v.Get("from"), v.Get("to")
	f.Types, f.Categories = v["type"], v["category"]
	req, err := f.request()
	if err == nil {
		req, err = p.svc.Submit(ctx, req)
	}
	if err != nil {
		if !shown(err) {
			return err
		}
		f.Error = custodian.ErrorMessage(err)
		return p.render(w, r, statusOf(err), "New release request", PathQueue, "new", f)
	}
	http.Redirect(w, r, pathRequests+req.ID, http.StatusSeeOther)
	return nil
}

// request is the roi.Request the form describes.
func (f *requestForm) request() (*roi.Request, error) {
	rq := &roi.Request{Patient: f.Patient.ID, RequesterKind: roi.RequesterKind(f.Kind), RequesterName: f.Name, RequesterAddress: f.Address,
		Purpose: f.Purpose, PurposeText: f.PurposeText, Basis: roi.Basis(f.Basis), LegalAuthority: f.Authority, IdentityVerified: f.Verified,
		Types: f.Types, Categories: f.Categories}
	if rq.Basis == roi.BasisAuthorization || (rq.Basis == "" && f.Authorization != "") {
		rq.Authorization = f.Authorization
		if rq.Basis == "" {
			rq.Basis = roi.BasisAuthorization
		}
	}
	v := url.Values{"received": {f.Received}, "from": {f.From}, "to": {f.To}}
	var err error
	if rq.Received, err = dateField(v, "received", "date received"); err != nil {
		return nil, err
	}
	if rq.Received.IsZero() {
		return nil, custodian.Errorf(custodian.EINVALID, "Enter the date the request was received.")
	}
	if rq.From, err = dateField(v, "from", "first date of the records"); err != nil {
		return nil, err
	}
	if rq.To, err = dateField(v, "to", "last date of the records"); err != nil {
		return nil, err
	}
	return rq, nil
}

// authForm is the authorization entry page.
type authForm struct {
	Find    *finder
	Patient *patient
	Error   string
	// The fields as entered.
	Recipient, Signed, Expires, From, To       string
	Purposes, Types, Categories                []string
	PurposeChoice, RecordTypes, CategoryChoice []option
}

// newAuthorization records a patient's signed authorization (a Consent)
// and goes back to the new request form with it chosen.
func (p *pages) newAuthorization(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if r.Method == http.MethodPost {
		if err := parseForm(w, r); err != nil {
			return err
		}
	}
	f := &authForm{Signed: p.now().Format(time.DateOnly), PurposeChoice: purposeOptions(), RecordTypes: recordTypeOptions(), CategoryChoice: p.categoryOptions()}
	id := r.URL.Query().Get("patient")
	if r.Method == http.MethodPost {
		id = r.PostForm.Get("patient")
	}
	if id == "" {
		f.Find = &finder{Action: PathAuthorize, Next: PathAuthorize}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			var err error
			if status, err = p.find(ctx, r, f.Find); err != nil {
				return err
			}
		}
		return p.render(w, r, status, "New authorization", PathQueue, "authorize", f)
	}
	pt, err := p.readPatient(ctx, id)
	if err != nil {
		return err
	}
	f.Patient = pt
	if r.Method == http.MethodGet {
		return p.render(w, r, http.StatusOK, "New authorization", PathQueue, "authorize", f)
	}
	v := r.PostForm
	f.Recipient, f.Signed, f.Expires, f.From, f.To = strings.TrimSpace(v.Get("recipient")), v.Get("signed"), v.Get("expires"), v.Get("from"), v.Get("to")
	f.Purposes, f.Types, f.Categories = v["purpose"], v["type"], v["category"]
	a := &roi.Authorization{Patient: pt.ID, Recipient: f.Recipient, Purposes: f.Purposes, Types: f.Types, Categories: f.Categories}
	for _, d := range []struct {
		to          *time.Time
		name, label string
	}{{&a.Signed, "signed", "date signed"}, {&a.Expires, "expires", "expiry date"}, {&a.From, "from", "first date of the records"}, {&a.To, "to", "last date of the records"}} {
		if *d.to, err = dateField(v, d.name, d.label); err != nil {
			break
		}
	}
	if err == nil {
		a, err = p.svc.Authorize(ctx, a)
	}
	if err != nil {
		if !shown(err) {
			return err
		}
		f.Error = custodian.ErrorMessage(err)
		return p.render(w, r, statusOf(err), "New authorization", PathQueue, "authorize", f)
	}
	http.Redirect(w, r, PathNew+"?"+url.Values{"patient": {pt.ID}, "authorization": {a.ID}}.Encode(), http.StatusSeeOther)
	return nil
}

// revoke records the patient's revocation of an authorization, then goes
// back to the request it was revoked from (the form's "request").
func (p *pages) revoke(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if !store.ValidID(id) {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such authorization.")
	}
	a, err := p.svc.Revoke(r.Context(), id)
	if err != nil {
		return err
	}
	if req := r.PostForm.Get("request"); store.ValidID(req) {
		http.Redirect(w, r, pathRequests+req+"?done=revoked", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, PathNew+"?patient="+url.QueryEscape(a.Patient), http.StatusSeeOther)
	return nil
}
