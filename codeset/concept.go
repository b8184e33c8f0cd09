package codeset

import (
	"strings"
)

// Concept is one code of a system, billable or a header, of any year the
// system covers.
type Concept struct {
	cs       *CodeSystem
	code     string
	title    string
	edition  string // the edition the title comes from ("2025", "2021", "" if none)
	self     int32  // the concept's position in its system
	parent   int32
	children []int32
	block    int16 // ICD-10-CM block, -1 if none
	notes    []Note
	valid    []Validity
	// span is the first and last date on which the concept or any code
	// below it is reportable: the dates on which a header exists.
	spanFrom, spanTo Date
}

// Validity is a span of dates of service on which a code is reportable
// (valid for HIPAA transactions), with the MCE attributes it carries then.
type Validity struct {
	From, To Date
	attrs    string
}

// Attributes returns the MCE edit attributes (ADULT, MANIF, UNACCEPTABLE,
// NCOV_A, BILATERAL, …) of the span, nil if none.
func (v Validity) Attributes() []string {
	if v.attrs == "" {
		return nil
	}
	return strings.Split(v.attrs, ",")
}

// System returns the concept's code system.
func (c *Concept) System() *CodeSystem { return c.cs }

// Code returns the code as it is stored, without a dot ("E119").
func (c *Concept) Code() string { return c.code }

// Display returns the code as coders write it ("E11.9"; PCS codes have no
// dot).
func (c *Concept) Display() string { return c.cs.Dotted(c.code) }

// Title returns the long title, "" if the public source data has none
// (codes added after the titles' edition).
func (c *Concept) Title() string { return c.title }

// TitleEdition returns the fiscal year the title is taken from ("2025"),
// "" if there is no title.
func (c *Concept) TitleEdition() string { return c.edition }

// Label returns the title, or a plain statement that there is none.
func (c *Concept) Label() string {
	if c.title != "" {
		return c.title
	}
	return "(no title in the loaded " + c.cs.edition + " data)"
}

// Parent returns the concept this one extends, nil for a category (CM) or a
// section (PCS).
func (c *Concept) Parent() *Concept {
	if c.parent < 0 {
		return nil
	}
	return &c.cs.concepts[c.parent]
}

// Children returns the concepts directly below, in code order.
func (c *Concept) Children() []*Concept { return c.cs.list(c.children) }

// Ancestors returns the parents from the nearest up to the category or
// section.
func (c *Concept) Ancestors() []*Concept {
	var out []*Concept
	for p := c.Parent(); p != nil; p = p.Parent() {
		out = append(out, p)
	}
	return out
}

// Descendants calls yield for every concept below c, depth first in code
// order, until it returns false; it reports whether it ran to the end.
func (c *Concept) Descendants(yield func(*Concept) bool) bool {
	for _, id := range c.children {
		ch := &c.cs.concepts[id]
		if !yield(ch) || !ch.Descendants(yield) {
			return false
		}
	}
	return true
}

// IsA reports whether c is other or below it.
func (c *Concept) IsA(other *Concept) bool {
	return c.cs == other.cs && strings.HasPrefix(c.code, other.code)
}

// Block returns the ICD-10-CM block (A00-A09) the concept is in, nil if none.
func (c *Concept) Block() *Group {
	if c.block < 0 {
		return nil
	}
	return &c.cs.blocks[c.block]
}

// Chapter returns the ICD-10-CM chapter the concept is in, nil if none.
func (c *Concept) Chapter() *Group {
	if b := c.Block(); b != nil {
		return &c.cs.chapters[b.chapter]
	}
	return nil
}

// Validity returns the spans of dates on which the code is reportable, in
// date order; nil for a header.
func (c *Concept) Validity() []Validity { return c.valid }

// Billable reports whether the code is reportable on the date of service
// (the zero Date: the latest covered): a complete code, valid that day.
func (c *Concept) Billable(on Date) bool {
	_, ok := c.validityOn(c.cs.date(on))
	return ok
}

func (c *Concept) validityOn(d Date) (Validity, bool) {
	for _, v := range c.valid {
		if d >= v.From && d <= v.To {
			return v, true
		}
	}
	return Validity{}, false
}

