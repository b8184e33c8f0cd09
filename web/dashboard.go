package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
)

// dashboardDays is the window of the dashboard's daily trends.
const dashboardDays = 14

// receivedTypes are the records counted as received: what a hospital's
// systems send into the record (the directory types are left out).
var receivedTypes = []string{"Patient", "Encounter", "Condition", "Procedure", "Observation", "DiagnosticReport",
	"DocumentReference", "MedicationRequest", "AllergyIntolerance", "ImagingStudy", "Consent"}

// encounterClasses are the v3 ActCode encounter classes counted, with the
// name the dashboard gives each.
var encounterClasses = []struct{ code, name string }{
	{"IMP", "Inpatient"}, {"EMER", "Emergency"}, {"AMB", "Ambulatory"}, {"OBSENC", "Observation"},
	{"SS", "Short stay"}, {"VR", "Virtual"}, {"HH", "Home health"},
}

// placeholder is a dashboard block that a module not yet installed fills.
type placeholder struct {
	Slot, Title, Module string
	Card                *Card
}

type dashboardData struct {
	// CountedAt is when Received and Classes were counted.
	CountedAt time.Time
	// Kept is set when the counts are kept current as records arrive
	// (Handler.Counts) rather than counted every few minutes.
	Kept bool
	// CountsNote says what the kept counts could not count.
	CountsNote string
	Received   Chart
	Classes    Chart
	Alerts     []Chart
	AlertsNote string
	// SeesAlerts is false for roles that may not read the audit trail.
	SeesAlerts   bool
	Placeholders []placeholder
	Extra        []Card
	Errors       []string
}

// dashboard is the HIM director's overview: what the record receives, the
// encounter mix and the audit alerts, with places for what the coding, DRG
// and MPI modules will add.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := custodian.ActorFromContext(ctx)
	if a == nil {
		return custodian.Errorf(custodian.EUNAUTHORIZED, "Sign in first.")
	}
	if !hasRole(a, navDashboard.Roles) {
		return h.Refuse(r, custodian.Errorf(custodian.EFORBIDDEN, "The dashboard is for the HIM director and the privacy officer."))
	}
	d := &dashboardData{}
	today := h.Now().UTC().Truncate(24 * time.Hour)
	if h.Counts != nil {
		if err := h.keptCounts(ctx, a, today, d); err != nil {
			return err
		}
	} else {
		rc, err := h.recordCounts(ctx, a, today)
		if err != nil {
			return err
		}
		if rc != nil {
			d.Received, d.Classes, d.CountedAt = rc.received, rc.classes, rc.at
		}
	}
	d.SeesAlerts = h.Allowed(a, "AuditEvent", "search") == nil
	if d.SeesAlerts {
		if err := h.auditAlerts(ctx, today, d); err != nil {
			return err
		}
	}
	d.Placeholders = []placeholder{
		{Slot: "dnfb", Title: "Discharged, not final coded (DNFB)", Module: "coding"},
		{Slot: "coding", Title: "Coding backlog and coder productivity", Module: "coding"},
		{Slot: "casemix", Title: "Case mix index", Module: "DRG"},
		{Slot: "duplicates", Title: "Duplicate patients", Module: "MPI"},
	}
	for _, m := range h.Modules {
		if m.Cards == nil {
			continue
		}
		cards, err := m.Cards(ctx)
		if err != nil {
			d.Errors = append(d.Errors, custodian.ErrorMessage(err))
			continue
		}
	cards:
		for i := range cards {
			for j := range d.Placeholders {
				if d.Placeholders[j].Slot == cards[i].Slot && d.Placeholders[j].Card == nil {
					d.Placeholders[j].Card = &cards[i]
					continue cards
				}
			}
			d.Extra = append(d.Extra, cards[i])
		}
	}
	h.render(w, r, http.StatusOK, "dashboard", &view{Title: "Dashboard", Section: "/dashboard", Print: true, Data: d})
	return nil
}

