package review

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// series is one set of bars in a chart, drawn in one colour.
type series struct {
	Name   string
	Class  string // CSS class of its bars (c0, c1)
	Values []float64
}

// barChart draws grouped vertical bars, one group per label, as inline
// SVG with a value axis and a legend. The numbers go in a table beside
// it: the SVG is for the eye.
func barChart(id, title string, labels []string, ss []series) template.HTML {
	const w, h = 900, 240
	const left, right, top, bottom = 44, 12, 26, 34
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t" focusable="false"><title id="%s-t">%s</title>`,
		w, h, id, id, html.EscapeString(title+" (the numbers are in the table below)"))
	maxV := 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			maxV = math.Max(maxV, v)
		}
	}
	top2 := niceCeil(math.Max(maxV, 2))
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	for i := 0; i <= 2; i++ {
		v := top2 * float64(i) / 2
		y := top + plotH - plotH*float64(i)/2
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/><text class="lbl" x="%d" y="%s" text-anchor="end">%s</text>`,
			left, w-right, f1(y), f1(y), left-6, f1(y+4), num(v))
	}
	x := float64(left)
	for _, s := range ss {
		fmt.Fprintf(&b, `<rect class="bar %s" x="%s" y="6" width="12" height="12"/><text class="lbl" x="%s" y="16">%s</text>`,
			s.Class, f1(x), f1(x+16), html.EscapeString(s.Name))
		x += 24 + float64(len(s.Name))*6.5
	}
	n := len(labels)
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" class="muted">No data</text></svg>`, w/2, h/2)
		return template.HTML(b.String())
	}
	slot := plotW / float64(n)
	bw := math.Max(1, slot*0.8/float64(len(ss)))
	every := int(math.Ceil(float64(n) * 52 / plotW))
	for i, lab := range labels {
		x0 := left + float64(i)*slot + slot*0.1
		for k, s := range ss {
			v := s.Values[i]
			bh := v / top2 * plotH
			fmt.Fprintf(&b, `<rect class="bar %s" x="%s" y="%s" width="%s" height="%s"><title>%s %s: %s</title></rect>`,
				s.Class, f1(x0+float64(k)*bw), f1(top+plotH-bh), f1(bw), f1(bh), html.EscapeString(lab), html.EscapeString(s.Name), num(v))
		}
		if (n-1-i)%every == 0 {
			fmt.Fprintf(&b, `<text class="lbl" x="%s" y="%d" text-anchor="middle">%s</text>`, f1(x0+slot*0.4), h-bottom+16, html.EscapeString(lab))
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

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so the grid
// lines fall on round numbers.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
