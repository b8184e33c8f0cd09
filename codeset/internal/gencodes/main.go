// Command gencodes distils the public ICD-10-CM, ICD-10-PCS and Medicare
// Code Editor files into the compact code-set files that package codeset
// embeds (codeset/data/icd10cm.txt.gz and codeset/data/icd10pcs.txt.gz).
//
// Usage (normally through go generate in package codeset):
//
//	go run ./internal/gencodes -src ../../shared/data -out data
//
// The output is line-oriented UTF-8 text, gzip-compressed, one record per
// line with tab-separated fields; the first field names the record:
//
//	#	comment (source and format version)
//	E	system  edition-label  titles-from (YYYYMMDD)  titles-to  validity-from  validity-to
//	G	MCE age group  low  high  from  to
//	K	chapter number  first-last  title
//	S	block first-last  title  category,category,...
//	C	code (no dot)  title (may be empty)  title-edition
//	N	note kind  text            (attaches to the last K, S or C record)
//	V	from  to  MCE attributes   (attaches to the last C record: reportable
//	                                on every date from..to inclusive)
//
// Dates are YYYYMMDD. Codes appear in code order; the hierarchy is rebuilt by
// the loader from the codes themselves (ICD-10 codes extend their parents).
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	src := flag.String("src", "../../shared/data", "directory holding icd10cm/, icd10pcs/ and mce/")
	out := flag.String("out", "data", "directory to write icd10cm.txt.gz and icd10pcs.txt.gz to")
	flag.Parse()
	files, err := Generate(*src)
	if err != nil {
		log.Fatalf("gencodes: %v", err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(*out, name), Compress(text), 0o644); err != nil {
			log.Fatalf("gencodes: %v", err)
		}
	}
}

// Generate returns the uncompressed text of each output file by name.
func Generate(src string) (map[string][]byte, error) {
	cm, err := genCM(src)
	if err != nil {
		return nil, fmt.Errorf("icd10cm: %w", err)
	}
	pcs, err := genPCS(src)
	if err != nil {
		return nil, fmt.Errorf("icd10pcs: %w", err)
	}
	return map[string][]byte{"icd10cm.txt.gz": cm, "icd10pcs.txt.gz": pcs}, nil
}