// Exists reports whether the code is in the classification on the date: it
// is reportable, or it is a header with a reportable code below it.
func (c *Concept) Exists(on Date) bool {
	d := c.cs.date(on)
	return c.spanFrom != 0 && d >= c.spanFrom && d <= c.spanTo
}

// Span returns the first and last dates on which the concept exists.
func (c *Concept) Span() (from, to Date) { return c.spanFrom, c.spanTo }

// Attributes returns the MCE attributes the code carries on the date of
// service, nil if none or if it is not reportable then.
func (c *Concept) Attributes(on Date) []string {
	v, _ := c.validityOn(c.cs.date(on))
	return v.Attributes()
}

// Header reports whether the concept has codes below it (a category or
// subcategory that is never reported itself).
func (c *Concept) Header() bool { return len(c.children) > 0 }

// OwnNotes returns the notes written under this code.
func (c *Concept) OwnNotes() []Note { return c.notes }

// Notes returns every note that applies to the code: its own, then those
// inherited from its parents, block and chapter, nearest first. Following
// the ICD-10-CM conventions, inclusion terms are not inherited (they name
// what the code above them covers), and every instructional note is.
func (c *Concept) Notes() []Note {
	out := append([]Note(nil), c.notes...)
	for p := c.Parent(); p != nil; p = p.Parent() {
		for _, n := range p.notes {
			if n.Kind.Inherited() {
				out = append(out, n)
			}
		}
	}
	if b := c.Block(); b != nil {
		out = append(out, b.Notes...)
		out = append(out, c.Chapter().Notes...)
	}
	return out
}

// NotesOf returns the notes of one kind that apply to the code (its own
// and inherited), nearest first.
func (c *Concept) NotesOf(kind NoteKind) []Note {
	var out []Note
	for _, n := range c.Notes() {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// SeventhCharacter is a 7th character a code of this category takes, and
// what it means.
type SeventhCharacter struct {
	Char    byte
	Meaning string
	From    string // the code whose note defines it
}

// SeventhCharacters returns the 7th characters that apply to the concept,
// from the nearest definition above or at it; nil if none.
func (c *Concept) SeventhCharacters() []SeventhCharacter {
	for p := c; p != nil; p = p.Parent() {
		var out []SeventhCharacter
		for _, n := range p.notes {
			if n.Kind != NoteSeventh {
				continue
			}
			ch, meaning, ok := strings.Cut(n.Text, ":")
			if !ok || len(strings.TrimSpace(ch)) != 1 {
				continue
			}
			out = append(out, SeventhCharacter{Char: strings.TrimSpace(ch)[0], Meaning: strings.TrimSpace(meaning), From: p.code})
		}
		if out != nil {
			return out
		}
	}
	return nil
}

// Group is an ICD-10-CM chapter or block: a titled range of categories.
type Group struct {
	Kind    string // "chapter" or "block"
	ID      string // chapter number ("4"), or block range ("E08-E13")
	Range   string // first-last category ("E00-E89")
	Title   string
	Notes   []Note
	chapter int
}

// RequiresSeventh reports whether the code is incomplete without a 7th
// character: it has fewer than 7 characters and its category defines 7th
// characters (S72.001 needs A, D, …; pad with X placeholders as needed).
func (c *Concept) RequiresSeventh() bool {
	return len(c.code) < 7 && c.SeventhCharacters() != nil
}

// Excludes1Conflict returns the Excludes1 note (its own or inherited) of
// either code that names the other, and whether there is one: the two
// codes are then never reported together (unless, as the guidelines allow,
// the conditions are unrelated — a judgment for the coder).
func (c *Concept) Excludes1Conflict(other *Concept) (Note, bool) {
	for _, pair := range [2][2]*Concept{{c, other}, {other, c}} {
		for _, n := range pair[0].NotesOf(NoteExcludes1) {
			for _, r := range n.Refs() {
				if r.Contains(pair[1].code) {
					return n, true
				}
			}
		}
	}
	return Note{}, false
}
