package outcomes

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian/measure"
)

// trendChart draws a measure's score by month as vertical bars (a
// percentage for a proportion, the mean for a continuous variable), as
// inline SVG; the numbers are in the table under it.
func trendChart(def *measure.Definition, months []stratumRow) template.HTML {
	labels := make([]string, len(months))
	vals := make([]float64, len(months))
	has := make([]bool, len(months))
	prop := def.Scoring == measure.Proportion
	for i, m := range months {
		labels[i] = m.Value
		if m.Rate.HasScore {
			vals[i], has[i] = m.Rate.Score, true
			if prop {
				vals[i] *= 100
			}
		}
	}
	unit := "%"
	if !prop {
		unit = " " + def.ObservationUnit
	}
	return bars("trend", def.Title+" by month", labels, vals, has, unit)
}

// countChart draws counts (registry cases by month) as vertical bars.
func countChart(id, title string, labels []string, counts []int) template.HTML {
	vals := make([]float64, len(counts))
	has := make([]bool, len(counts))
	for i, c := range counts {
		vals[i], has[i] = float64(c), true
	}
	return bars(id, title, labels, vals, has, "")
}

func bars(id, title string, labels []string, vals []float64, has []bool, unit string) template.HTML {
	const w, h = 900, 240
	const left, right, top, bottom = 52, 12, 14, 34
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t" focusable="false"><title id="%s-t">%s</title>`,
		w, h, id, id, html.EscapeString(title+" (the numbers are in the table below)"))
	if len(labels) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" class="muted">No cases in the period</text></svg>`, w/2, h/2)
		return template.HTML(b.String())
	}
	maxV := 0.0
	for _, v := range vals {
		maxV = math.Max(maxV, v)
	}
	// Grid lines at whole steps: 5 of a 1 or 5 ceiling, 4 of a 2.
	ceil := niceCeil(math.Max(maxV, 4))
	ticks := 5
	if lead := ceil / math.Pow(10, math.Floor(math.Log10(ceil))); lead > 1.5 && lead < 2.5 {
		ticks = 4
	}
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	for i := 0; i <= ticks; i++ {
		v := ceil * float64(i) / float64(ticks)
		y := top + plotH - plotH*float64(i)/float64(ticks)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/><text class="lbl" x="%d" y="%s" text-anchor="end">%s%s</text>`,
			left, w-right, f1(y), f1(y), left-6, f1(y+4), num(v), html.EscapeString(unit))
	}
	n := len(labels)
	slot := plotW / float64(n)
	bw := math.Max(1, slot*0.7)
	every := max(1, int(math.Ceil(float64(n)*60/plotW)))
	for i, lab := range labels {
		x := left + float64(i)*slot + slot*0.15
		if has[i] {
			bh := math.Max(vals[i]/ceil*plotH, 1.5) // a zero still shows, unlike a month without cases
			fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s"><title>%s: %s%s</title></rect>`,
				f1(x), f1(top+plotH-bh), f1(bw), f1(bh), html.EscapeString(lab), num(vals[i]), html.EscapeString(unit))
		}
		if (n-1-i)%every == 0 {
			fmt.Fprintf(&b, `<text class="lbl" x="%s" y="%d" text-anchor="middle">%s</text>`, f1(x+bw/2), h-bottom+16, html.EscapeString(lab))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func num(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
