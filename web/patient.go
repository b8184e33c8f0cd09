package web

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// patientRow is one patient in the search results.
type patientRow struct {
	ID, Name, BirthDate, Gender, MRN string
}

type searchForm struct {
	Name, BirthDate, Identifier string
	Searched                    bool
	Error                       string
	Results                     []patientRow
	More                        bool
}

var birthDateRE = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)

// maxSearchField bounds each search field; no name or identifier is longer.
const maxSearchField = 200

// patientSearch shows the search form and, for a POST, the patients that
// match it. The form is POSTed so names, birth dates and identifiers never
// travel in a URL.
func (h *Handler) patientSearch(w http.ResponseWriter, r *http.Request) error {
	if err := h.require(r, "Patient", "search"); err != nil {
		if custodian.ErrorCode(err) == custodian.EFORBIDDEN {
			return h.Refuse(r, err)
		}
		return err
	}
	f := &searchForm{}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			return custodian.Errorf(custodian.EINVALID, "The form could not be read.")
		}
		f.Name = strings.TrimSpace(r.PostForm.Get("name"))
		f.BirthDate = strings.TrimSpace(r.PostForm.Get("birthdate"))
		f.Identifier = strings.TrimSpace(r.PostForm.Get("identifier"))
		f.Searched = true
		if err := h.findPatients(r.Context(), f); err != nil {
			if custodian.ErrorCode(err) != custodian.EINVALID {
				return err
			}
			f.Error, f.Searched = custodian.ErrorMessage(err), false
			status = http.StatusBadRequest
		}
	}
	h.render(w, r, status, "patients", &view{Title: "Find a patient", Section: "/patients", Data: f})
	return nil
}