// keptCounts fills the counts from h.Counts, with the sensitive records
// counted only for those who may see them (a broken glass opens single
// records, not these totals). Encounters are counted by searching when
// Counts has no Encounters source.
func (h *Handler) keptCounts(ctx context.Context, a *custodian.Actor, today time.Time, d *dashboardData) error {
	sees := h.SeesSensitive(a)
	rec, okR, note, err := h.Counts.receivedPerDay(today, sees)
	if err != nil {
		return err
	}
	d.CountsNote = note
	var cls Chart
	okC := false
	if h.Counts.Encounters != nil {
		if cls, okC, err = h.Counts.encountersByClass(sees); err != nil {
			return err
		}
	} else {
		rc, err := h.recordCounts(ctx, a, today)
		if err != nil {
			return err
		}
		if rc != nil {
			cls, okC = rc.classes, true
		}
	}
	if okR {
		d.Received = rec
	}
	if okC {
		d.Classes = cls
	}
	if okR && okC {
		d.CountedAt, d.Kept = h.Now(), true
	}
	return nil
}

// recordCounts are the dashboard's counts of the record, kept for a while.
type recordCounts struct {
	at                time.Time
	received, classes Chart
	// done is closed when the counts are in (or failed, with err set).
	done chan struct{}
	err  error
}

// recordCounts returns the record counts for actor a, counting again when
// they are older than DashboardTTL; nil when the counting has not finished
// within CountWait (it goes on, and a later view shows it). They are kept
// per user, since what a search counts depends on what its user may see.
func (h *Handler) recordCounts(ctx context.Context, a *custodian.Actor, today time.Time) (*recordCounts, error) {
	ttl, wait := h.DashboardTTL, h.CountWait
	if ttl == 0 {
		ttl = 5 * time.Minute
	}
	if wait == 0 {
		wait = 500 * time.Millisecond
	}
	now := h.Now()
	key := a.Kind + "\x00" + a.ID + "\x00" + strings.Join(a.Roles, ",") + "\x00" + a.PurposeOfUse
	h.countsMu.Lock()
	rc := h.counts[key]
	fresh := rc != nil && now.Sub(rc.at) < ttl && !rc.at.Before(today)
	failed := false
	if rc != nil {
		select {
		case <-rc.done:
			failed = rc.err != nil
		default: // still counting
			fresh = true
		}
	}
	if !fresh || failed {
		rc = &recordCounts{at: now, done: make(chan struct{})}
		if h.counts == nil {
			h.counts = map[string]*recordCounts{}
		}
		for k, old := range h.counts { // forget what has expired
			if now.Sub(old.at) >= ttl {
				delete(h.counts, k)
			}
		}
		h.counts[key] = rc
		// The counting outlives the request if it must (a large store
		// takes seconds), under the same actor, so it is audited as theirs.
		go h.count(context.WithoutCancel(ctx), rc, today)
	}
	h.countsMu.Unlock()
	select {
	case <-rc.done:
		if rc.err != nil {
			return nil, rc.err
		}
		return rc, nil
	case <-time.After(wait):
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// count fills rc.
func (h *Handler) count(ctx context.Context, rc *recordCounts, today time.Time) {
	defer close(rc.done)
	var err error
	if rc.received, err = h.receivedPerDay(ctx, today); err != nil && custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		rc.err = err
		return
	}
	if rc.classes, err = h.encountersByClass(ctx); err != nil && custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		rc.err = err
	}
}

// countSearch runs a counting search (no records are read, so none is
// listed in the audit entry the search makes).
func (h *Handler) countSearch(ctx context.Context, typ string, vals url.Values) (int64, error) {
	vals.Set("_summary", "count")
	q, _, err := h.Records.ParseQuery(typ, vals, true)
	if err != nil {
		return 0, err
	}
	q.Text = strings.TrimPrefix(typ+"?", "?") + vals.Encode()
	p, err := h.Records.Search(ctx, q)
	if err != nil {
		return 0, err
	}
	return p.Total, nil
}

