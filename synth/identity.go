package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The identity side of the generator: who a person is, whom their record
// can be mistaken for (look-alikes, households), their unique SSN and
// their e-mail address, and overlays (one record holding two people's
// data). Everything here is a pure function of (Config, person number),
// so a person's neighbours can recompute it without generating them.

// SSNs come from area numbers 900–999, which the Social Security
// Administration has never issued as SSNs (they are the ITIN range), with
// groups 01–99 and serials 0001–9999: 98,990,100 values. Person u gets
// value (u·ssnStep + offset(seed)) mod ssnSpace, a bijection on
// [0, ssnSpace) because ssnStep shares no factor with ssnSpace
// (2²·3⁴·5²·11²·101), so no two people share an SSN for up to 98,990,100
// people and the numbers do not run in sequence.
const (
	ssnSpace = 100 * 99 * 9999
	ssnStep  = 48271 // prime, not a factor of ssnSpace
)

// ssnFor is person unit's SSN.
func ssnFor(seed uint64, unit int) string {
	k := (uint64(unit)*ssnStep + mix64(seed^0x55a11)%ssnSpace) % ssnSpace
	area := 900 + k/(99*9999)
	group := 1 + (k/9999)%99
	serial := 1 + k%9999
	return fmt.Sprintf("%03d-%02d-%04d", area, group, serial)
}

var emailWords = []string{"blue", "river", "maple", "sunny", "stone", "lucky", "quiet", "cedar", "north", "silver", "happy", "tiger",
	"falcon", "garden", "harbor", "meadow", "rocket", "willow", "comet", "pepper", "orchid", "canyon", "summit", "breeze"}

// newEmail makes an address at one of the reserved example domains
// (RFC 2606). About a third have nothing to do with the person's name, as
// real addresses often do not, so e-mail alone cannot link records.
func newEmail(r *rand.Rand, given, family string) string {
	domain := []string{"example.com", "example.net", "example.org"}[r.IntN(3)]
	g, f := strings.ToLower(given), strings.ToLower(strings.ReplaceAll(family, " ", ""))
	f = strings.ReplaceAll(strings.ReplaceAll(f, "'", ""), "-", "")
	g = strings.ReplaceAll(g, "'", "")
	var local string
	switch x := r.IntN(100); {
	case x < 30:
		local = fmt.Sprintf("%s.%s%d", g, f, r.IntN(100))
	case x < 50:
		local = fmt.Sprintf("%c%s%d", g[0], f, 10+r.IntN(990))
	case x < 64:
		local = fmt.Sprintf("%s_%s", f, g)
	default:
		local = fmt.Sprintf("%s%s%d", emailWords[r.IntN(len(emailWords))], emailWords[r.IntN(len(emailWords))], r.IntN(10000))
	}
	return local + "@" + domain
}

// identity is who person unit is: their first registration's data, the
// look-alike relation to the person before them (if any), and the trap
// stream positioned after the draws made here (for the duplicate draws).
type identity struct {
	d    demo
	trap string // Trap* kind relating this person to person unit-1, or ""
	tr   *rand.Rand
}

// identityOf computes person unit's identity. An odd-numbered person may
// be modelled on the (even-numbered, never modelled) person before them:
// a twin, a junior/senior, a namesake, a spouse or a parent or child in
// the same household.
func identityOf(cfg *Config, unit int) identity {
	asOf := cfg.End
	d := newDemo(unitRand(cfg.Seed, unit, streamDemo), asOf)
	tr := unitRand(cfg.Seed, unit, streamTrap)
	id := identity{d: d, tr: tr}
	trapDraw := tr.Float64()
	houseDraw := tr.Float64()
	if unit%2 == 1 {
		base := newDemo(unitRand(cfg.Seed, unit-1, streamDemo), asOf)
		switch {
		case trapDraw < cfg.TrapRate*2:
			id.trap = lookAlike(&id.d, base, tr, trapDraw, cfg.TrapRate, asOf)
		case houseDraw < cfg.HouseholdRate*2:
			id.trap = household(&id.d, base, tr, asOf)
		}
	}
	if id.d.hasSSN {
		id.d.ssn = ssnFor(cfg.Seed, unit)
	}
	if asOf.Sub(id.d.birth) < 18*365*24*time.Hour {
		id.d.marital = "U"
	}
	return id
}

