package roi

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// RetentionYears is how far back an accounting reaches (164.528(a)(1)).
const RetentionYears = 6

// AccountingConfig says which disclosures outside release requests the
// accounting lists.
type AccountingConfig struct {
	// ExportRecipients names the API clients whose Bulk Data exports are
	// disclosures to an outside party: client id → the recipient's name
	// and the purpose, e.g. "state immunization registry: public health
	// reporting". Exports by other clients are the organisation's own use
	// (operations) and are not listed.
	ExportRecipients map[string]string
	// BreakGlass lists break-the-glass access (a use inside the
	// organisation, which some state laws and site policies ask to list).
	BreakGlass bool
}

// Disclosure is one line of an accounting.
type Disclosure struct {
	Date time.Time `json:"date"`
	// Recipient is who received the records (name and address when known).
	Recipient string `json:"recipient"`
	// What describes the records disclosed; Why the purpose (the basis).
	What string `json:"what"`
	Why  string `json:"why"`
	// Source is release, export or break-glass; Ref the request number,
	// export request or audit entry.
	Source string `json:"source"`
	Ref    string `json:"ref"`
}

// Accounting is a patient's accounting of disclosures.
type Accounting struct {
	Patient     string       `json:"patient"`
	From        time.Time    `json:"from"`
	To          time.Time    `json:"to"`
	Disclosures []Disclosure `json:"disclosures"`
	// Excluded counts the releases left out, by the rule that excludes
	// them (to the individual, TPO, under an authorization).
	Excluded map[string]int `json:"excluded"`
}

// Accounting returns the accounting of disclosures of patient's records
// from from to to (zero values: the last six years up to now; from is
// never more than six years back). The caller must hold one of the
// AccountingRoles (EFORBIDDEN, audited, otherwise) and be allowed to
// search Task (release requests); the audit trail is read by the system
// on the patient's behalf, and that read is itself audited.
func (s *Service) Accounting(ctx context.Context, patient string, from, to time.Time) (*Accounting, error) {
	if err := s.mayAccount(ctx, patient); err != nil {
		return nil, err
	}
	now := s.now()
	if to.IsZero() || to.After(now) {
		to = now
	}
	floor := now.AddDate(-RetentionYears, 0, 0)
	if from.IsZero() || from.Before(floor) {
		from = floor
	}
	if to.Before(from) {
		return nil, custodian.Errorf(custodian.EINVALID, "the accounting period ends before it starts")
	}
	reqs, err := s.List(ctx, Filter{Patient: patient, Status: Fulfilled})
	if err != nil {
		return nil, err
	}
	acc := &Accounting{Patient: patient, From: from, To: to, Disclosures: []Disclosure{}, Excluded: map[string]int{}}
	for _, r := range reqs {
		if r.Release == nil || r.Release.Delivery.Date.Before(from) || r.Release.Delivery.Date.After(to) {
			continue
		}
		if why := excludedBecause(r); why != "" {
			acc.Excluded[why]++
			continue
		}
		rec := r.Release.Delivery.Recipient
		if r.RequesterAddress != "" {
			rec += ", " + r.RequesterAddress
		}
		what := typesText(r.Types) + " (" + rangeText(r) + ")"
		if len(r.Categories) > 0 {
			what += "; including " + strings.Join(r.Categories, ", ")
		}
		why := Purposes[r.Purpose]
		if r.PurposeText != "" {
			why += ": " + r.PurposeText
		}
		why += " - " + basisText(r, nil)
		acc.Disclosures = append(acc.Disclosures, Disclosure{Date: r.Release.Delivery.Date, Recipient: rec, What: what, Why: why,
			Source: "release", Ref: r.Number})
	}
	if len(s.Disclosures.ExportRecipients) > 0 || s.Disclosures.BreakGlass {
		if err := s.auditDisclosures(ctx, acc); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(acc.Disclosures, func(a, b Disclosure) int { return a.Date.Compare(b.Date) })
	return acc, nil
}

// excludedBecause names the 164.528(a)(1) exclusion a release falls under,
// or "" when it must be listed.
func excludedBecause(r *Request) string {
	switch r.Basis {
	case BasisIndividual:
		return "to the individual (164.528(a)(1)(ii))"
	case BasisTPO:
		return "treatment, payment or health care operations (164.528(a)(1)(i))"
	case BasisAuthorization:
		return "under the patient's authorization (164.528(a)(1)(iv))"
	}
	if tpoPurposes[r.Purpose] {
		return "treatment, payment or health care operations (164.528(a)(1)(i))"
	}
	return ""
}

// auditDisclosures adds exports to outside recipients and, when
// configured, break-the-glass access from the audit trail.
func (s *Service) auditDisclosures(ctx context.Context, acc *Accounting) error {
	if err := s.Store.Allowed(ctx, "Task", "search"); err != nil {
		return err
	}
	sys := custodian.NewContextWithActor(ctx, &custodian.Actor{ID: "roi:accounting", Kind: "system", PurposeOfUse: "PATRQT"})
	var entries []*audit.Entry
	if len(s.Disclosures.ExportRecipients) > 0 {
		// Exports naming the patient, and exports of every patient (which
		// name none).
		for _, pt := range []string{acc.Patient, ""} {
			es, err := s.findAudit(sys, audit.Filter{Action: audit.ActionExport, Patient: pt, Since: acc.From, Until: acc.To.Add(time.Second)})
			if err != nil {
				return err
			}
			for _, e := range es {
				if pt == "" && len(e.Patients) > 0 {
					continue
				}
				entries = append(entries, e)
			}
		}
	}
	if s.Disclosures.BreakGlass {
		es, err := s.findAudit(sys, audit.Filter{Action: audit.ActionBreakGlass, Patient: acc.Patient, Since: acc.From, Until: acc.To.Add(time.Second)})
		if err != nil {
			return err
		}
		entries = append(entries, es...)
	}
	seen := map[int64]bool{}
	for _, e := range entries {
		if seen[e.Seq] || e.Outcome != "success" {
			continue
		}
		seen[e.Seq] = true
		switch e.Action {
		case audit.ActionExport:
			rcpt, ok := s.Disclosures.ExportRecipients[e.Actor]
			if !ok || strings.HasPrefix(e.Query, "download ") || tpoPurposes[e.Purpose] {
				continue
			}
			name, why, _ := strings.Cut(rcpt, ":")
			what := "the patient's records exported by " + e.Query
			if len(e.Patients) == 0 {
				what = "every patient's records, this patient's among them, exported by " + e.Query
			}
			acc.Disclosures = append(acc.Disclosures, Disclosure{Date: e.Time.UTC(), Recipient: strings.TrimSpace(name), What: what,
				Why: strings.TrimSpace(why), Source: "export", Ref: e.Query})
		case audit.ActionBreakGlass:
			acc.Disclosures = append(acc.Disclosures, Disclosure{Date: e.Time.UTC(), Recipient: e.Actor + " (break-the-glass access)",
				What: "sensitive records of the patient", Why: e.Reason, Source: "break-glass", Ref: "audit entry " + itoa(e.Seq)})
		}
	}
	return nil
}

// findAudit reads every entry f selects, page by page.
func (s *Service) findAudit(ctx context.Context, f audit.Filter) ([]*audit.Entry, error) {
	f.Limit = 1000
	var out []*audit.Entry
	for {
		es, err := s.Store.FindAudit(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
		if len(es) < f.Limit {
			return out, nil
		}
		f.Before = es[len(es)-1].Seq
	}
}
