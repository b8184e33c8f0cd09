package drg

import (
	"bufio"
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
)

// Weight is one DRG's row of a CMS "Table 5" (relative weights, geometric and
// arithmetic mean length of stay) for a fiscal year.
type Weight struct {
	DRG        int
	MDC        string
	Type       string // MED or SURG
	Title      string
	Weight     float64
	GMLOS      float64
	AMLOS      float64
	PostAcute  bool
	SpecialPay bool
}

// Weights is a site-supplied Table 5. CMS publishes it with each IPPS final
// rule; Custodian ships none, since the figures are not in the grouper's
// tables.
type Weights struct {
	byDRG map[int]Weight
}

// Len is the number of DRGs in the table.
func (w *Weights) Len() int { return len(w.byDRG) }

// Lookup returns a DRG's row.
func (w *Weights) Lookup(drg int) (Weight, bool) {
	if w == nil {
		return Weight{}, false
	}
	x, ok := w.byDRG[drg]
	return x, ok
}

// All returns every row, by DRG.
func (w *Weights) All() []Weight {
	out := make([]Weight, 0, len(w.byDRG))
	for _, x := range w.byDRG {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DRG < out[j].DRG })
	return out
}

// ReadWeights reads a Table 5 saved as tab-separated or comma-separated text
// (CMS's own text release, or the spreadsheet saved as CSV or TSV). Lines
// before the header are skipped (titles); the header must name the DRG,
// weight, geometric mean LOS and arithmetic mean LOS columns, which are found
// by name: "MS-DRG", "Weights" (or "Relative Weight"), "Geometric mean LOS"
// (or "GMLOS"), "Arithmetic mean LOS" (or "AMLOS"); "MDC", "TYPE",
// "MS-DRG Title" and the post-acute and special-pay DRG columns ("Yes"/"No")
// are read when present. An error names the line.
func ReadWeights(r io.Reader) (*Weights, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	w := &Weights{byDRG: map[int]Weight{}}
	col := map[string]int{}
	sep := ""
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if sep == "" {
			for _, s := range []string{"\t", ","} {
				if c := headerColumns(splitLine(text, s)); c != nil {
					col, sep = c, s
					break
				}
			}
			continue
		}
		f := splitLine(text, sep)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(f) {
				return strings.TrimSpace(f[i])
			}
			return ""
		}
		drgText := get("drg")
		if drgText == "" {
			continue
		}
		drg, err := strconv.Atoi(drgText)
		if err != nil || drg < 1 || drg > 999 {
			return nil, custodian.Errorf(custodian.EINVALID, "weights line %d: %q is not an MS-DRG number", line, drgText)
		}
		x := Weight{DRG: drg, MDC: get("mdc"), Type: get("type"), Title: get("title"),
			PostAcute: yes(get("postacute")), SpecialPay: yes(get("specialpay"))}
		for _, p := range []struct {
			name string
			v    *float64
		}{{"weight", &x.Weight}, {"gmlos", &x.GMLOS}, {"amlos", &x.AMLOS}} {
			s := strings.ReplaceAll(get(p.name), ",", "")
			if *p.v, err = strconv.ParseFloat(s, 64); err != nil || *p.v < 0 {
				return nil, custodian.Errorf(custodian.EINVALID, "weights line %d: DRG %03d: %s %q is not a number", line, drg, p.name, s)
			}
		}
		if _, dup := w.byDRG[drg]; dup {
			return nil, custodian.Errorf(custodian.EINVALID, "weights line %d: DRG %03d appears twice", line, drg)
		}
		w.byDRG[drg] = x
	}
	if err := sc.Err(); err != nil {
		return nil, custodian.Wrap(custodian.EINVALID, err, "the weights file cannot be read")
	}
	if sep == "" {
		return nil, custodian.Errorf(custodian.EINVALID, "the weights file has no Table 5 header (columns MS-DRG, Weights, Geometric mean LOS, Arithmetic mean LOS)")
	}
	if len(w.byDRG) == 0 {
		return nil, custodian.Errorf(custodian.EINVALID, "the weights file has a header but no DRG rows")
	}
	return w, nil
}

func splitLine(text, sep string) []string {
	if sep == "," {
		f, err := csv.NewReader(strings.NewReader(text)).Read()
		if err != nil {
			return strings.Split(text, ",")
		}
		return f
	}
	return strings.Split(text, sep)
}

// headerColumns recognises a Table 5 header, returning the column of each
// field, or nil.
func headerColumns(f []string) map[string]int {
	col := map[string]int{}
	for i, h := range f {
		h = strings.ToLower(strings.Join(strings.Fields(strings.Trim(h, "\" ")), " "))
		switch {
		case h == "ms-drg" || h == "drg" || h == "ms drg":
			col["drg"] = i
		case strings.Contains(h, "post-acute") || strings.Contains(h, "post acute"):
			col["postacute"] = i
		case strings.Contains(h, "special pay"):
			col["specialpay"] = i
		case h == "mdc":
			col["mdc"] = i
		case h == "type":
			col["type"] = i
		case strings.Contains(h, "title"):
			col["title"] = i
		case h == "weights" || h == "weight" || strings.Contains(h, "relative weight"):
			col["weight"] = i
		case strings.Contains(h, "geometric") || h == "gmlos":
			col["gmlos"] = i
		case strings.Contains(h, "arithmetic") || h == "amlos":
			col["amlos"] = i
		}
	}
	for _, k := range []string{"drg", "weight", "gmlos", "amlos"} {
		if _, ok := col[k]; !ok {
			return nil
		}
	}
	return col
}

func yes(s string) bool { return strings.EqualFold(s, "yes") || strings.EqualFold(s, "y") }
