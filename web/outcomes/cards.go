package outcomes

import (
	"bytes"
	"context"
	"html/template"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/web"
)

type measureCard struct {
	Period period
	Rows   []measureRow
}

// cards are the dashboard's outcomes cards: headline measure rates over
// the last twelve months and the registries' counts.
func (p *pages) cards(ctx context.Context) ([]web.Card, error) {
	a := custodian.ActorFromContext(ctx)
	var out []web.Card
	if p.Record.Loading() {
		if p.may(ctx, p.MeasureRoles, measureRead...) == nil {
			out = append(out, web.Card{Slot: "measures", Title: "Outcome measures", Body: `<p class="muted">The record is being read for the measures and registries; reload the page in a minute.</p>`})
		}
		return out, nil
	}
	if p.may(ctx, p.MeasureRoles, measureRead...) == nil {
		today := p.Now().UTC()
		from := time.Date(today.Year(), today.Month()-11, 1, 0, 0, 0, 0, time.UTC)
		pd := period{From: from.Format(time.DateOnly), To: today.Format(time.DateOnly)}
		var err error
		if pd.P, err = measure.NewPeriod(pd.From, pd.To); err != nil {
			return nil, err
		}
		v := measureCard{Period: pd}
		for _, id := range p.CardMeasures {
			def := measure.Find(p.Measures, id)
			if def == nil {
				continue
			}
			res, err := p.evaluate(ctx, def, pd, false)
			if err != nil {
				return nil, err
			}
			v.Rows = append(v.Rows, measureRow{Def: def, Rate: rateOf(def, res.Populations, res.Score, res.HasScore)})
		}
		body, err := card("card-measures", v)
		if err != nil {
			return nil, err
		}
		out = append(out, web.Card{Slot: "measures", Title: "Outcome measures, last 12 months", Body: body})
	} else if a != nil {
		out = append(out, web.Card{Slot: "measures", Title: "Outcome measures", Body: `<p class="muted">Outcome measures are for the HIM director.</p>`})
	}
	if p.Registry != nil && p.may(ctx, p.RegistryRoles, registryRead...) == nil {
		var rows []registryRow
		for _, d := range p.Registry.Definitions {
			c := p.Registry.Counts(d.ID)
			rows = append(rows, registryRow{Def: d, Candidates: c[registry.Candidate], Accepted: c[registry.Accepted], Reject: c[registry.Rejected]})
		}
		body, err := card("card-registries", rows)
		if err != nil {
			return nil, err
		}
		out = append(out, web.Card{Slot: "registries", Title: "Registries", Body: body})
	}
	return out, nil
}

func card(name string, data any) (template.HTML, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", custodian.Errorf(custodian.EINTERNAL, "outcomes card %s: %v", name, err)
	}
	return template.HTML(b.String()), nil
}
