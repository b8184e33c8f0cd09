// Package feeds is the workbench's page about the HL7 v2 feeds: messages
// received and refused per message type, the error rate, the listener's
// counts since it started, the dead letters with their reasons, and a
// button that replays them (package mllp keeps receipts and dead letters
// as FHIR Basic resources; see mllp's notes for their codes).
//
// Counts and dead letters are read through the store as the signed-in
// user, so the store's role table decides who sees them: the HIM
// director does; an administrator, who runs the interfaces but may not
// read what they carry, sees the listener's counts only. A replay is the
// director's: it runs as the feed's own actor (the one the listener
// writes as), after a search of the dead letters as the user, so the
// audit trail says who asked for it.
package feeds

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web"
)

// Feed is what the page reads and replays.
type Feed struct {
	// Store keeps the receipts and dead letters.
	Store *store.Store
	// Server is the running MLLP listener, nil when none runs (its counts
	// since start are then not shown).
	Server *mllp.Server
	// Handler stores a replayed message (the listener's StoreHandler);
	// nil disables replay.
	Handler mllp.Handler
	// Actor is who replayed messages are written as (the feed's actor).
	Actor *custodian.Actor
}

// Path is the feeds page (the module's prefix: the workbench mounts
// modules on a subtree).
const Path = "/feeds/"

// viewRoles are offered the page besides the roles that replay: the HIM
// director, and the administrator, who sees the listener's counts since
// start only (the role table keeps the stored messages from it).
var viewRoles = []string{access.RoleHIMDirector, access.RoleAdministrator}

// deadLetterLimit is how many dead letters the page lists (newest first).
const deadLetterLimit = 100

// Types are the message types counted one by one (type^event); the rest
// are counted together as other.
var Types = []string{
	"ADT^A01", "ADT^A02", "ADT^A03", "ADT^A04", "ADT^A08", "ADT^A11", "ADT^A13", "ADT^A28", "ADT^A31", "ADT^A40", "ADT^A47",
	"ORU^R01", "MDM^T01", "MDM^T02", "MDM^T09", "MDM^T10", "MDM^T11",
}

// Module returns the feeds page for the workbench wb.
//
// Replaying the dead letters is a step of the feed workflow
// (access.WorkflowFeed): the page offers it to the deciders the store's
// Guard names, and a replay POSTed by anyone else is refused by the store
// first, so the refusal is in the audit trail.
func Module(f Feed, wb *web.Handler) web.Module {
	p := &page{f: f, wb: wb, replayRoles: access.DefaultDeciders(access.WorkflowFeed)}
	if f.Store != nil {
		if roles, ok, err := f.Store.Deciders(access.WorkflowFeed); ok && err == nil {
			p.replayRoles = roles
		}
	}
	view := slices.Clone(viewRoles)
	for _, r := range p.replayRoles {
		if !slices.Contains(view, r) {
			view = append(view, r)
		}
	}
	m := http.NewServeMux()
	m.HandleFunc("GET "+Path+"{$}", p.fn(view, p.show))
	m.HandleFunc("POST "+Path+"replay", p.fn(p.replayRoles, p.replay, access.WorkflowFeed))
	m.HandleFunc(Path, p.fn(view, func(http.ResponseWriter, *http.Request) error {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such page.")
	}))
	return web.Module{
		Nav:     []web.NavItem{{Label: "Feeds", Path: Path, Roles: view}},
		Prefix:  Path,
		Handler: m,
	}
}

type page struct {
	f  Feed
	wb *web.Handler
	// replayRoles replay the dead letters (the feed workflow's deciders).
	replayRoles []string
}

