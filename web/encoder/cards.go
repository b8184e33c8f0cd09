package encoder

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/web"
)

// productivityWindow is the period the coding card reports on.
const productivityWindow = 30 * 24 * time.Hour

// cards are the dashboard's DNFB, coding and case mix cards.
func (p *pages) cards(ctx context.Context) ([]web.Card, error) {
	titles := map[string]string{"dnfb": "Discharged, not final coded (DNFB)", "coding": "Coding backlog and coder productivity", "casemix": "Case mix index"}
	if !p.coder(ctx) {
		var out []web.Card
		for _, s := range []string{"dnfb", "coding", "casemix"} {
			out = append(out, web.Card{Slot: s, Title: titles[s], Body: `<p class="muted">Coding figures are for coders and the HIM director.</p>`})
		}
		return out, nil
	}
	now := p.q.Now()
	list, _, err := p.queue.Get(ctx)
	if err != nil {
		return nil, err
	}
	prod, err := p.q.Productivity(ctx, now.Add(-productivityWindow), now)
	if err != nil {
		return nil, err
	}
	cm, err := p.caseMix(ctx, now)
	if err != nil {
		return nil, err
	}
	var out []web.Card
	for _, c := range []struct {
		slot, name string
		data       any
	}{
		{"dnfb", "card-dnfb", dnfbCard(list)},
		{"coding", "card-coding", codingCard(list, prod)},
		{"casemix", "card-casemix", cm},
	} {
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, c.name, c.data); err != nil {
			return nil, custodian.Errorf(custodian.EINTERNAL, "encoder card %s: %v", c.slot, err)
		}
		out = append(out, web.Card{Slot: c.slot, Title: titles[c.slot], Body: template.HTML(b.String())})
	}
	return out, nil
}

type dnfbCardView struct {
	Total, Oldest int
	Buckets       []coding.AgeBucket
	Chart         template.HTML
}

func dnfbCard(list []coding.DNFBItem) dnfbCardView {
	v := dnfbCardView{Total: len(list), Buckets: coding.AgeBuckets(list)}
	for _, it := range list {
		v.Oldest = max(v.Oldest, it.AgeDays)
	}
	var labels []string
	var vals []float64
	for _, b := range v.Buckets {
		labels = append(labels, b.Label)
		vals = append(vals, float64(b.Count))
	}
	v.Chart = bars("dnfb-chart", "DNFB encounters by days since discharge", labels, vals, "days since discharge", 0)
	return v
}

type codingCardView struct {
	Uncoded, Drafts int
	Days            int
	Coders          []coding.CoderStats
	Finalized       int
	Chart           template.HTML
}

func codingCard(list []coding.DNFBItem, prod *coding.Productivity) codingCardView {
	v := codingCardView{Days: int(productivityWindow.Hours() / 24), Coders: prod.Coders}
	for _, it := range list {
		if it.Status == coding.StatusDraft {
			v.Drafts++
		} else {
			v.Uncoded++
		}
	}
	var labels []string
	var vals []float64
	for _, c := range prod.Coders {
		v.Finalized += c.Encounters
		labels = append(labels, c.Coder)
		vals = append(vals, float64(c.Encounters))
	}
	if len(labels) > 0 {
		v.Chart = bars("coding-chart", fmt.Sprintf("Encounters finalised per coder, last %d days", v.Days), labels, vals, "encounters finalised", 0)
	}
	return v
}

type caseMixView struct {
	Loaded      bool
	Claims      int
	Unweighted  int
	CMI         float64
	Months      []monthCMI
	Top         []drgCount
	Chart       template.HTML
	WeightsRows int
}

type monthCMI struct {
	Month  string
	Claims int
	CMI    float64
	sum    float64
}

type drgCount struct {
	DRG    string
	Title  string
	Weight float64
	Claims int
}

