package roi

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian/store"
	"github.com/go-pdf/fpdf"
)

// Page layout, in millimetres (US Letter).
const (
	margin     = 18.0
	pageW      = 215.9
	pageH      = 279.4
	bodyW      = pageW - 2*margin
	lineH      = 4.6
	bottomEdge = 20.0
)

// tocEntry is one line of the table of contents.
type tocEntry struct {
	title string
	page  int
	link  int
}

// pdfWriter renders a packet.
type pdfWriter struct {
	f   *fpdf.Fpdf
	tr  func(string) string
	in  *packetInput
	toc []*tocEntry
}

// renderPDF renders the packet as a PDF and returns it with its page count.
func renderPDF(in *packetInput) ([]byte, int, error) {
	f := fpdf.New("P", "mm", "Letter", "")
	f.SetCreationDate(in.time)
	f.SetModificationDate(in.time)
	f.SetCatalogSort(true)
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, bottomEdge)
	f.AliasNbPages("{nb}")
	w := &pdfWriter{f: f, tr: f.UnicodeTranslatorFromDescriptor(""), in: in}
	f.SetTitle("Release of information "+in.req.Number, true)
	f.SetCreator("Custodian", true)
	f.SetProducer("Custodian", true)
	name, dob := patientName(in.patient)
	f.SetHeaderFunc(func() {
		f.SetFont("Helvetica", "", 7.5)
		f.SetTextColor(90, 90, 90)
		f.SetXY(margin, 8)
		f.CellFormat(bodyW, 4, w.tr(orgName(in)+" - Release of information - CONFIDENTIAL"), "", 0, "L", false, 0, "")
		f.SetTextColor(0, 0, 0)
		f.SetY(margin)
	})
	f.SetFooterFunc(func() {
		f.SetY(-13)
		f.SetFont("Helvetica", "", 8)
		f.SetTextColor(60, 60, 60)
		label := "Patient: " + name
		if dob != "" {
			label += " (born " + dob + ")"
		}
		f.CellFormat(bodyW*0.6, 4, w.tr(label+"   Request "+in.req.Number), "T", 0, "L", false, 0, "")
		f.CellFormat(bodyW*0.4, 4, "Page "+strconv.Itoa(f.PageNo())+" of {nb}", "T", 0, "R", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	w.cover(name, dob)
	w.contents()
	w.records()
	for i, e := range w.toc {
		f.RegisterAlias(tocAliasN(i), strconv.Itoa(e.page))
		f.SetLink(e.link, 0, e.page)
	}
	var b bytes.Buffer
	pages := f.PageCount()
	if err := f.Output(&b); err != nil {
		return nil, 0, err
	}
	return b.Bytes(), pages, nil
}

func orgName(in *packetInput) string {
	if in.org != "" {
		return in.org
	}
	return "Health Information Management"
}

// patientName returns the patient's name and birth date.
func patientName(pt *store.Resource) (string, string) {
	tree, _ := store.Decode(pt.Body)
	names := list(tree, "name")
	var name string
	for _, n := range names {
		if str(n, "use") == "official" || name == "" {
			if t := str(n, "text"); t != "" {
				name = t
				continue
			}
			var given []string
			if gs, ok := n["given"].([]any); ok {
				for _, g := range gs {
					if s, ok := g.(string); ok {
						given = append(given, s)
					}
				}
			}
			name = strings.TrimSpace(strings.Join(given, " ") + " " + str(n, "family"))
		}
	}
	if name == "" {
		name = "Patient/" + pt.ID
	}
	return name, str(tree, "birthDate")
}

func (w *pdfWriter) heading(s string) {
	w.f.SetFont("Helvetica", "B", 13)
	w.f.MultiCell(bodyW, 6.5, w.tr(s), "", "L", false)
	w.f.Ln(1.5)
	w.f.SetFont("Helvetica", "", 10)
}

func (w *pdfWriter) para(s string) {
	w.f.SetFont("Helvetica", "", 10)
	w.f.MultiCell(bodyW, lineH+0.4, w.tr(s), "", "L", false)
	w.f.Ln(1.5)
}

func (w *pdfWriter) field(label, value string) {
	w.f.SetFont("Helvetica", "B", 10)
	w.f.CellFormat(42, lineH+0.6, w.tr(label), "", 0, "L", false, 0, "")
	w.f.SetFont("Helvetica", "", 10)
	w.f.MultiCell(bodyW-42, lineH+0.6, w.tr(value), "", "L", false)
}

// cover writes the cover letter.
func (w *pdfWriter) cover(name, dob string) {
	in, r, f := w.in, w.in.req, w.f
	f.AddPage()
	w.heading(orgName(in) + " - Release of information")
	w.para(day(in.time))
	w.field("To", r.RequesterName+addr(r.RequesterAddress))
	w.field("Patient", name+bornText(dob))
	w.field("Request number", r.Number)
	w.field("Received", day(r.Received))
	w.field("Purpose", Purposes[r.Purpose]+textIf(r.PurposeText))
	w.field("Legal basis", basisText(r, in.auth))
	w.field("Records asked for", typesText(r.Types)+", "+rangeText(r))
	f.Ln(3)
	counts := map[string]int{}
	for _, it := range in.items {
		counts[it.Type]++
	}
	var inc []string
	for _, t := range typeOrder {
		if counts[t] > 0 {
			inc = append(inc, fmt.Sprintf("%d %s", counts[t], RecordTypes[t]))
		}
	}
	if len(inc) == 0 {
		inc = []string{"no records matched the request"}
	}
	w.para("Enclosed are copies of the records listed in the table of contents that follows: " + strings.Join(inc, "; ") + ".")
	if len(r.Categories) > 0 {
		var names []string
		for _, c := range r.Categories {
			for _, cat := range in.cats {
				if cat.Code == c {
					names = append(names, cat.Name+" ("+cat.Regulation+")")
				}
			}
		}
		w.para("Sensitive records are included because the legal basis above names them: " + strings.Join(names, "; ") + ".")
	}
	// The recipient learns why records were withheld, but never which
	// sensitive category they fall in: even that a patient has substance
	// use treatment records is protected (42 CFR 2.13(c)). The Task keeps
	// the detailed reasons for the specialist.
	public := map[string]int{}
	for k, n := range in.excluded {
		public[publicReason(k)] += n
	}
	reasons := slices.Sorted(maps.Keys(public))
	if len(reasons) > 0 {
		var lines []string
		for _, k := range reasons {
			lines = append(lines, fmt.Sprintf("- %d record(s): %s", public[k], k))
		}
		w.para("Records of this patient that were not released, and why (minimum necessary):\n" + strings.Join(lines, "\n"))
	} else {
		w.para("No record within the request was withheld.")
	}
	if slices.Contains(r.Categories, SubstanceUse) {
		w.para("Notice: records of substance use disorder treatment are protected by federal confidentiality rules (42 CFR Part 2). " +
			"The recipient may not use or disclose them further except as those rules permit, and may not use them to investigate or prosecute the patient.")
	}
	w.para("Each page of this packet shows the patient, the request number and its page number. The same content is delivered as a FHIR Bundle.")
}

// ScopeReason is what the cover letter says of records withheld because
// of their sensitivity, whatever the category.
const ScopeReason = "not within the scope of the authorization or legal basis of this release"

// publicReason is the reason for leaving records out that the recipient
// may read.
func publicReason(r string) string {
	switch r {
	case "outside the date range", "no date to check against the date range", "entered in error", "record type not selected":
		return r
	}
	return ScopeReason
}

func addr(a string) string {
	if a == "" {
		return ""
	}
	return "\n" + a
}

func bornText(dob string) string {
	if dob == "" {
		return ""
	}
	return ", born " + dob
}

func textIf(s string) string {
	if s == "" {
		return ""
	}
	return " - " + s
}

func basisText(r *Request, a *Authorization) string {
	switch r.Basis {
	case BasisIndividual:
		return "the individual's right of access (45 CFR 164.524); identity verified: " + r.IdentityVerified
	case BasisAuthorization:
		if a == nil {
			return "the patient's authorization"
		}
		return fmt.Sprintf("the patient's authorization Consent/%s signed %s, valid until %s", a.ID, day(a.Signed), day(a.Expires))
	case BasisTPO:
		return "treatment, payment or health care operations (45 CFR 164.506)"
	case BasisCourtOrder:
		return "court order: " + r.LegalAuthority
	case BasisLaw:
		return "required or permitted by law: " + r.LegalAuthority
	}
	return string(r.Basis)
}

func typesText(types []string) string {
	var out []string
	for _, t := range typeOrder {
		if slices.Contains(types, t) {
			out = append(out, RecordTypes[t])
		}
	}
	return strings.Join(out, ", ")
}

func rangeText(r *Request) string {
	switch {
	case r.From.IsZero() && r.To.IsZero():
		return "all dates"
	case r.From.IsZero():
		return "up to " + day(r.To)
	case r.To.IsZero():
		return "from " + day(r.From)
	}
	return "from " + day(r.From) + " to " + day(r.To)
}

// section is one entry of the table of contents: a document, or a table
// of records of one type.
type section struct {
	title string
	items []*store.Resource
	doc   bool
}

func (w *pdfWriter) sections() []section {
	var out []section
	for _, typ := range typeOrder {
		var group []*store.Resource
		for _, it := range w.in.items {
			if it.Type == typ {
				group = append(group, it)
			}
		}
		if len(group) == 0 {
			continue
		}
		if typ == "DocumentReference" {
			for _, it := range group {
				tree, _ := store.Decode(it.Body)
				title := display(obj(tree, "type"))
				if title == "" {
					title = "Document"
				}
				out = append(out, section{title: dateOf(typ, tree) + "  " + title, items: []*store.Resource{it}, doc: true})
			}
			continue
		}
		out = append(out, section{title: strings.ToUpper(RecordTypes[typ][:1]) + RecordTypes[typ][1:] + fmt.Sprintf(" (%d)", len(group)), items: group})
	}
	return out
}

func dateOf(typ string, tree map[string]any) string {
	if d := recordDate(typ, tree); !d.IsZero() {
		return day(d)
	}
	return "undated"
}

// contents writes the table of contents with page-number placeholders.
func (w *pdfWriter) contents() {
	f := w.f
	f.AddPage()
	w.heading("Contents")
	f.SetFont("Helvetica", "", 9.5)
	for i, s := range w.sections() {
		e := &tocEntry{title: s.title, link: f.AddLink()}
		w.toc = append(w.toc, e)
		f.CellFormat(bodyW-20, 5, w.tr(fit(f, w.tr(s.title), bodyW-22)), "", 0, "L", false, e.link, "")
		f.CellFormat(20, 5, tocAliasN(i), "", 1, "L", false, e.link, "")
	}
}

// tocAliasN is the placeholder for entry i: unique, and no prefix of
// another.
func tocAliasN(i int) string { return fmt.Sprintf("{p%06d}", i) }

// fit shortens s to fit width w.
func fit(f *fpdf.Fpdf, s string, w float64) string {
	if f.GetStringWidth(s) <= w {
		return s
	}
	for len(s) > 1 && f.GetStringWidth(s+"...") > w {
		s = s[:len(s)-1]
	}
	return s + "..."
}

// records writes each section.
func (w *pdfWriter) records() {
	for i, s := range w.sections() {
		w.f.AddPage()
		w.toc[i].page = w.f.PageNo()
		if s.doc {
			w.document(s.items[0])
			continue
		}
		w.heading(s.title)
		w.table(s.items)
	}
}

// document renders a DocumentReference: its details, then each content.
func (w *pdfWriter) document(res *store.Resource) {
	f := w.f
	tree, _ := store.Decode(res.Body)
	title := display(obj(tree, "type"))
	if title == "" {
		title = "Document"
	}
	w.heading(title)
	w.field("Date", dateOf("DocumentReference", tree))
	var authors []string
	for _, a := range list(tree, "author") {
		if d := str(a, "display"); d != "" {
			authors = append(authors, d)
		}
	}
	if len(authors) > 0 {
		w.field("Author", strings.Join(authors, "; "))
	}
	if a := str(obj(tree, "authenticator"), "display"); a != "" {
		w.field("Signed by", a)
	}
	w.field("Status", strings.TrimSpace(str(tree, "docStatus")+" "+str(tree, "status")))
	w.field("Record", "DocumentReference/"+res.ID+" version "+strconv.FormatInt(res.VersionID, 10))
	f.Ln(3)
	for i, c := range list(tree, "content") {
		att := obj(c, "attachment")
		ct := strings.ToLower(strings.TrimSpace(strings.Split(str(att, "contentType"), ";")[0]))
		var data []byte
		if d := str(att, "data"); d != "" {
			data, _ = base64.StdEncoding.DecodeString(d)
		} else if id, ok := strings.CutPrefix(str(att, "url"), "Binary/"); ok {
			data = w.in.content[id]
		}
		switch {
		case strings.HasPrefix(ct, "text/"):
			f.SetFont("Courier", "", 9)
			f.MultiCell(bodyW, 4.2, w.tr(strings.ReplaceAll(string(data), "\r\n", "\n")), "", "L", false)
			f.SetFont("Helvetica", "", 10)
		case ct == "image/jpeg" || ct == "image/png":
			w.image(res.ID+"-"+strconv.Itoa(i), ct, data)
		case ct == "application/pdf":
			w.para(fmt.Sprintf("[PDF attachment %q, %d bytes: delivered as a file in the FHIR Bundle (Binary %s).]", str(att, "title"), len(data), strings.TrimPrefix(str(att, "url"), "Binary/")))
		default:
			w.para(fmt.Sprintf("[Attachment of type %s, %d bytes: delivered in the FHIR Bundle.]", ct, len(data)))
		}
		f.Ln(2)
	}
}

// image places a scanned image, scaled to the page width and height left.
func (w *pdfWriter) image(name, ct string, data []byte) {
	f := w.f
	typ := "PNG"
	if ct == "image/jpeg" {
		typ = "JPG"
	}
	opt := fpdf.ImageOptions{ImageType: typ}
	info := f.RegisterImageOptionsReader(name, opt, bytes.NewReader(data))
	if !f.Ok() || info == nil {
		f.ClearError()
		w.para("[The scanned image could not be read; it is delivered in the FHIR Bundle.]")
		return
	}
	iw, ih := info.Extent()
	if iw <= 0 || ih <= 0 {
		return
	}
	wd := bodyW
	ht := ih * wd / iw
	maxH := pageH - bottomEdge - margin - 6
	if ht > maxH {
		ht, wd = maxH, iw*maxH/ih
	}
	if f.GetY()+ht > pageH-bottomEdge {
		f.AddPage()
	}
	f.ImageOptions(name, margin, f.GetY(), wd, ht, true, opt, 0, "")
}

// table renders records of one type as rows: date, description, value,
// detail.
func (w *pdfWriter) table(items []*store.Resource) {
	f := w.f
	cols := []float64{24, 70, 45, bodyW - 139}
	head := []string{"Date", "Description", "Result / status", "Detail"}
	if items[0].Type == "Observation" {
		head = []string{"Date", "Test", "Result", "Reference range / flag"}
	}
	printHead := func() {
		f.SetFont("Helvetica", "B", 8.5)
		f.SetFillColor(230, 230, 230)
		for i, h := range head {
			f.CellFormat(cols[i], 5.5, h, "1", 0, "L", true, 0, "")
		}
		f.Ln(-1)
		f.SetFont("Helvetica", "", 8.5)
	}
	printHead()
	for _, it := range items {
		if f.GetY()+5 > pageH-bottomEdge {
			f.AddPage()
			printHead()
		}
		tree, _ := store.Decode(it.Body)
		row := rowOf(it.Type, tree)
		for i, c := range row {
			f.CellFormat(cols[i], 5, fit(f, w.tr(c), cols[i]-1.5), "1", 0, "L", false, 0, "")
		}
		f.Ln(-1)
	}
}

// rowOf is a record's table row.
func rowOf(typ string, t map[string]any) [4]string {
	d := dateOf(typ, t)
	switch typ {
	case "Observation":
		val := quantity(obj(t, "valueQuantity"))
		if val == "" {
			val = str(t, "valueString")
		}
		if val == "" {
			val = display(obj(t, "valueCodeableConcept"))
		}
		var rr []string
		for _, r := range list(t, "referenceRange") {
			lo, hi := quantity(obj(r, "low")), quantity(obj(r, "high"))
			if s := str(r, "text"); s != "" {
				rr = append(rr, s)
			} else if lo != "" || hi != "" {
				rr = append(rr, lo+" - "+hi)
			}
		}
		for _, in := range list(t, "interpretation") {
			rr = append(rr, display(in))
		}
		return [4]string{d, display(obj(t, "code")), val, strings.Join(rr, "; ")}
	case "Encounter":
		var types []string
		for _, ty := range list(t, "type") {
			types = append(types, display(ty))
		}
		return [4]string{d, strings.Join(types, ", ") + " " + display(obj(t, "serviceType")), str(t, "status"), str(obj(t, "class"), "display") + " " + str(obj(t, "class"), "code")}
	case "Condition":
		return [4]string{d, display(obj(t, "code")), display(obj(t, "clinicalStatus")), codeOf(obj(t, "code"), icd10cm)}
	case "MedicationRequest":
		var dose []string
		for _, di := range list(t, "dosageInstruction") {
			dose = append(dose, str(di, "text"))
		}
		return [4]string{d, display(obj(t, "medicationCodeableConcept")), str(t, "status"), strings.Join(dose, "; ")}
	case "AllergyIntolerance":
		return [4]string{d, display(obj(t, "code")), display(obj(t, "clinicalStatus")), str(t, "criticality")}
	case "Immunization":
		return [4]string{d, display(obj(t, "vaccineCode")), str(t, "status"), str(t, "lotNumber")}
	}
	return [4]string{d, display(obj(t, "code")), str(t, "status"), display(obj(t, "conclusionCode"))}
}

func quantity(q map[string]any) string {
	if q == nil {
		return ""
	}
	v := ""
	switch x := q["value"].(type) {
	case string:
		v = x
	case fmt.Stringer:
		v = x.String()
	case float64:
		v = strconv.FormatFloat(x, 'f', -1, 64)
	}
	if u := str(q, "unit"); u != "" {
		v += " " + u
	} else if c := str(q, "code"); c != "" {
		v += " " + c
	}
	return strings.TrimSpace(v)
}
