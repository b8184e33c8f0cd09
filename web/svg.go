package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Chart is a chart drawn on the server as inline SVG, with its numbers for
// the table that goes with it (screen readers, printing, copying).
type Chart struct {
	ID    string
	Title string
	// Unit names what the values count or measure.
	Unit   string
	Points []Point
	SVG    template.HTML
	// W is the width the chart is drawn for, in CSS pixels (640 if 0), so
	// its text stays readable in a narrow card.
	W int
}

// Point is one bar or one measurement.
type Point struct {
	Label string
	Value float64
	// Text is the value as written (with its unit) for the table.
	Text string
	// Flag is an interpretation such as "H" or "L".
	Flag string
	When time.Time
}

const (
	chartH   = 200
	padLeft  = 44
	padRight = 12
	padTop   = 14
	padBot   = 34
)

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// barChart draws c.Points as vertical bars with a labelled value axis.
// Labels are thinned so they never overlap.
func barChart(c *Chart) {
	var b strings.Builder
	svgOpen(&b, c)
	chartW := c.width()
	maxV := 0.0
	for _, p := range c.Points {
		maxV = math.Max(maxV, p.Value)
	}
	top := math.Max(2, niceMax(maxV)) // counts: whole-number grid lines
	plotW, plotH := float64(chartW-padLeft-padRight), float64(chartH-padTop-padBot)
	axes(&b, chartW, 0, top, plotH)
	n := len(c.Points)
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="100" text-anchor="middle" class="muted">No data</text></svg>`, chartW/2)
		c.SVG = template.HTML(b.String())
		return
	}
	slot := plotW / float64(n)
	bw := math.Max(1, slot*0.7)
	every := int(math.Ceil(float64(n) * 56 / plotW)) // labels at least 56 px apart
	for i, p := range c.Points {
		x := padLeft + float64(i)*slot + (slot-bw)/2
		h := p.Value / top * plotH
		y := padTop + plotH - h
		fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s"><title>%s: %s</title></rect>`,
			f1(x), f1(y), f1(bw), f1(h), html.EscapeString(p.Label), html.EscapeString(fmtNum(p.Value)))
		if n <= 16 && p.Value > 0 {
			fmt.Fprintf(&b, `<text class="val" x="%s" y="%s" text-anchor="middle">%s</text>`, f1(x+bw/2), f1(y-3), fmtNum(p.Value))
		}
		if (n-1-i)%every == 0 { // the newest always labelled
			fmt.Fprintf(&b, `<text class="lbl" x="%s" y="%d" text-anchor="middle">%s</text>`, f1(x+bw/2), chartH-padBot+16, html.EscapeString(p.Label))
		}
	}
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String())
}

func (c *Chart) width() int {
	if c.W == 0 {
		return 640
	}
	return c.W
}

func svgOpen(b *strings.Builder, c *Chart) {
	chartW := c.width()
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t" focusable="false"><title id="%s-t">%s</title>`,
		chartW, chartH, c.ID, c.ID, html.EscapeString(c.Title+" (the numbers are in the table below)"))
}