// Compress gzips b at the best compression, with no name or time in the
// header so the output depends on the input only.
func Compress(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

type validity struct{ from, to, attrs string }

// readMCE reads an MCE code master: code → its date ranges with attributes.
func readMCE(path string) (map[string][]validity, error) {
	rows, err := readTSV(path)
	if err != nil {
		return nil, err
	}
	m := map[string][]validity{}
	for _, r := range rows[1:] {
		if len(r) < 3 {
			return nil, fmt.Errorf("%s: short row %q", path, r)
		}
		attrs := ""
		if len(r) > 3 {
			attrs = r[3]
		}
		m[r[0]] = append(m[r[0]], validity{compact(r[1]), compact(r[2]), attrs})
	}
	for _, vs := range m {
		sort.Slice(vs, func(i, j int) bool { return vs[i].from < vs[j].from })
	}
	return m, nil
}

func compact(date string) string { return strings.ReplaceAll(date, "-", "") }

// readTSV reads a tab-separated file, gzip-compressed if its name ends in .gz.
func readTSV(path string) ([][]string, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		rows = append(rows, strings.Split(strings.TrimRight(line, "\r"), "\t"))
	}
	return rows, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !strings.HasSuffix(path, ".gz") {
		return io.ReadAll(f)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(zr)
}

// clean makes a field safe for the tab-separated format.
func clean(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.TrimSpace(s)
}

type writer struct{ bytes.Buffer }

func (w *writer) rec(fields ...string) {
	for i, f := range fields {
		if i > 0 {
			w.WriteByte('\t')
		}
		w.WriteString(clean(f))
	}
	w.WriteByte('\n')
}

func (w *writer) validity(vs []validity) {
	for _, v := range vs {
		w.rec("V", v.from, v.to, v.attrs)
	}
}

// ageGroups writes the MCE age groups.
func ageGroups(w *writer, src string) error {
	rows, err := readTSV(filepath.Join(src, "mce", "mce_age_ranges.tsv"))
	if err != nil {
		return err
	}
	for _, r := range rows[1:] {
		if len(r) != 5 {
			return fmt.Errorf("mce_age_ranges.tsv: row %q", r)
		}
		w.rec("G", strings.ToUpper(r[0]), r[1], r[2], compact(r[3]), compact(r[4]))
	}
	return nil
}

// noteKinds maps the source's note keys to the record's kinds, in the order
// the tabular prints them.
var noteKinds = []struct{ key, kind string }{
	{"inclusion_terms", "inclusion"},
	{"includes", "includes"},
	{"notes", "note"},
	{"excludes1", "excludes1"},
	{"excludes2", "excludes2"},
	{"code_first", "codeFirst"},
	{"use_additional_code", "useAdditional"},
	{"code_also", "codeAlso"},
	{"seventh_char_note", "seventhNote"},
	{"seventh_char", "seventh"},
}

type cmRow struct {
	Code  string              `json:"code"`
	Title string              `json:"title"`
	Notes map[string][]string `json:"notes"`
}

func genCM(src string) ([]byte, error) {
	dir := filepath.Join(src, "icd10cm")
	raw, err := readFile(filepath.Join(dir, "icd10cm_fy2025_codes.jsonl.gz"))
	if err != nil {
		return nil, err
	}
	var rows []cmRow
	seen := map[string]bool{}
	chapterNotes := map[string]map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for dec.More() {
		var r cmRow
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		if seen[r.Code] {
			return nil, fmt.Errorf("duplicate code %s", r.Code)
		}
		if strings.HasPrefix(r.Code, "CH") {
			// chapter rows (CH01…): their notes are the FY2025 chapter notes
			chapterNotes[strings.TrimLeft(r.Code[2:], "0")] = r.Notes
			continue
		}
		seen[r.Code] = true
		rows = append(rows, r)
	}
	mce, err := readMCE(filepath.Join(src, "mce", "mce_i10_dx_master.tsv.gz"))
	if err != nil {
		return nil, err
	}
	tab, err := readTabular2021(filepath.Join(dir, "fy2021-cdc-original", "icd10cm_tabular_2021.xml.gz"))
	if err != nil {
		return nil, err
	}
	old, err := readOrder2021(filepath.Join(dir, "fy2021-cdc-original", "icd10cm_order_2021_jan.txt.gz"))
	if err != nil {
		return nil, err
	}
	// Codes that were reportable in some year but are not in the FY2025
	// list (deleted earlier, or added in FY2026) still need a record so
	// their validity can be answered; FY2021 supplies titles for the older
	// ones. FY2021 headers absent from FY2025 come too, as their parents.
	extra := map[string]string{}
	for code := range mce {
		if !seen[code] {
			extra[code] = ""
		}
	}
	for code, o := range old {
		if !seen[code] {
			extra[code] = "2021"
			_ = o
		}
	}
	type entry struct {
		code, title, edition string
		notes                map[string][]string
	}
	var all []entry
	for _, r := range rows {
		all = append(all, entry{r.Code, r.Title, "2025", r.Notes})
	}
	for code, ed := range extra {
		title := ""
		if ed != "" {
			title = old[code]
		}
		all = append(all, entry{code: code, title: title, edition: ed})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].code < all[j].code })

	w := &writer{}
	w.rec("#", "custodian codeset 1", "ICD-10-CM FY2025 titles and tabular notes, chapter notes included (WorldOfTaxonomy flattening of CMS icd10cm_tabular_2025.xml); chapter ranges, blocks and block notes from the CDC FY2021 tabular; validity and MCE attributes from CMS MCE v43.1")
	w.rec("E", "icd10cm", "FY2025", "20241001", "20250930", "20151001", "20260930")
	if err := ageGroups(w, src); err != nil {
		return nil, err
	}
	// Every category of any year is assigned to a block: by the FY2021
	// tabular where it was there, otherwise by the narrowest block range
	// that holds it.
	cats := map[string]bool{}
	for _, e := range all {
		if len(e.code) >= 3 {
			cats[e.code[:3]] = true
		}
	}
	for cat := range cats {
		if _, ok := tab.blockOf[cat]; ok {
			continue
		}
		// In code order a letter follows the digits (I16, I1A, I20), so a
		// category added after FY2021 belongs to the block with the
		// greatest first category not after it, within its letter.
		best := -1
		for i, b := range tab.blocks {
			lo, hi := blockRange(b.id)
			if cat >= lo && cat <= hi && (best < 0 || narrower(b.id, tab.blocks[best].id)) {
				best = i
			}
		}
		if best < 0 {
			for i, b := range tab.blocks {
				lo, _ := blockRange(b.id)
				if lo[0] == cat[0] && lo <= cat && (best < 0 || lo > tab.blocks[best].id[:3]) {
					best = i
				}
			}
		}
		if best < 0 {
			return nil, fmt.Errorf("category %s is in no block", cat)
		}
		tab.blockOf[cat] = best
	}
	members := make([][]string, len(tab.blocks))
	for cat, b := range tab.blockOf {
		members[b] = append(members[b], cat)
	}
	for ci, ch := range tab.chapters {
		w.rec("K", ch.id, ch.rng, ch.title)
		if n, ok := chapterNotes[ch.id]; ok {
			writeNotes(w, n)
		} else {
			writeNotes(w, ch.notes)
		}
		for bi, b := range tab.blocks {
			if b.chapter != ci {
				continue
			}
			sort.Strings(members[bi])
			w.rec("S", b.id, b.title, strings.Join(members[bi], ","))
			writeNotes(w, b.notes)
		}
	}
	for _, e := range all {
		w.rec("C", e.code, e.title, e.edition)
		writeNotes(w, e.notes)
		w.validity(mce[e.code])
	}
	return w.Bytes(), nil
}

