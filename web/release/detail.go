package release

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/store"
)

// check is one line of the minimum-necessary check shown before release.
type check struct {
	What string
	OK   bool
	// Why says what blocks the release when not OK.
	Why string
}

// excluded is a count of records left out, for one reason.
type excluded struct {
	Reason string
	N      int
}

// packetLink is a content item of the released packet.
type packetLink struct{ Title, ContentType, Href string }

// regenerated is the outcome of rebuilding the packet.
type regenerated struct {
	Same                 bool
	Pages                int
	SHA256, BundleSHA256 string
}

type detailView struct {
	Req         *roi.Request
	Patient     *patient
	Auth        *authView
	AuthErr     string
	Now         time.Time
	Age         int
	DaysLeft    int
	Overdue     bool
	Checks      []check
	Blocked     string
	Excluded    []excluded
	Packet      []packetLink
	PacketErr   string
	Regenerated *regenerated
	Done, Error string
	// The selection's form values and choices.
	From, To                         string
	RecordTypes, CategoryChoice      []option
	Methods                          []string
	Categories                       []string
	KindLabel, BasisLabel, StatusTag string
}

var doneMessages = map[string]string{
	"submitted": "The request is recorded.", "reviewed": "The selection is saved and the request is in review.",
	"extended": "The one extension is taken; tell the requester why, in writing.", "denied": "The request is denied.",
	"cancelled": "The request is cancelled.", "released": "The packet is released and the delivery recorded.",
	"revoked": "The authorization is revoked; nothing more may be released under it.",
}

// detail shows request id: the request, its authorization, the
// selection with the minimum-necessary check, the actions and, once
// released, the packet.
func (p *pages) detail(w http.ResponseWriter, r *http.Request) error {
	v, err := p.view(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v.Done = doneMessages[r.URL.Query().Get("done")]
	return p.render(w, r, http.StatusOK, "Request "+v.Req.Number, PathQueue, "detail", v)
}

func (p *pages) view(ctx context.Context, id string) (*detailView, error) {
	if !store.ValidID(id) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "There is no such request.")
	}
	rq, err := p.svc.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	now := p.now()
	v := &detailView{Req: rq, Now: now, Age: rq.Age(now), DaysLeft: rq.DaysLeft(now), Overdue: rq.Overdue(now),
		From: day(rq.From), To: day(rq.To), RecordTypes: recordTypeOptions(), CategoryChoice: p.categoryOptions(),
		Methods: roi.DeliveryMethods, Categories: rq.Categories, KindLabel: kindLabels[rq.RequesterKind]}
	for _, b := range basisOptions {
		if b.Value == string(rq.Basis) {
			v.BasisLabel = b.Label
		}
	}
	v.Patient, err = p.readPatient(ctx, rq.Patient)
	if code := custodian.ErrorCode(err); code == custodian.EFORBIDDEN || code == custodian.ENOTFOUND {
		// A restricted record (which the store does not show the user, as
		// if absent): the request is still the specialist's work, without
		// the patient's details, which need the glass broken in the chart.
		v.Patient, err = &patient{ID: rq.Patient, Name: "Restricted record"}, nil
	}
	if err != nil {
		return nil, err
	}
	if rq.Authorization != "" {
		a, err := p.svc.Authorization(ctx, rq.Authorization)
		if err != nil {
			v.AuthErr = custodian.ErrorMessage(err)
		} else {
			av := authState(a, now)
			v.Auth = &av
		}
	}
	v.Checks = p.checks(rq, v.Auth, now)
	for _, c := range v.Checks {
		if !c.OK {
			v.Blocked = c.Why
			break
		}
	}
	if rel := rq.Release; rel != nil {
		for reason, n := range rel.Excluded {
			v.Excluded = append(v.Excluded, excluded{reason, n})
		}
		sort.Slice(v.Excluded, func(i, j int) bool { return v.Excluded[i].Reason < v.Excluded[j].Reason })
		v.Packet, err = p.packet(ctx, rel.DocumentReference)
		switch code := custodian.ErrorCode(err); {
		case err == nil:
		case (code == custodian.ENOTFOUND || code == custodian.EFORBIDDEN) && len(rq.Categories) > 0:
			// The packet carries the labels of the sensitive records in it,
			// so the store shows it only to those who see them.
			v.PacketErr = "It holds sensitive records, which your role sees only after breaking the glass in the patient's chart."
		default:
			v.PacketErr = custodian.ErrorMessage(err)
		}
	}
	return v, nil
}

// packet links the contents of the packet's DocumentReference to the
// FHIR API's Binary read, which serves them to the signed-in user.
func (p *pages) packet(ctx context.Context, id string) ([]packetLink, error) {
	res, err := p.svc.Store.Read(ctx, "DocumentReference", id)
	if err != nil {
		return nil, err
	}
	doc, err := store.Decode(res.Body)
	if err != nil {
		return nil, err
	}
	var out []packetLink
	contents, _ := doc["content"].([]any)
	for _, c := range contents {
		cm, _ := c.(map[string]any)
		att, _ := cm["attachment"].(map[string]any)
		if bid, ok := strings.CutPrefix(str(att, "url"), "Binary/"); ok && store.ValidID(bid) {
			out = append(out, packetLink{Title: str(att, "title"), ContentType: str(att, "contentType"), Href: "/fhir/Binary/" + bid})
		}
	}
	return out, nil
}