// receivedPerDay counts the records stored or changed each day (UTC) of
// the last dashboardDays days, by their lastUpdated.
func (h *Handler) receivedPerDay(ctx context.Context, today time.Time) (Chart, error) {
	c := Chart{ID: "received", Title: "Records received per day, last 14 days (UTC)", Unit: "records"}
	c.Points = make([]Point, dashboardDays)
	err := parallel(dashboardDays, func(i int) error {
		day := today.AddDate(0, 0, i-(dashboardDays-1))
		vals := url.Values{
			"_type":        {strings.Join(receivedTypes, ",")},
			"_lastUpdated": {"ge" + day.Format("2006-01-02"), "lt" + day.AddDate(0, 0, 1).Format("2006-01-02")},
		}
		n, err := h.countSearch(ctx, "", vals)
		c.Points[i] = Point{Label: day.Format("01-02"), Value: float64(n), When: day}
		return err
	})
	if err != nil {
		return c, err
	}
	barChart(&c)
	return c, nil
}

// encountersByClass counts every encounter in the record by its class.
func (h *Handler) encountersByClass(ctx context.Context) (Chart, error) {
	counts := make([]int64, len(encounterClasses))
	err := parallel(len(encounterClasses), func(i int) error {
		var err error
		counts[i], err = h.countSearch(ctx, "Encounter", url.Values{"class": {"http://terminology.hl7.org/CodeSystem/v3-ActCode|" + encounterClasses[i].code}})
		return err
	})
	if err != nil {
		return Chart{}, err
	}
	return classChart(counts), nil
}

// classChart draws the encounters by class (counts in encounterClasses'
// order); the classes without any are left out, but for the three main.
func classChart(counts []int64) Chart {
	c := Chart{ID: "classes", Title: "Encounters by class (all time)", Unit: "encounters"}
	for i, cl := range encounterClasses {
		if n := counts[i]; n > 0 || cl.code == "IMP" || cl.code == "EMER" || cl.code == "AMB" {
			c.Points = append(c.Points, Point{Label: cl.name, Value: float64(n)})
		}
	}
	barChart(&c)
	return c
}

// auditAlerts fills the alert trends: break-the-glass, failed sign-ins and
// refused requests per day, from the newest auditScan entries of each kind;
// the note says when that many did not reach back the whole period.
func (h *Handler) auditAlerts(ctx context.Context, today time.Time, d *dashboardData) error {
	since := today.AddDate(0, 0, -(dashboardDays - 1))
	kinds := []struct {
		id, title string
		filter    audit.Filter
	}{
		{"glass", "Break-the-glass per day", audit.Filter{BreakGlass: true, Action: audit.ActionBreakGlass}},
		{"signin", "Failed sign-ins per day", audit.Filter{Action: audit.ActionSignIn, Failed: true}},
		{"refused", "Refused requests per day", audit.Filter{Outcome: custodian.EFORBIDDEN}},
	}
	var short []string
	for _, k := range kinds {
		f := k.filter
		f.Since, f.Limit = since, auditScan
		entries, err := h.Records.FindAudit(ctx, f)
		if err != nil {
			return err
		}
		perDay := make([]float64, dashboardDays)
		for _, e := range entries {
			i := int(e.Time.UTC().Truncate(24*time.Hour).Sub(since) / (24 * time.Hour))
			if i >= 0 && i < dashboardDays {
				perDay[i]++
			}
		}
		if len(entries) == auditScan {
			short = append(short, strings.ToLower(k.title[:1])+k.title[1:]+" (since "+entries[len(entries)-1].Time.UTC().Format("2006-01-02 15:04")+" UTC)")
		}
		c := Chart{ID: k.id, Title: k.title + ", last 14 days", Unit: "entries", W: 420}
		for i, n := range perDay {
			day := since.AddDate(0, 0, i)
			c.Points = append(c.Points, Point{Label: day.Format("01-02"), Value: n, When: day})
		}
		barChart(&c)
		d.Alerts = append(d.Alerts, c)
	}
	if len(short) > 0 {
		d.AlertsNote = "Counted from the newest " + strconv.Itoa(auditScan) + " audit entries of each kind only: " + strings.Join(short, "; ") + "."
	}
	return nil
}