// lookAlike makes d a twin, junior/senior or namesake of base.
func lookAlike(d *demo, base demo, tr *rand.Rand, draw, rate float64, asOf time.Time) string {
	kind := TrapNamesake
	switch {
	case draw < rate*2*0.4:
		kind = TrapTwin
	case draw < rate*2*0.65:
		kind = TrapJuniorSenior
	}
	// A junior/senior pair needs a man old enough to be a father, or
	// young enough to have one; anyone else gets a namesake.
	baseAge := asOf.Year() - base.birth.Year()
	if kind == TrapJuniorSenior && (base.sex != 'M' || baseAge < 18) {
		kind = TrapNamesake
	}
	switch kind {
	case TrapTwin:
		d.family, d.birth = base.family, base.birth
		d.line, d.city, d.state, d.zip, d.phone = base.line, base.city, base.state, base.zip, base.phone
		for d.given == base.given {
			d.given = pickGiven(tr, d.sex)
		}
	case TrapJuniorSenior:
		d.sex, d.given, d.family = 'M', base.given, base.family
		d.line, d.city, d.state, d.zip, d.phone = base.line, base.city, base.state, base.zip, base.phone
		gap := 20 + tr.IntN(16)
		suffix := "Jr."
		if baseAge < 42 {
			gap, suffix = -gap, "Sr." // this one is the father
		}
		b := base.birth.AddDate(gap, 0, tr.IntN(300)-150)
		if b.After(asOf.AddDate(-1, 0, 0)) {
			b = asOf.AddDate(-1-tr.IntN(5), 0, -tr.IntN(300))
		}
		d.birth = time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
		if tr.IntN(2) == 0 {
			d.suffix = suffix
		}
		if d.middle == base.middle {
			d.middle = ""
		}
	default:
		d.sex, d.given, d.family = base.sex, base.given, base.family
	}
	return kind
}

// household makes d live with base: their spouse, or their parent or
// child. They share the address and the home phone; a spouse is of the
// other sex and of a similar age, a parent or child a generation apart.
func household(d *demo, base demo, tr *rand.Rand, asOf time.Time) string {
	d.line, d.city, d.state, d.zip, d.phone = base.line, base.city, base.state, base.zip, base.phone
	baseAge := asOf.Year() - base.birth.Year()
	kind := TrapSpouse
	switch {
	case baseAge < 20:
		kind = TrapParentChild // d is the parent
	case baseAge >= 40 && tr.IntN(100) < 40:
		kind = TrapParentChild // d is the child
	}
	if kind == TrapSpouse {
		d.sex = 'F' + 'M' - base.sex
		d.given = pickGiven(tr, d.sex)
		for d.given == base.given {
			d.given = pickGiven(tr, d.sex)
		}
		if tr.IntN(100) < 70 {
			d.family = base.family
		}
		b := base.birth.AddDate(int(tr.NormFloat64()*4), 0, tr.IntN(365)-182)
		if b.After(asOf.AddDate(-18, 0, 0)) {
			b = asOf.AddDate(-18-tr.IntN(3), 0, -tr.IntN(365))
		}
		d.birth = time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
		d.marital = "M"
		return kind
	}
	if tr.IntN(100) < 85 {
		d.family = base.family
	}
	for d.given == base.given {
		d.given = pickGiven(tr, d.sex)
	}
	var b time.Time
	if baseAge < 20 { // the parent
		b = base.birth.AddDate(-(20 + tr.IntN(18)), 0, tr.IntN(365)-182)
	} else { // the child
		b = base.birth.AddDate(20+tr.IntN(min(baseAge-19, 18)), 0, tr.IntN(365)-182)
		if b.After(asOf.AddDate(0, -6, 0)) {
			b = asOf.AddDate(-1-tr.IntN(3), 0, -tr.IntN(300))
		}
	}
	d.birth = time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return kind
}

// Stream number of the overlay draw.
const streamOverlay = 4

// overlaid says whether one encounter of person unit is filed under the
// first registration of person unit-1 (an overlay). Both must be adults
// of the same sex at the start of the window, so that the misfiled
// encounter's codes remain consistent with the record's sex and age and
// nothing but the overlay itself is wrong with it. Person unit-1 asks the
// same question about unit+1 so as not to die before the misfiled visit.
func overlaid(cfg *Config, unit int) (host demo, ok bool) {
	if unit == 0 || cfg.OverlayRate <= 0 || unitRand(cfg.Seed, unit, streamOverlay).Float64() >= cfg.OverlayRate {
		return demo{}, false
	}
	a, b := identityOf(cfg, unit-1).d, identityOf(cfg, unit).d
	adult := cfg.Start.AddDate(-18, 0, 0)
	if a.sex != b.sex || a.birth.After(adult) || b.birth.After(adult) {
		return demo{}, false
	}
	return a, true
}

// overlay files one of the person's treat-and-release emergency visits or
// acute office visits under the previous person's first registration, when
// overlaid says so.
func (g *unitGen) overlay(plans []*plan) {
	host, ok := overlaid(g.cfg, g.unit)
	if !ok {
		return
	}
	var cands []*plan
	for _, c := range plans {
		if (c.class == 'E' && c.ep != nil && c.ep.class == 'E') || (c.class == 'O' && c.office == "acute") {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return
	}
	c := cands[g.r.IntN(len(cands))]
	g.overlayHost = &registration{slot: 0, id: patientID(g.cfg.Seed, g.unit-1, 0), mrn: mrn(g.cfg.Seed, g.unit-1, 0), d: host}
	g.overlayPlan = c
	c.reg = g.overlayHost
}