// checks compares the selection of rq with its legal basis and
// authorization, line by line, for the specialist to see before release.
// The release itself is checked again by roi, which has the last word.
func (p *pages) checks(rq *roi.Request, a *authView, now time.Time) []check {
	var out []check
	add := func(what string, ok bool, why string) { out = append(out, check{what, ok, why}) }
	add("Record types selected: "+typesText(rq.Types), len(rq.Types) > 0, "Select at least one record type.")
	switch rq.Basis {
	case roi.BasisIndividual:
		add("Identity verified: "+rq.IdentityVerified, strings.TrimSpace(rq.IdentityVerified) != "", "Record how the requester's identity was verified.")
		for _, c := range rq.Categories {
			if cat := p.category(c); cat != nil && cat.NotForIndividual {
				add("The right of access covers "+cat.Name, false, "The right of access does not extend to "+cat.Name+" (45 CFR 164.524(a)(1)(i)); take them out of the selection.")
			}
		}
	case roi.BasisTPO, roi.BasisLaw:
		add("No sensitive category selected (none may go without the patient's authorization)", len(rq.Categories) == 0,
			"Sensitive categories cannot be released for "+roi.Purposes[rq.Purpose]+" without the patient's authorization; take them out of the selection.")
	case roi.BasisCourtOrder:
		add("Court order named: "+rq.LegalAuthority, rq.LegalAuthority != "", "Name the order.")
	case roi.BasisAuthorization:
		if a == nil {
			add("Authorization on file", false, "The authorization cannot be read; ask for a new one.")
			return out
		}
		add("Authorization is current (signed "+day(a.Signed)+", expires "+day(a.Expires)+")", a.OK,
			"The authorization is "+a.State+"; release is blocked until a current authorization is on file.")
		add("Authorization is for this patient", a.Patient == rq.Patient, "The authorization is for another patient.")
		add("Recipient named: "+a.Recipient, strings.EqualFold(strings.TrimSpace(a.Recipient), strings.TrimSpace(rq.RequesterName)),
			"The authorization names "+a.Recipient+" as recipient, not the requester "+rq.RequesterName+".")
		if len(a.Purposes) > 0 {
			add("Purpose covered: "+roi.Purposes[rq.Purpose], slices.Contains(a.Purposes, rq.Purpose), "The authorization does not cover the purpose "+roi.Purposes[rq.Purpose]+".")
		}
		if !a.From.IsZero() {
			add("Records from "+day(a.From)+" on", !rq.From.IsZero() && !rq.From.Before(a.From), "The selection starts before "+day(a.From)+"; narrow the date range.")
		}
		if !a.To.IsZero() {
			add("Records up to "+day(a.To), !rq.To.IsZero() && !rq.To.After(a.To), "The selection ends after "+day(a.To)+"; narrow the date range.")
		}
		if len(a.Types) > 0 {
			var over []string
			for _, t := range rq.Types {
				if !slices.Contains(a.Types, t) {
					over = append(over, roi.RecordTypes[t])
				}
			}
			add("Record types within "+typesText(a.Types), len(over) == 0, "The authorization does not cover "+strings.Join(over, ", ")+"; take them out of the selection.")
		}
		for _, c := range rq.Categories {
			name := c
			if cat := p.category(c); cat != nil {
				name = cat.Name + " (" + cat.Regulation + ")"
			}
			add("Authorization names "+name, slices.Contains(a.Categories, c), "The authorization does not name "+name+"; they cannot be released under it.")
		}
	}
	if len(rq.Categories) == 0 {
		add("Sensitive records (42 CFR Part 2, psychotherapy notes, HIV, genetic, reproductive health…) are left out", true, "")
	}
	return out
}

func typesText(types []string) string {
	if len(types) == 0 {
		return "none"
	}
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = roi.RecordTypes[t]
	}
	return strings.Join(s, ", ")
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// act runs one of the request's actions (a POST), then shows the request
// again; an action refused for a reason the user can act on is shown on
// the request's page with the reason.
func (p *pages) act(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx, id, f := r.Context(), r.PathValue("id"), r.PostForm
	if !store.ValidID(id) {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such request.")
	}
	var err error
	var regen *regenerated
	done := r.PathValue("action")
	switch done {
	case "review":
		sel := &roi.Selection{Types: f["type"], Categories: f["category"]}
		if sel.From, err = dateField(f, "from", "first date of the records"); err == nil {
			if sel.To, err = dateField(f, "to", "last date of the records"); err == nil {
				_, err = p.svc.Review(ctx, id, sel)
			}
		}
		done = "reviewed"
	case "extend":
		_, err = p.svc.Extend(ctx, id, strings.TrimSpace(f.Get("reason")))
		done = "extended"
	case "deny":
		_, err = p.svc.Deny(ctx, id, strings.TrimSpace(f.Get("reason")))
		done = "denied"
	case "cancel":
		_, err = p.svc.Cancel(ctx, id, strings.TrimSpace(f.Get("reason")))
		done = "cancelled"
	case "release":
		_, _, err = p.svc.Release(ctx, id, roi.Delivery{Method: f.Get("method"), Recipient: strings.TrimSpace(f.Get("recipient"))})
		done = "released"
	case "regenerate":
		var pk *roi.Packet
		var same bool
		if pk, same, err = p.svc.Regenerate(ctx, id); err == nil {
			regen = &regenerated{Same: same, Pages: pk.Pages, SHA256: pk.SHA256, BundleSHA256: pk.BundleSHA256}
		}
	default:
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such action.")
	}
	if err != nil && !shown(err) {
		return err
	}
	if err == nil && regen == nil {
		http.Redirect(w, r, pathRequests+id+"?done="+done, http.StatusSeeOther)
		return nil
	}
	v, verr := p.view(ctx, id)
	if verr != nil {
		return verr
	}
	status := http.StatusOK
	if err != nil {
		v.Error, status = custodian.ErrorMessage(err), statusOf(err)
	}
	v.Regenerated = regen
	return p.render(w, r, status, "Request "+v.Req.Number, PathQueue, "detail", v)
}
