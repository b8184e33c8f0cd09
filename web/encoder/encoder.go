// Package encoder is the coder's workspace in the workbench: the DNFB
// queue (discharged, not final coded) a coder lands on, the coding
// workspace of one encounter (its notes beside code search, suggestions
// with their evidence marked in the note, the abstract, live edits and
// the live MS-DRG with the grouper's explanation; save a draft or
// finalise), and the director's dashboard cards for the DNFB, the coding
// backlog and coder productivity, and the case mix index.
//
// The pages work without script: every change to the abstract (adding or
// removing a row, accepting a suggestion, picking a searched code) POSTs
// the whole form with an action button and the page comes back recomputed,
// so unsaved work is never lost to a search. Patients are named in the
// pages only; links carry the encounter's resource id.
package encoder

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
)

// Paths of the pages.
const (
	PathDNFB      = "/coding/"
	PathEncounter = "/coding/encounters/"
)

// codingRoles returns the user roles that code: those the store's Guard
// (its role table) lets update Claims — by default the coder, who works
// the queue, and the HIM director, who steers it. Coding is not a
// workflow of access.DefaultWorkflows: its items, the coding Claims, are
// a resource type only these roles write, so the role table already says
// who takes the step (a workflow narrows a type many roles write, as
// Task), and the Guard's Rules hold what a final Claim must pass
// (coding.Queue.FinalCodingRule).
func codingRoles(g store.Guard) []string {
	var out []string
	for _, r := range access.Roles {
		a := &custodian.Actor{ID: "role:" + r, Kind: access.KindUser, Roles: []string{r}}
		if g == nil && access.RolesAllow(a.Roles, "Claim", "update") || g != nil && g.Allow(a, "Claim", "update") == nil {
			out = append(out, r)
		}
	}
	return out
}

// Module returns the DNFB queue, the coding workspace and the dashboard
// cards for wb, over the coding queue q (its store, checker and grouper),
// the suggester s and the code sets set.
func Module(wb *web.Handler, q *coding.Queue, s *coding.Suggester, set *codeset.Set, opts ...Option) web.Module {
	p := &pages{wb: wb, q: q, s: s, set: set, keep: time.Minute}
	if q.Store != nil {
		p.roles = codingRoles(q.Store.Guard)
	} else {
		p.roles = codingRoles(nil)
	}
	for _, o := range opts {
		o(p)
	}
	// The queue reads every inpatient stay and claim, so it is kept a
	// minute per user (as the dashboard cards are), and dropped whenever a
	// stay is saved or coded here.
	p.queue = &web.Kept[[]coding.DNFBItem]{TTL: p.keep, Make: q.DNFB}
	m := http.NewServeMux()
	m.HandleFunc("GET "+PathDNFB+"{$}", p.fn(p.dnfb))
	m.HandleFunc("GET "+PathEncounter+"{id}", p.fn(p.workspace))
	m.HandleFunc("POST "+PathEncounter+"{id}", p.post(func(w http.ResponseWriter, r *http.Request) error {
		defer p.queue.Forget()
		return p.workspacePost(w, r)
	}))
	m.HandleFunc(PathDNFB, p.fn(func(http.ResponseWriter, *http.Request) error {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such page.")
	}))
	return web.Module{
		// Coders land on the queue; the director is offered it but
		// lands on the dashboard. (A user with both roles sees the entry
		// twice: the navigation has no "landing for some roles only".)
		Nav:     p.nav(),
		Prefix:  PathDNFB,
		Handler: m,
		Cards:   web.KeepCards(p.keep, p.cards),
	}
}

type pages struct {
	wb  *web.Handler
	q   *coding.Queue
	s   *coding.Suggester
	set *codeset.Set
	// queue is the DNFB list, kept per user for keep.
	queue *web.Kept[[]coding.DNFBItem]
	keep  time.Duration
	// roles code (codingRoles of the store's Guard).
	roles []string
}

// nav offers the queue to the coding roles: the HIM director is offered
// it, the others land on it.
func (p *pages) nav() []web.NavItem {
	var land, offer []string
	for _, r := range p.roles {
		if r == access.RoleHIMDirector {
			offer = append(offer, r)
		} else {
			land = append(land, r)
		}
	}
	var nav []web.NavItem
	if len(land) > 0 {
		nav = append(nav, web.NavItem{Label: "Coding queue", Path: PathDNFB, Roles: land, Landing: true})
	}
	if len(offer) > 0 {
		nav = append(nav, web.NavItem{Label: "Coding queue", Path: PathDNFB, Roles: offer})
	}
	return nav
}

// Option adjusts the module.
type Option func(*pages)

// KeepFor sets how long the DNFB queue and the dashboard cards are kept
// per user (a minute by default; 0 reads them for every view).
func KeepFor(d time.Duration) Option { return func(p *pages) { p.keep = d } }

// coder reports whether the actor of ctx holds a coding role.
func (p *pages) coder(ctx context.Context) bool {
	return access.HasRole(custodian.ActorFromContext(ctx), p.roles)
}

// fn refuses actors without a coding role (the refusal in the audit
// trail), then runs f, rendering its error in the workbench's frame.
func (p *pages) fn(f func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := p.wb.RequireRole(r, p.roles)
		if err == nil {
			err = f(w, r)
		}
		if err != nil {
			p.wb.Error(w, r, err)
		}
	}
}

// post is fn for the workspace's POST, which works the coding Claim of
// the encounter in the path: a user without a coding role is refused and
// the refusal recorded in the audit trail as a refused update of that
// Claim, as a refused write of it through the FHIR API is.
func (p *pages) post(f func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var err error
		switch {
		case custodian.ActorFromContext(r.Context()) == nil:
			err = custodian.Errorf(custodian.EUNAUTHORIZED, "Sign in first.")
		case !p.coder(r.Context()):
			claim := "Claim"
			if id := r.PathValue("id"); store.ValidID(coding.ClaimID(id)) {
				claim += "/" + coding.ClaimID(id)
			}
			err = custodian.Errorf(custodian.EFORBIDDEN, "Your role does not give you this page.")
			if p.q.Store != nil {
				err = p.q.Store.Refused(r.Context(), audit.ActionUpdate, []string{claim}, err)
			} else {
				err = p.wb.Refuse(r, err, claim)
			}
		}
		if err == nil {
			err = f(w, r)
		}
		if err != nil {
			p.wb.Error(w, r, err)
		}
	}
}

//go:embed template/*.html
var templateFiles embed.FS

var tmpl = template.Must(template.New("encoder").Funcs(template.FuncMap{
	"poas": func() []string { return []string{"Y", "N", "U", "W", "1"} },
	"pct":  func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) },
	"f1":   func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"f2":   func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"f4":   func(v float64) string { return fmt.Sprintf("%.4f", v) },
	"join": strings.Join,
	"add1": func(i int) int { return i + 1 },
	"ts":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" },
}).ParseFS(templateFiles, "template/*.html"))

func (p *pages) render(w http.ResponseWriter, r *http.Request, title, name string, data any) error {
	return p.renderStatus(w, r, http.StatusOK, title, name, data)
}

// renderStatus is render answering with status.
func (p *pages) renderStatus(w http.ResponseWriter, r *http.Request, status int, title, name string, data any) error {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return custodian.Errorf(custodian.EINTERNAL, "encoder page %s: %v", name, err)
	}
	p.wb.PageStatus(w, r, status, title, PathDNFB, template.HTML(b.String()))
	return nil
}
