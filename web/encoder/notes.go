package encoder

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/custodian-him/custodian/coding"
)

// note is one document of the encounter as the workspace shows it.
type note struct {
	ID    string // "DocumentReference/id"
	Title string
	Date  string // YYYY-MM-DD (when signed, or written)
	When  string // for sorting: the full date
	Text  string
	// HTML is the text with the selected suggestion's evidence marked;
	// Marks counts the marks.
	HTML  template.HTML
	Marks int
}

// notes reads the plain-text notes of an encounter, oldest first. A note
// without readable text is left out: there is nothing in it to code from.
func (p *pages) notes(ctx context.Context, encID string) ([]*note, error) {
	qu, err := p.q.Store.ParseQueryString("DocumentReference", "encounter=Encounter/"+encID+"&_count=200")
	if err != nil {
		return nil, err
	}
	var out []*note
	for {
		page, err := p.q.Store.Search(ctx, qu)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Resources {
			if n := readNote(r.Body); n != nil {
				n.ID = "DocumentReference/" + r.ID
				out = append(out, n)
			}
		}
		if page.Next == "" {
			break
		}
		qu.Cursor = page.Next
	}
	slices.SortStableFunc(out, func(a, b *note) int { return cmp.Or(strings.Compare(a.When, b.When), strings.Compare(a.ID, b.ID)) })
	return out, nil
}

func readNote(body []byte) *note {
	var d struct {
		Description string
		Date        string
		Type        struct {
			Text   string
			Coding []struct{ Display string }
		}
		Content []struct {
			Attachment struct{ ContentType, Data, Title, Creation string }
		}
	}
	if json.Unmarshal(body, &d) != nil {
		return nil
	}
	n := &note{Title: d.Type.Text, When: d.Date}
	if n.Title == "" && len(d.Type.Coding) > 0 {
		n.Title = d.Type.Coding[0].Display
	}
	var b strings.Builder
	for _, c := range d.Content {
		a := c.Attachment
		if !strings.HasPrefix(a.ContentType, "text/plain") || a.Data == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(a.Data)
		if err != nil || !utf8.Valid(raw) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.Write(raw)
		n.Title = cmp.Or(n.Title, a.Title)
		n.When = cmp.Or(n.When, a.Creation)
	}
	if b.Len() == 0 {
		return nil
	}
	n.Text = b.String()
	n.Title = cmp.Or(n.Title, d.Description, "Note")
	n.Date = n.When[:min(10, len(n.When))]
	return n
}

// mark renders text with the spans [Start, End) of ev marked. Spans that
// fall outside the text, overlap an earlier one or cut a character are
// skipped rather than trusted.
func mark(text string, ev []coding.Evidence, idPrefix string) (template.HTML, int) {
	ev = slices.Clone(ev)
	slices.SortFunc(ev, func(a, b coding.Evidence) int { return cmp.Compare(a.Start, b.Start) })
	var b strings.Builder
	pos, n := 0, 0
	for _, e := range ev {
		if e.Start < pos || e.End <= e.Start || e.End > len(text) ||
			!utf8.RuneStart(text[e.Start]) || (e.End < len(text) && !utf8.RuneStart(text[e.End])) {
			continue
		}
		b.WriteString(template.HTMLEscapeString(text[pos:e.Start]))
		b.WriteString(`<mark id="` + idPrefix + strconv.Itoa(n) + `">`)
		b.WriteString(template.HTMLEscapeString(text[e.Start:e.End]))
		b.WriteString(`</mark>`)
		pos = e.End
		n++
	}
	b.WriteString(template.HTMLEscapeString(text[pos:]))
	return template.HTML(b.String()), n
}
