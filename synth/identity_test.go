package synth_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/synth"
)

// patientView is the part of a Patient the identity tests read.
type patientView struct {
	ID         string `json:"id"`
	Gender     string `json:"gender"`
	BirthDate  string `json:"birthDate"`
	Deceased   string `json:"deceasedDateTime"`
	Identifier []struct {
		System, Value string
	} `json:"identifier"`
	Name []struct {
		Family string   `json:"family"`
		Given  []string `json:"given"`
	} `json:"name"`
	Telecom []struct {
		System, Value, Use string
	} `json:"telecom"`
	Address []struct {
		Line []string `json:"line"`
	} `json:"address"`
	GeneralPractitioner []any `json:"generalPractitioner"`
	ManagingOrg         any   `json:"managingOrganization"`
}

func (p *patientView) ident(system string) string {
	for _, id := range p.Identifier {
		if id.System == system {
			return id.Value
		}
	}
	return ""
}

func (p *patientView) tel(system, use string) string {
	for _, t := range p.Telecom {
		if t.System == system && (use == "" || t.Use == use) {
			return t.Value
		}
	}
	return ""
}

func patientsOf(t *testing.T, c *synth.Collector) map[string]*patientView {
	t.Helper()
	out := map[string]*patientView{}
	for i, typ := range c.Types {
		if typ != "Patient" {
			continue
		}
		var p patientView
		if err := json.Unmarshal(c.Bodies[i], &p); err != nil {
			t.Fatal(err)
		}
		out["Patient/"+p.ID] = &p
	}
	return out
}

// TestPatientsOnlyIdentity generates 20,000 people in --patients-only
// mode and checks the identity data: only Patients and identity facts;
// an SSN is shared only by two registrations of one person and is in the
// never-issued 900–999 areas; a birth-year typo changes only the year;
// households share an address and a home phone.
func TestPatientsOnlyIdentity(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 4000
	}
	var c synth.Collector
	sum, err := synth.Generate(context.Background(), synth.Config{Patients: n, Seed: 41, PatientsOnly: true}, &c)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Resources) != 1 || sum.Resources["Patient"] < n {
		t.Fatalf("patients-only wrote %v", sum.Resources)
	}
	pts := patientsOf(t, &c)
	sameSSN := map[string]bool{} // pairs allowed to share: duplicates
	households := map[string]int{}
	for _, f := range c.Facts {
		switch f.Kind {
		case synth.FactDuplicate:
			sameSSN[f.Patient+" "+f.Other] = true
			a, b := pts[f.Patient], pts[f.Other]
			for _, v := range f.Variations {
				if v != synth.VarBirthTypo || strings.Contains(strings.Join(f.Variations, ","), synth.VarSwapDayMon) {
					continue
				}
				x, _ := time.Parse(time.DateOnly, a.BirthDate)
				y, _ := time.Parse(time.DateOnly, b.BirthDate)
				if x.Month() != y.Month() || (x.Year() != y.Year()) == (x.Day() != y.Day()) {
					t.Errorf("birth typo %s -> %s changes more than one part", a.BirthDate, b.BirthDate)
				}
			}
		case synth.FactNotDuplicate:
			a, b := pts[f.Patient], pts[f.Other]
			switch f.Detail {
			case synth.TrapSpouse, synth.TrapParentChild:
				households[f.Detail]++
				if a.Address[0].Line[0] != b.Address[0].Line[0] || a.tel("phone", "home") != b.tel("phone", "home") {
					t.Errorf("household %s %s: address or home phone differ", f.Patient, f.Other)
				}
				x, _ := time.Parse(time.DateOnly, a.BirthDate)
				y, _ := time.Parse(time.DateOnly, b.BirthDate)
				gap := x.Sub(y).Abs().Hours() / 24 / 365.25
				if f.Detail == synth.TrapSpouse && (a.Gender == b.Gender || gap > 20) {
					t.Errorf("spouses %s %s: %s/%s, %.0f years apart", f.Patient, f.Other, a.Gender, b.Gender, gap)
				}
				if f.Detail == synth.TrapParentChild && gap < 19 {
					t.Errorf("parent and child %s %s only %.1f years apart", f.Patient, f.Other, gap)
				}
			}
		default:
			t.Errorf("patients-only wrote a %s fact", f.Kind)
		}
	}
	if households[synth.TrapSpouse] == 0 || households[synth.TrapParentChild] == 0 {
		t.Errorf("households: %v", households)
	}
	bySSN := map[string]string{}
	emails, nameless := 0, 0
	for ref, p := range pts {
		if p.GeneralPractitioner != nil || p.ManagingOrg != nil || p.Deceased != "" {
			t.Fatalf("%s refers to shared resources or has died in patients-only mode", ref)
		}
		if e := p.tel("email", ""); e != "" {
			emails++
			local := strings.ToLower(e[:strings.IndexByte(e, '@')])
			if !strings.Contains(local, strings.ToLower(p.Name[0].Family)) && !strings.Contains(local, strings.ToLower(p.Name[0].Given[0])) {
				nameless++
			}
			if !strings.HasSuffix(e, "@example.com") && !strings.HasSuffix(e, "@example.net") && !strings.HasSuffix(e, "@example.org") {
				t.Errorf("%s: e-mail %s is not at a reserved domain", ref, e)
			}
		}
		ssn := p.ident(synth.SystemSSN)
		if ssn == "" {
			continue
		}
		if len(ssn) != 11 || ssn[0] != '9' {
			t.Errorf("%s: SSN %s is not in the 900-999 areas", ref, ssn)
		}
		if other, ok := bySSN[ssn]; ok && !sameSSN[other+" "+ref] && !sameSSN[ref+" "+other] {
			t.Errorf("%s and %s share SSN %s but are different people", other, ref, ssn)
		}
		bySSN[ssn] = ref
	}
	if emails == 0 || nameless*5 < emails || nameless*2 > emails {
		t.Errorf("%d of %d e-mail addresses have nothing of the name; want about a third", nameless, emails)
	}
}

