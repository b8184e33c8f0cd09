package release

import (
	"net/http"
	"sort"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/roi"
)

type accountingView struct {
	Find     *finder
	Patient  *patient
	From, To string
	Acc      *roi.Accounting
	Excluded []excluded
	Produced time.Time
	Org      string
	Years    int
}

// accountingOf asks the release service first whether the actor reads
// the accounting of disclosures of the patient a GET names, so a refusal
// is in the audit trail naming the patient, as one through the FHIR
// operation or the command line is; then h.
func (p *pages) accountingOf(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if id := r.URL.Query().Get("patient"); id != "" && custodian.ActorFromContext(r.Context()) != nil {
			if err := p.svc.MayAccount(r.Context(), id); err != nil {
				p.wb.Error(w, r, err)
				return
			}
		}
		h(w, r)
	}
}

// accounting is a patient's accounting of disclosures (45 CFR 164.528)
// over the period asked for, six years back by default; it prints as the
// statement the patient is given. The patient is found by a POSTed
// search, then named by id only.
func (p *pages) accounting(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	now := p.now()
	v := &accountingView{Produced: now, Org: p.svc.Organization, Years: roi.RetentionYears}
	q := r.URL.Query()
	id := q.Get("patient")
	if id == "" || r.Method == http.MethodPost {
		v.Find = &finder{Action: PathAccounting, Next: PathAccounting}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			if err := parseForm(w, r); err != nil {
				return err
			}
			var err error
			if status, err = p.find(ctx, r, v.Find); err != nil {
				return err
			}
		}
		return p.render(w, r, status, "Accounting of disclosures", PathAccounting, "accounting", v)
	}
	pt, err := p.readPatient(ctx, id)
	if err != nil {
		return err
	}
	v.Patient = pt
	from, err := dateField(q, "from", "start of the period")
	if err != nil {
		return err
	}
	to, err := dateField(q, "to", "end of the period")
	if err != nil {
		return err
	}
	if !to.IsZero() {
		to = to.Add(24*time.Hour - time.Second) // the whole last day
	}
	acc, err := p.svc.Accounting(ctx, pt.ID, from, to)
	if err != nil {
		return err
	}
	v.Acc, v.From, v.To = acc, day(acc.From), day(acc.To)
	for reason, n := range acc.Excluded {
		v.Excluded = append(v.Excluded, excluded{reason, n})
	}
	sort.Slice(v.Excluded, func(i, j int) bool { return v.Excluded[i].Reason < v.Excluded[j].Reason })
	return p.render(w, r, http.StatusOK, "Accounting of disclosures", PathAccounting, "accounting", v)
}
