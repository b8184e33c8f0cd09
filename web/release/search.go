package release

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/custodian-him/custodian"
)

// finder is the patient search a page starts from: POSTed, so names,
// birth dates and identifiers never travel in a URL.
type finder struct {
	// Action is the page the form posts to; Next the page a result links
	// to, with ?patient={id} added.
	Action, Next                string
	Name, BirthDate, Identifier string
	Searched                    bool
	Error                       string
	Results                     []patient
	More                        bool
}

var birthDateRE = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)

// maxField bounds each search field; no name or identifier is longer.
const maxField = 200

// find runs the search the POSTed form r asks for into f. An error the
// user can fix goes into f.Error; the status says how it went.
func (p *pages) find(ctx context.Context, r *http.Request, f *finder) (int, error) {
	f.Name = strings.TrimSpace(r.PostForm.Get("name"))
	f.BirthDate = strings.TrimSpace(r.PostForm.Get("birthdate"))
	f.Identifier = strings.TrimSpace(r.PostForm.Get("identifier"))
	err := p.search(ctx, f)
	if err == nil {
		f.Searched = true
		return http.StatusOK, nil
	}
	if custodian.ErrorCode(err) != custodian.EINVALID {
		return 0, err
	}
	f.Error = custodian.ErrorMessage(err)
	return http.StatusBadRequest, nil
}

func (p *pages) search(ctx context.Context, f *finder) error {
	if f.Name == "" && f.BirthDate == "" && f.Identifier == "" {
		return custodian.Errorf(custodian.EINVALID, "Enter a name, a birth date or an identifier (such as the MRN).")
	}
	if len(f.Name) > maxField || len(f.Identifier) > maxField {
		return custodian.Errorf(custodian.EINVALID, "A name or identifier is at most %d characters.", maxField)
	}
	vals := url.Values{"_count": {"50"}}
	if f.Name != "" {
		vals["name"] = strings.Fields(f.Name)
	}
	if f.BirthDate != "" {
		if !birthDateRE.MatchString(f.BirthDate) {
			return custodian.Errorf(custodian.EINVALID, "Write the birth date as YYYY-MM-DD (or YYYY-MM, or YYYY).")
		}
		vals.Set("birthdate", f.BirthDate)
	}
	if f.Identifier != "" {
		// Commas, pipes and dollars are search syntax: escaped.
		vals.Set("identifier", strings.NewReplacer(`\`, `\\`, `,`, `\,`, `|`, `\|`, `$`, `\$`).Replace(f.Identifier))
	}
	q, err := p.svc.Store.ParseQueryString("Patient", vals.Encode())
	if err != nil {
		return err
	}
	page, err := p.svc.Store.Search(ctx, q)
	if err != nil {
		return err
	}
	for _, res := range page.Resources {
		pt, err := patientOf(res)
		if err != nil {
			return err
		}
		f.Results = append(f.Results, *pt)
	}
	slices.SortStableFunc(f.Results, func(a, b patient) int { return strings.Compare(a.Name, b.Name) })
	f.More = page.Next != ""
	return nil
}