// TestOverlays checks that each recorded overlay is an encounter filed
// under another person's record, and that the host never dies before it.
func TestOverlays(t *testing.T) {
	var c synth.Collector
	if _, err := synth.Generate(context.Background(), synth.Config{Patients: 300, Seed: 8, OverlayRate: 0.3}, &c); err != nil {
		t.Fatal(err)
	}
	pts := patientsOf(t, &c)
	subject := map[string]string{}
	for i, typ := range c.Types {
		if typ == "Encounter" {
			var e struct {
				Subject struct{ Reference string } `json:"subject"`
			}
			json.Unmarshal(c.Bodies[i], &e)
			subject["Encounter/"+c.IDs[i]] = e.Subject.Reference
		}
	}
	n := 0
	for _, f := range c.Facts {
		if f.Kind != synth.FactOverlay {
			continue
		}
		n++
		host, owner := pts[f.Patient], pts[f.Other]
		if host == nil || owner == nil || f.Patient == f.Other {
			t.Errorf("overlay %+v: records missing", f)
			continue
		}
		if subject[f.Encounter] != f.Patient {
			t.Errorf("overlay %s is filed under %s, not %s", f.Encounter, subject[f.Encounter], f.Patient)
		}
		if host.Gender != owner.Gender || host.ident(synth.SystemSSN) == owner.ident(synth.SystemSSN) && host.ident(synth.SystemSSN) != "" {
			t.Errorf("overlay %s: host and owner differ in sex or share an SSN", f.Encounter)
		}
		if host.Deceased != "" {
			t.Errorf("overlay host %s died", f.Patient)
		}
	}
	if n < 10 {
		t.Errorf("%d overlays among 300 people at rate 0.3", n)
	}
}