func (h *Handler) findPatients(ctx context.Context, f *searchForm) error {
	if f.Name == "" && f.BirthDate == "" && f.Identifier == "" {
		return custodian.Errorf(custodian.EINVALID, "Enter a name, a birth date or an identifier (such as the MRN).")
	}
	if len(f.Name) > maxSearchField || len(f.Identifier) > maxSearchField {
		return custodian.Errorf(custodian.EINVALID, "A name or identifier is at most %d characters.", maxSearchField)
	}
	vals := url.Values{"_count": {"50"}}
	if f.Name != "" {
		// Each word must match the start of some part of the name.
		vals["name"] = strings.Fields(f.Name)
	}
	if f.BirthDate != "" {
		if !birthDateRE.MatchString(f.BirthDate) || when(f.BirthDate).IsZero() {
			return custodian.Errorf(custodian.EINVALID, "Write the birth date as YYYY-MM-DD (or YYYY-MM, or YYYY).")
		}
		vals.Set("birthdate", f.BirthDate)
	}
	if f.Identifier != "" {
		// Any system: an MRN, an SSN, a visit number…; commas and pipes are
		// search syntax, so they are escaped.
		v := strings.NewReplacer(`\`, `\\`, `,`, `\,`, `|`, `\|`, `$`, `\$`).Replace(f.Identifier)
		vals.Set("identifier", v)
	}
	q, _, err := h.Records.ParseQuery("Patient", vals, true)
	if err != nil {
		return err
	}
	q.Text = "Patient?" + vals.Encode()
	page, err := h.Records.Search(ctx, q)
	if err != nil {
		return err
	}
	for _, res := range page.Resources {
		p, err := store.Decode(res.Body)
		if err != nil {
			continue
		}
		f.Results = append(f.Results, patientRow{ID: res.ID, Name: patientName(p), BirthDate: str(p, "birthDate"), Gender: str(p, "gender"), MRN: mrn(p)})
	}
	slices.SortStableFunc(f.Results, func(a, b patientRow) int { return strings.Compare(a.Name, b.Name) })
	f.More = page.Next != ""
	return nil
}

// patientHeader is the banner every patient page starts with.
type patientHeader struct {
	ID, Name, BirthDate, Age, Gender, MRN, Deceased string
	Identifiers                                     []identifierView
	Telecom, Address                                []string
	Version                                         int64
	LastUpdated                                     time.Time
}

func (h *Handler) readPatient(ctx context.Context, id string) (*patientHeader, error) {
	if !store.ValidID(id) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "There is no such patient.")
	}
	res, err := h.Records.Read(ctx, "Patient", id)
	if err != nil {
		return nil, err
	}
	p, err := store.Decode(res.Body)
	if err != nil {
		return nil, err
	}
	ph := &patientHeader{ID: id, Name: patientName(p), BirthDate: str(p, "birthDate"), Gender: str(p, "gender"),
		MRN: mrn(p), Identifiers: identifiers(p), Version: res.VersionID, LastUpdated: res.LastUpdated}
	ph.Age = age(ph.BirthDate, h.Now())
	if d := str(p, "deceasedDateTime"); d != "" {
		ph.Deceased = showDate(d)
		ph.Age = ""
	} else if str(p, "deceasedBoolean") == "true" {
		ph.Deceased = "yes"
		ph.Age = ""
	}
	for _, t := range list(p, "telecom") {
		ph.Telecom = append(ph.Telecom, strings.TrimSpace(str(t, "system")+" "+str(t, "use")+": "+str(t, "value")))
	}
	for _, a := range list(p, "address") {
		var parts []string
		for _, l := range list(a, "line") {
			if s, ok := l.(string); ok {
				parts = append(parts, s)
			}
		}
		parts = append(parts, strings.TrimSpace(str(a, "city")+", "+str(a, "state")+" "+str(a, "postalCode")))
		ph.Address = append(ph.Address, strings.Join(parts, ", "))
	}
	return ph, nil
}

// compartmentSearch returns the resources of typ in the patient's record
// that match extra (e.g. category=laboratory), up to store.MaxCount, and
// whether there were more.
func (h *Handler) compartmentSearch(ctx context.Context, typ, patient string, extra url.Values) ([]map[string]any, bool, error) {
	vals := url.Values{"patient": {patient}, "_count": {strconv.Itoa(store.MaxCount)}}
	for k, v := range extra {
		vals[k] = v
	}
	q, _, err := h.Records.ParseQuery(typ, vals, true)
	if err != nil {
		return nil, false, err
	}
	q.Text = typ + "?" + vals.Encode()
	page, err := h.Records.Search(ctx, q)
	if err != nil {
		return nil, false, err
	}
	out := make([]map[string]any, 0, len(page.Resources))
	for _, res := range page.Resources {
		if m, err := store.Decode(res.Body); err == nil {
			out = append(out, m)
		}
	}
	return out, page.Next != "", nil
}

// breakGlass opens the patient's sensitive records to the user for an hour,
// for the reason they give; the privacy officer reviews it.
func (h *Handler) breakGlass(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !store.ValidID(id) {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such patient.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return custodian.Errorf(custodian.EINVALID, "The form could not be read.")
	}
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if len(reason) > 500 {
		return custodian.Errorf(custodian.EINVALID, "Keep the reason under 500 characters.")
	}
	if err := h.Records.BreakGlass(r.Context(), id, reason, time.Hour); err != nil {
		return err
	}
	if next := r.PostForm.Get("next"); returnPath(next) {
		// Back to the page that asked for the glass (a stay's coding
		// workspace), which now opens.
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/patients/"+id+"?glass=open", http.StatusSeeOther)
	return nil
}

// codingReturn is where a break of the glass may send the user back to
// instead of the patient's chart: a stay's coding workspace.
const codingReturn = "/coding/encounters/"

// returnPath reports whether next is a clean local path under
// codingReturn: no scheme, host, query, backslash or dot segment, so a form
// cannot send the user anywhere else.
func returnPath(next string) bool {
	return len(next) > len(codingReturn) && strings.HasPrefix(next, codingReturn) &&
		!strings.ContainsAny(next, "?#\\%") && path.Clean(next) == next
}