// axes draws the value axis from lo to hi with three grid lines.
func axes(b *strings.Builder, chartW int, lo, hi, plotH float64) {
	for i := 0; i <= 2; i++ {
		v := lo + (hi-lo)*float64(i)/2
		y := padTop + plotH - plotH*float64(i)/2
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/><text class="lbl" x="%d" y="%s" text-anchor="end">%s</text>`,
			padLeft, chartW-padRight, f1(y), f1(y), padLeft-6, f1(y+4), html.EscapeString(fmtNum(v)))
	}
}

// trendChart draws measurements over time as a line with points, and the
// reference range (when low < high) as a band.
func trendChart(c *Chart, low, high float64, hasRange bool) {
	var b strings.Builder
	svgOpen(&b, c)
	chartW := c.width()
	if len(c.Points) == 0 {
		b.WriteString(`</svg>`)
		c.SVG = template.HTML(b.String())
		return
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	t0, t1 := c.Points[0].When, c.Points[0].When
	for _, p := range c.Points {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
		if p.When.Before(t0) {
			t0 = p.When
		}
		if p.When.After(t1) {
			t1 = p.When
		}
	}
	if hasRange {
		lo, hi = math.Min(lo, low), math.Max(hi, high)
	}
	span := hi - lo
	if span == 0 {
		span = math.Max(1, math.Abs(hi))
	}
	lo, hi = lo-span*0.1, hi+span*0.1
	plotW, plotH := float64(chartW-padLeft-padRight), float64(chartH-padTop-padBot)
	axes(&b, chartW, lo, hi, plotH)
	y := func(v float64) float64 { return padTop + plotH - (v-lo)/(hi-lo)*plotH }
	dt := t1.Sub(t0).Seconds()
	x := func(t time.Time) float64 {
		if dt == 0 {
			return padLeft + plotW/2
		}
		return padLeft + t.Sub(t0).Seconds()/dt*plotW
	}
	if hasRange && low < high {
		fmt.Fprintf(&b, `<rect class="range" x="%d" y="%s" width="%s" height="%s"><title>Reference range %s–%s</title></rect>`,
			padLeft, f1(y(high)), f1(plotW), f1(y(low)-y(high)), fmtNum(low), fmtNum(high))
	}
	var path strings.Builder
	for i, p := range c.Points {
		if i == 0 {
			path.WriteString("M")
		} else {
			path.WriteString(" L")
		}
		path.WriteString(f1(x(p.When)) + " " + f1(y(p.Value)))
	}
	fmt.Fprintf(&b, `<path class="line" d="%s"/>`, path.String())
	for _, p := range c.Points {
		cls := "pt"
		if p.Flag != "" && p.Flag != "N" {
			cls = "pt flag"
		}
		fmt.Fprintf(&b, `<circle class="%s" cx="%s" cy="%s" r="4"><title>%s: %s</title></circle>`,
			cls, f1(x(p.When)), f1(y(p.Value)), p.When.Format("2006-01-02"), html.EscapeString(p.Text))
	}
	fmt.Fprintf(&b, `<text class="lbl" x="%d" y="%d">%s</text>`, padLeft, chartH-padBot+16, t0.Format("2006-01-02"))
	if dt > 0 {
		fmt.Fprintf(&b, `<text class="lbl" x="%d" y="%d" text-anchor="end">%s</text>`, chartW-padRight, chartH-padBot+16, t1.Format("2006-01-02"))
	}
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String())
}

// timelineStrip draws encounters as marks along the years, one row per
// class, so the shape of a patient's care shows at a glance.
func timelineStrip(id string, encs []encounterView) template.HTML {
	if len(encs) == 0 {
		return ""
	}
	rows := []string{}
	rowOf := map[string]int{}
	t0, t1 := encs[0].Start, encs[0].Start
	for _, e := range encs {
		if _, ok := rowOf[e.Class]; !ok {
			rowOf[e.Class] = len(rows)
			rows = append(rows, e.Class)
		}
		if e.Start.Before(t0) {
			t0 = e.Start
		}
		if e.Start.After(t1) {
			t1 = e.Start
		}
	}
	const rowH = 26
	const chartW = 1200
	h := padTop + len(rows)*rowH + 24
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart timeline" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t" focusable="false"><title id="%s-t">Encounters over time by class (listed in the table below)</title>`, chartW, h, id, id)
	left := 110.0
	plotW := float64(chartW) - left - padRight
	dt := t1.Sub(t0).Seconds()
	for i, r := range rows {
		y := padTop + i*rowH + rowH/2
		fmt.Fprintf(&b, `<text class="lbl" x="%s" y="%d" text-anchor="end">%s</text><line class="grid" x1="%s" x2="%d" y1="%d" y2="%d"/>`,
			f1(left-8), y+4, html.EscapeString(r), f1(left), chartW-padRight, y, y)
	}
	for _, e := range encs {
		x := left + plotW/2
		if dt > 0 {
			x = left + e.Start.Sub(t0).Seconds()/dt*plotW
		}
		y := padTop + rowOf[e.Class]*rowH + rowH/2
		fmt.Fprintf(&b, `<rect class="mark c%d" x="%s" y="%d" width="5" height="14"><title>%s %s</title></rect>`,
			rowOf[e.Class]%4, f1(x-2.5), y-7, e.Start.Format("2006-01-02"), html.EscapeString(e.Class+": "+e.Type))
	}
	fmt.Fprintf(&b, `<text class="lbl" x="%s" y="%d">%s</text>`, f1(left), h-6, t0.Format("2006-01"))
	if dt > 0 {
		fmt.Fprintf(&b, `<text class="lbl" x="%d" y="%d" text-anchor="end">%s</text>`, chartW-padRight, h-6, t1.Format("2006-01"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
