// Package codes is the workbench's code book for coders: a search of
// ICD-10-CM and ICD-10-PCS in clinical language, each code's page with its
// place in the hierarchy, validity by date of service, MCE attributes and
// the tabular notes that apply to it (inherited ones say where they are
// written), and an MS-DRG grouping page that groups one claim entered in a
// form and shows the grouper's explanation.
//
// The search is over code text, not patient data, so its query is in the
// URL (a coder can bookmark or share a search). The grouping form carries
// a patient's age, sex and diagnoses, so it is POSTed.
package codes

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/web"
)

// Paths of the pages.
const (
	PathSearch = "/codes/"
	PathDRG    = "/codes/drg"
)

// roles who are offered the pages: those who code, review codes or
// steer by them.
var roles = []string{access.RoleCoder, access.RoleHIMDirector, access.RoleRecordAnalyst, access.RoleClinician}

// Module returns the code lookup and DRG grouping pages for wb, over the
// loaded code sets and the grouper.
func Module(set *codeset.Set, g *drg.Grouper, wb *web.Handler) web.Module {
	p := &pages{set: set, g: g, wb: wb}
	m := http.NewServeMux()
	m.HandleFunc("GET "+PathSearch+"{$}", p.fn(p.search))
	m.HandleFunc("GET /codes/{system}/{code}", p.fn(p.concept))
	m.HandleFunc("GET "+PathDRG, p.fn(p.drgForm))
	m.HandleFunc("POST "+PathDRG, p.fn(p.drgGroup))
	m.HandleFunc(PathSearch, p.fn(func(http.ResponseWriter, *http.Request) error {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such page.")
	}))
	return web.Module{
		Nav: []web.NavItem{
			{Label: "Code lookup", Path: PathSearch, Roles: roles},
			{Label: "DRG grouper", Path: PathDRG, Roles: []string{access.RoleCoder, access.RoleHIMDirector}},
		},
		Prefix:  PathSearch,
		Handler: m,
	}
}

type pages struct {
	set *codeset.Set
	g   *drg.Grouper
	wb  *web.Handler
}

func (p *pages) fn(f func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := p.wb.RequireRole(r, roles)
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

var tmpl = template.Must(template.New("codes").Funcs(template.FuncMap{
	"join": strings.Join,
	"poas": func() []string { return []string{"Y", "N", "U", "W", "1"} },
}).ParseFS(templateFiles, "template/*.html"))

func (p *pages) render(w http.ResponseWriter, r *http.Request, title, section, name string, data any) error {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return custodian.Errorf(custodian.EINTERNAL, "codes page %s: %v", name, err)
	}
	p.wb.Page(w, r, title, section, template.HTML(b.String()))
	return nil
}

// hit is one search result as the page lists it.
type hit struct {
	Code, Title, Matched, How, Path string
	Billable                        bool
}

type searchView struct {
	Q, System, Date string
	Billable        bool
	Systems         []*codeset.CodeSystem
	Hits            []hit
	Total           int
	Error           string
	Edition         string
}

const searchLimit = 50

// search finds codes by clinical text or code.
func (p *pages) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v := &searchView{Q: strings.TrimSpace(q.Get("q")), System: q.Get("system"), Date: q.Get("date"), Billable: q.Get("billable") == "1",
		Systems: p.set.Systems()}
	if v.System == "" {
		v.System = string(codeset.ICD10CM)
	}
	id, err := codeset.ParseSystem(v.System)
	if err != nil {
		return err
	}
	cs, err := p.set.System(id)
	if err != nil {
		return err
	}
	v.System, v.Edition = string(id), cs.Edition()
	if v.Q != "" {
		date, err := codeset.ParseDate(v.Date)
		if err != nil {
			return err
		}
		res, err := cs.Search(v.Q, codeset.SearchOptions{Date: date, Billable: v.Billable, Limit: searchLimit})
		switch {
		case custodian.ErrorCode(err) == custodian.EINVALID || custodian.ErrorCode(err) == custodian.ENOTFOUND:
			v.Error = custodian.ErrorMessage(err)
		case err != nil:
			return err
		}
		v.Total = res.Total
		for _, h := range res.Hits {
			c := h.Concept
			v.Hits = append(v.Hits, hit{Code: c.Display(), Title: c.Label(), Matched: h.Matched, How: h.How,
				Path: "/codes/" + string(id) + "/" + c.Code(), Billable: c.Billable(date)})
		}
	}
	return p.render(w, r, "Code lookup", PathSearch, "search", v)
}

// link is a code with its page.
type link struct{ Code, Title, Path string }

type note struct {
	Heading, Text, From string
	Inherited           bool
}

type validity struct {
	From, To, Attrs string
}

type conceptView struct {
	System, Name, Edition string
	Code, Title           string
	Billable, Header      bool
	Chapter, Block        *codeset.Group
	Ancestors, Children   []link
	Notes                 []note
	Seventh               []codeset.SeventhCharacter
	RequiresSeventh       bool
	Validity              []validity
}