// fn checks the actor holds one of roles, then runs f, rendering its
// error in the workbench's frame. With workflow, the store is first asked
// whether the actor takes that workflow's steps on the dead letters, which
// audits a refusal.
func (p *page) fn(roles []string, f func(http.ResponseWriter, *http.Request) error, workflow ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := custodian.ActorFromContext(r.Context())
		var err error
		for _, wf := range workflow {
			if err == nil && a != nil {
				err = p.f.Store.MayDecide(r.Context(), wf, "Basic")
			}
		}
		if err == nil {
			err = p.wb.RequireRole(r, roles)
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

var tmpl = template.Must(template.New("feeds").Funcs(template.FuncMap{
	"int64": func(n int) int64 { return int64(n) },
	"pct":   func(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" },
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	},
}).ParseFS(templateFiles, "template/*.html"))

// TypeCount is one message type's stored messages and dead letters.
type TypeCount struct {
	Type              string
	Received, Refused int64
}

// Live is the listener's counts since it started.
type Live struct {
	Accepted, Errors, Rejected, Duplicates int64
	// PerCommit is the mean messages stored per group commit (0 before
	// the first).
	PerCommit float64
}

// DeadLetter is a dead letter as the page lists it.
type DeadLetter struct {
	ID, Type, Ack, Reason, Condition, Location, Remote string
	Received                                           time.Time
}

type view struct {
	Live      *Live
	LiveRate  float64
	Stored    bool // the user may read the stored messages
	Types     []TypeCount
	Received  int64
	Refused   int64
	Rate      float64
	Dead      []DeadLetter
	CanReplay bool
	Replayed  *mllp.ReplayResult
	CSRF      template.HTML
}

func (p *page) show(w http.ResponseWriter, r *http.Request) error {
	return p.render(w, r, nil)
}

func (p *page) render(w http.ResponseWriter, r *http.Request, replayed *mllp.ReplayResult) error {
	v := &view{Replayed: replayed, CSRF: httpauth.CSRFField(r)}
	if s := p.f.Server; s != nil {
		v.Live = &Live{Accepted: s.Accepted.Load(), Errors: s.Errors.Load(), Rejected: s.Rejected.Load(), Duplicates: s.Duplicates.Load()}
		if n := s.Batches.Load(); n > 0 {
			v.Live.PerCommit = float64(s.Batched.Load()) / float64(n)
		}
		if n := v.Live.Accepted + v.Live.Errors + v.Live.Rejected + v.Live.Duplicates; n > 0 {
			v.LiveRate = float64(v.Live.Errors+v.Live.Rejected) / float64(n)
		}
	}
	a := custodian.ActorFromContext(r.Context())
	err := p.stored(r.Context(), v)
	switch {
	case custodian.ErrorCode(err) == custodian.EFORBIDDEN:
		v.Stored = false // an administrator: the counts since start only
	case err != nil:
		return err
	default:
		v.Stored = true
		v.CanReplay = p.f.Handler != nil && access.HasRole(a, p.replayRoles)
	}
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, "feeds", v); err != nil {
		return custodian.Errorf(custodian.EINTERNAL, "feeds page: %v", err)
	}
	p.wb.Page(w, r, "HL7 v2 feeds", Path, template.HTML(b.String()))
	return nil
}

// stored fills the counts per type and the dead letters from the store,
// as the user.
func (p *page) stored(ctx context.Context, v *view) error {
	msg := mllp.SystemFeed + "|" + mllp.CodeMessage
	dead := mllp.SystemFeed + "|" + mllp.CodeDeadLetter
	var err error
	if v.Received, err = p.count(ctx, msg); err != nil {
		return err
	}
	if v.Refused, err = p.count(ctx, dead); err != nil {
		return err
	}
	var sumR, sumD int64
	for _, t := range Types {
		typ, ev, _ := strings.Cut(t, "^")
		codes := []string{mllp.SystemMessageType + "|" + typ, mllp.SystemEventType + "|" + ev}
		c := TypeCount{Type: t}
		if c.Received, err = p.count(ctx, append([]string{msg}, codes...)...); err != nil {
			return err
		}
		if c.Refused, err = p.count(ctx, append([]string{dead}, codes...)...); err != nil {
			return err
		}
		sumR, sumD = sumR+c.Received, sumD+c.Refused
		if c.Received+c.Refused > 0 {
			v.Types = append(v.Types, c)
		}
	}
	if o := (TypeCount{Type: "other", Received: v.Received - sumR, Refused: v.Refused - sumD}); o.Received+o.Refused > 0 {
		v.Types = append(v.Types, o)
	}
	if n := v.Received + v.Refused; n > 0 {
		v.Rate = float64(v.Refused) / float64(n)
	}
	v.Dead, err = p.deadLetters(ctx, "workbench feeds page")
	return err
}

// count counts the Basic resources with every one of codes.
func (p *page) count(ctx context.Context, codes ...string) (int64, error) {
	q, _, err := p.f.Store.ParseQuery("Basic", url.Values{"code": codes, "_summary": {"count"}}, true)
	if err != nil {
		return 0, err
	}
	q.Text = "workbench feeds page: Basic?code=" + strings.Join(codes, "&code=")
	res, err := p.f.Store.Search(ctx, q)
	if err != nil {
		return 0, err
	}
	return res.Total, nil
}

// deadLetters lists the newest dead letters, read as the user.
func (p *page) deadLetters(ctx context.Context, why string) ([]DeadLetter, error) {
	q, _, err := p.f.Store.ParseQuery("Basic", url.Values{"code": {mllp.SystemFeed + "|" + mllp.CodeDeadLetter}, "_sort": {"-_lastUpdated"}}, true)
	if err != nil {
		return nil, err
	}
	q.Count, q.Text = deadLetterLimit, why
	res, err := p.f.Store.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []DeadLetter
	for _, r := range res.Resources {
		var b struct {
			Extension []struct {
				URL          string `json:"url"`
				ValueString  string `json:"valueString"`
				ValueCode    string `json:"valueCode"`
				ValueInstant string `json:"valueInstant"`
			} `json:"extension"`
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			return nil, err
		}
		d := DeadLetter{ID: r.ID}
		for _, e := range b.Extension {
			switch e.URL {
			case mllp.ExtMessageTyp:
				d.Type = e.ValueString
			case mllp.ExtAckCode:
				d.Ack = e.ValueCode
			case mllp.ExtReason:
				d.Reason = e.ValueString
			case mllp.ExtCondition:
				d.Condition = e.ValueCode
			case mllp.ExtLocation:
				d.Location = e.ValueString
			case mllp.ExtRemote:
				d.Remote = e.ValueString
			case mllp.ExtReceived:
				d.Received, _ = time.Parse(time.RFC3339Nano, e.ValueInstant)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// replay hands the dead letters to the feed's handler again.
func (p *page) replay(w http.ResponseWriter, r *http.Request) error {
	if p.f.Handler == nil {
		return custodian.Errorf(custodian.EUNAVAILABLE, "Replay is not available: no feed handler is configured.")
	}
	// The user's search of the dead letters is audited: who asked.
	if _, err := p.deadLetters(r.Context(), "workbench feeds page: replay of the dead letters"); err != nil {
		return err
	}
	actor := p.f.Actor
	if actor == nil {
		actor = custodian.SystemActor()
	}
	res, err := mllp.Replay(r.Context(), p.f.Store, p.f.Handler, actor)
	if err != nil {
		return err
	}
	return p.render(w, r, res)
}