func writeNotes(w *writer, notes map[string][]string) {
	for _, k := range noteKinds {
		for _, text := range notes[k.key] {
			text = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), ","))
			if text == "" {
				continue
			}
			w.rec("N", k.kind, text)
		}
	}
}

func blockRange(id string) (lo, hi string) {
	lo, hi, ok := strings.Cut(id, "-")
	if !ok {
		hi = lo
	}
	return lo, hi
}

func narrower(a, b string) bool {
	alo, ahi := blockRange(a)
	blo, bhi := blockRange(b)
	return alo >= blo && ahi <= bhi
}

type group struct {
	id, rng, title string
	chapter        int
	notes          map[string][]string
}

type tabular struct {
	chapters []group
	blocks   []group
	blockOf  map[string]int // category → index in blocks
}

// readTabular2021 reads the chapters and blocks (sections) of the FY2021
// tabular with their notes, and which block each category is in.
func readTabular2021(path string) (*tabular, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	type noteList struct {
		Note []string `xml:"note"`
	}
	type notes struct {
		Includes          []noteList `xml:"includes"`
		InclusionTerm     []noteList `xml:"inclusionTerm"`
		Notes             []noteList `xml:"notes"`
		Excludes1         []noteList `xml:"excludes1"`
		Excludes2         []noteList `xml:"excludes2"`
		CodeFirst         []noteList `xml:"codeFirst"`
		UseAdditionalCode []noteList `xml:"useAdditionalCode"`
		CodeAlso          []noteList `xml:"codeAlso"`
	}
	type diag struct {
		Name string `xml:"name"`
	}
	type section struct {
		ID   string `xml:"id,attr"`
		Desc string `xml:"desc"`
		notes
		Diag []diag `xml:"diag"`
	}
	type chapter struct {
		Name string `xml:"name"`
		Desc string `xml:"desc"`
		notes
		Section []section `xml:"section"`
	}
	var doc struct {
		Chapter []chapter `xml:"chapter"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	flat := func(n notes) map[string][]string {
		m := map[string][]string{}
		add := func(key string, ls []noteList) {
			for _, l := range ls {
				m[key] = append(m[key], l.Note...)
			}
		}
		add("includes", n.Includes)
		add("inclusion_terms", n.InclusionTerm)
		add("notes", n.Notes)
		add("excludes1", n.Excludes1)
		add("excludes2", n.Excludes2)
		add("code_first", n.CodeFirst)
		add("use_additional_code", n.UseAdditionalCode)
		add("code_also", n.CodeAlso)
		return m
	}
	t := &tabular{blockOf: map[string]int{}}
	for ci, ch := range doc.Chapter {
		title, rng := splitRange(ch.Desc)
		t.chapters = append(t.chapters, group{id: ch.Name, rng: rng, title: title, notes: flat(ch.notes)})
		for _, s := range ch.Section {
			title, _ := splitRange(s.Desc)
			id := s.ID
			if !strings.Contains(id, "-") {
				id = id + "-" + id
			}
			t.blocks = append(t.blocks, group{id: id, title: title, chapter: ci, notes: flat(s.notes)})
			for _, d := range s.Diag {
				t.blockOf[d.Name] = len(t.blocks) - 1
			}
		}
	}
	if len(t.chapters) == 0 || len(t.blocks) == 0 {
		return nil, fmt.Errorf("%s: no chapters or sections", path)
	}
	return t, nil
}

// splitRange splits "Intestinal infectious diseases (A00-A09)" into its
// title and range.
func splitRange(desc string) (title, rng string) {
	desc = strings.TrimSpace(desc)
	i := strings.LastIndex(desc, " (")
	if i < 0 || !strings.HasSuffix(desc, ")") {
		return desc, ""
	}
	return desc[:i], desc[i+2 : len(desc)-1]
}

// readOrder2021 reads the FY2021 order file: code → long title.
func readOrder2021(path string) (map[string]string, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 78 {
			continue
		}
		m[strings.TrimSpace(line[6:13])] = strings.TrimSpace(line[77:])
	}
	return m, sc.Err()
}

func genPCS(src string) ([]byte, error) {
	rows, err := readTSV(filepath.Join(src, "icd10pcs", "icd10pcs_fy2025_codes.tsv.gz"))
	if err != nil {
		return nil, err
	}
	mce, err := readMCE(filepath.Join(src, "mce", "mce_i10_pcs_master.tsv.gz"))
	if err != nil {
		return nil, err
	}
	type entry struct{ code, title, edition, definition string }
	seen := map[string]bool{}
	var all []entry
	for _, r := range rows[1:] {
		if len(r) != 6 {
			return nil, fmt.Errorf("icd10pcs_fy2025_codes.tsv: row %q", r)
		}
		e := entry{code: r[0], title: r[4], edition: "2025"}
		if r[1] == "3" {
			// the root operation's definition, from the PCS tables; the
			// level 1 and 2 descriptions are not CMS text and are left out.
			e.definition = r[5]
		}
		seen[e.code] = true
		all = append(all, e)
	}
	for code := range mce {
		if !seen[code] {
			all = append(all, entry{code: code})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].code < all[j].code })
	w := &writer{}
	w.rec("#", "custodian codeset 1", "ICD-10-PCS FY2025 titles (WorldOfTaxonomy flattening of the CMS FY2025 PCS tables); validity and MCE attributes from CMS MCE v43.1")
	w.rec("E", "icd10pcs", "FY2025", "20241001", "20250930", "20151001", "20260930")
	for _, e := range all {
		w.rec("C", e.code, e.title, e.edition)
		if e.definition != "" {
			w.rec("N", "definition", e.definition)
		}
		w.validity(mce[e.code])
	}
	return w.Bytes(), nil
}