// concept is one code's page.
func (p *pages) concept(w http.ResponseWriter, r *http.Request) error {
	id, err := codeset.ParseSystem(r.PathValue("system"))
	if err != nil {
		return err
	}
	cs, err := p.set.System(id)
	if err != nil {
		return err
	}
	c, err := cs.Lookup(r.PathValue("code"))
	if err != nil {
		return err
	}
	mk := func(c *codeset.Concept) link {
		return link{c.Display(), c.Label(), "/codes/" + string(id) + "/" + c.Code()}
	}
	v := &conceptView{System: string(id), Name: cs.Name(), Edition: cs.Edition(), Code: c.Display(), Title: c.Label(),
		Billable: c.Billable(0), Header: c.Header(), Chapter: c.Chapter(), Block: c.Block(),
		Seventh: c.SeventhCharacters(), RequiresSeventh: c.RequiresSeventh()}
	anc := c.Ancestors()
	for i := len(anc) - 1; i >= 0; i-- { // from the top down
		v.Ancestors = append(v.Ancestors, mk(anc[i]))
	}
	for _, ch := range c.Children() {
		v.Children = append(v.Children, mk(ch))
	}
	for _, n := range c.Notes() {
		if n.Kind == codeset.NoteSeventh {
			continue // listed with their meaning below
		}
		v.Notes = append(v.Notes, note{Heading: n.Kind.Heading(), Text: n.Text, From: n.From, Inherited: n.From != c.Code() && n.From != c.Display()})
	}
	for _, x := range c.Validity() {
		v.Validity = append(v.Validity, validity{x.From.String(), x.To.String(), strings.Join(x.Attributes(), ", ")})
	}
	return p.render(w, r, c.Display()+" "+cs.Name(), PathSearch, "concept", v)
}

// claimForm is the grouping form as entered.
type claimForm struct {
	Age, Sex, Status, Discharge, Version string
	PDx, PDxPOA, SDx, Procedures         string
}

type drgView struct {
	Form     claimForm
	Versions []drg.Version
	CSRF     template.HTML
	Error    string
	Result   *drg.Result
	Weights  bool
	Weight   *drg.Weight
	Changes  bool // the final DRG differs from the initial one
}

func (p *pages) drgForm(w http.ResponseWriter, r *http.Request) error {
	v := &drgView{Form: claimForm{Sex: "U", Status: "01"}, Versions: drg.Versions(), CSRF: httpauth.CSRFField(r), Weights: p.g.Weights != nil}
	return p.render(w, r, "DRG grouper", PathDRG, "drg", v)
}

// drgGroup groups the claim in the form.
func (p *pages) drgGroup(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return custodian.Errorf(custodian.EINVALID, "The form could not be read.")
	}
	f := claimForm{Age: r.PostFormValue("age"), Sex: r.PostFormValue("sex"), Status: r.PostFormValue("status"),
		Discharge: r.PostFormValue("discharge"), Version: r.PostFormValue("version"), PDx: r.PostFormValue("pdx"),
		PDxPOA: r.PostFormValue("pdx_poa"), SDx: r.PostFormValue("sdx"), Procedures: r.PostFormValue("procedures")}
	v := &drgView{Form: f, Versions: drg.Versions(), CSRF: httpauth.CSRFField(r), Weights: p.g.Weights != nil}
	res, err := p.group(f)
	switch {
	case custodian.ErrorCode(err) == custodian.EINVALID:
		v.Error = custodian.ErrorMessage(err)
	case err != nil:
		return err
	default:
		v.Result = res
		v.Changes = res.Final.DRG != res.Initial.DRG
		if wt, ok := p.g.Weights.Lookup(res.Final.DRG); ok {
			v.Weight = &wt
		}
	}
	return p.render(w, r, "DRG grouper", PathDRG, "drg", v)
}

// group reads the form into a claim and groups it with the explanation.
func (p *pages) group(f claimForm) (*drg.Result, error) {
	var c drg.Claim
	pdx := code(f.PDx)
	if pdx != "" && f.PDxPOA != "" {
		pdx += ":" + strings.TrimSpace(f.PDxPOA)
	}
	var sdx []string
	for _, line := range lines(f.SDx) {
		fs := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ':' || r == '\t' || r == ',' })
		s := code(fs[0])
		if len(fs) > 1 {
			s += ":" + strings.ToUpper(fs[1])
		}
		sdx = append(sdx, s)
	}
	var procs []string
	for _, line := range lines(f.Procedures) {
		procs = append(procs, code(line))
	}
	status := strings.TrimSpace(f.Status)
	if err := c.ParseFields(f.Age, f.Sex, status, pdx, strings.Join(sdx, "|"), strings.Join(procs, "|")); err != nil {
		return nil, err
	}
	if c.Age < 0 || c.Age > 124 {
		return nil, custodian.Errorf(custodian.EINVALID, "The age %d is not an age in years (0 to 124).", c.Age)
	}
	opt := drg.Options{Version: strings.TrimSpace(f.Version), Explain: true}
	if d := strings.TrimSpace(f.Discharge); d != "" && opt.Version == "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return nil, custodian.Errorf(custodian.EINVALID, "The discharge date %q is not a date (YYYY-MM-DD).", d)
		}
		opt.DischargeDate = t
	}
	return p.g.Group(&c, opt)
}

// code is a code as typed, as the grouper reads it: upper case, no dot.
func code(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), ".", ""))
}

// lines splits a text area into its non-blank lines (commas separate too).
func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ';' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