// caseMix is the mean relative weight of the final-coded stays, by month
// of discharge (the last 12 months that have any) and overall; nothing is
// computed when the site has loaded no weights table.
func (p *pages) caseMix(ctx context.Context, now time.Time) (*caseMixView, error) {
	w := p.q.Grouper.Weights
	if w == nil {
		return &caseMixView{}, nil
	}
	v := &caseMixView{Loaded: true, WeightsRows: w.Len()}
	months := map[string]*monthCMI{}
	drgs := map[int]*drgCount{}
	total := 0.0
	qu, err := p.q.Store.ParseQueryString("Claim", "status=active&_count=500")
	if err != nil {
		return nil, err
	}
	for {
		page, err := p.q.Store.Search(ctx, qu)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Resources {
			if !strings.HasPrefix(r.ID, "coding-") {
				continue // not a coder's final coding
			}
			d, month := claimDRG(r.Body)
			if d == 0 {
				continue
			}
			v.Claims++
			wt, ok := w.Lookup(d)
			if !ok {
				v.Unweighted++
				continue
			}
			total += wt.Weight
			m := months[month]
			if m == nil {
				m = &monthCMI{Month: month}
				months[month] = m
			}
			m.Claims++
			m.sum += wt.Weight
			c := drgs[d]
			if c == nil {
				c = &drgCount{DRG: fmt.Sprintf("%03d", d), Title: wt.Title, Weight: wt.Weight}
				drgs[d] = c
			}
			c.Claims++
		}
		if page.Next == "" {
			break
		}
		qu.Cursor = page.Next
	}
	if n := v.Claims - v.Unweighted; n > 0 {
		v.CMI = total / float64(n)
	}
	for _, m := range months {
		m.CMI = m.sum / float64(m.Claims)
		v.Months = append(v.Months, *m)
	}
	slices.SortFunc(v.Months, func(a, b monthCMI) int { return strings.Compare(a.Month, b.Month) })
	v.Months = v.Months[max(0, len(v.Months)-12):]
	for _, c := range drgs {
		v.Top = append(v.Top, *c)
	}
	slices.SortFunc(v.Top, func(a, b drgCount) int { return cmp.Or(cmp.Compare(b.Claims, a.Claims), strings.Compare(a.DRG, b.DRG)) })
	v.Top = v.Top[:min(5, len(v.Top))]
	var labels []string
	var vals []float64
	for _, m := range v.Months {
		labels = append(labels, m.Month)
		vals = append(vals, m.CMI)
	}
	if len(labels) > 0 {
		v.Chart = bars("casemix-chart", "Case mix index by month of discharge", labels, vals, "case mix index", 2)
	}
	return v, nil
}

// claimDRG reads the MS-DRG (the principal diagnosis's packageCode) and
// the month of discharge (YYYY-MM, "unknown" if none) of a coding Claim.
func claimDRG(body []byte) (int, string) {
	var c struct {
		Diagnosis []struct {
			PackageCode struct {
				Coding []struct{ System, Code string }
			}
		}
		SupportingInfo []struct {
			Category struct {
				Coding []struct{ Code string }
			}
			TimingPeriod struct{ End string }
		}
	}
	if json.Unmarshal(body, &c) != nil || len(c.Diagnosis) == 0 {
		return 0, ""
	}
	d := 0
	for _, x := range c.Diagnosis[0].PackageCode.Coding {
		if x.System == coding.SystemMSDRG {
			d, _ = strconv.Atoi(x.Code)
		}
	}
	month := "unknown"
	for _, s := range c.SupportingInfo {
		if len(s.Category.Coding) > 0 && s.Category.Coding[0].Code == "hospitalized" && len(s.TimingPeriod.End) >= 7 {
			month = s.TimingPeriod.End[:7]
		}
	}
	return d, month
}

// bars draws a small vertical bar chart as inline SVG, each bar labelled
// with its value; the card shows the same numbers in a table.
func bars(id, title string, labels []string, vals []float64, unit string, decimals int) template.HTML {
	const w, h = 300, 150
	const left, right, top, bottom = 6, 6, 18, 26
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart small" id="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t" focusable="false"><title id="%s-t">%s</title>`,
		id, w, h, id, id, html.EscapeString(title+" (the numbers are in the table)"))
	maxV := 0.0
	for _, v := range vals {
		maxV = math.Max(maxV, v)
	}
	if maxV == 0 {
		maxV = 1
	}
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	slot := plotW / float64(max(1, len(labels)))
	fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%d" y2="%d"/>`, left, w-right, h-bottom, h-bottom)
	for i, lab := range labels {
		v := vals[i]
		bh := v / maxV * plotH
		bw := math.Min(slot*0.7, 48)
		x := float64(left) + float64(i)*slot + (slot-bw)/2
		val := strconv.FormatFloat(v, 'f', decimals, 64)
		fmt.Fprintf(&b, `<rect class="bar c0" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s %s</title></rect>`,
			x, float64(top)+plotH-bh, bw, bh, html.EscapeString(lab), val, html.EscapeString(unit))
		fmt.Fprintf(&b, `<text class="val" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x+bw/2, float64(top)+plotH-bh-4, val)
		if len(labels) <= 12 || i%2 == len(labels)%2 {
			fmt.Fprintf(&b, `<text class="lbl" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+bw/2, h-bottom+16, html.EscapeString(shorten(lab, int(slot/6))))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// shorten cuts a label to n characters (at least 3) with an ellipsis.
func shorten(s string, n int) string {
	n = max(n, 3)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
