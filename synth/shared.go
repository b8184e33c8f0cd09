package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// dept is a hospital department (an Organization with a Location).
type dept struct {
	key, name, nucc, nuccDisplay, loc string
	physType                          string // location physical type: wa (ward), ro (room)
	attendings, residents             int    // per 5,000 people (at least one attending)
	orgID, locID                      string
	staff, trainees                   []*prac
}

// prac is a practitioner with their role.
type prac struct {
	id, roleID string
	name       string // "Dr. Given Family"
	family     string
	resident   bool
	dept       *dept
}

func (p *prac) ref() string     { return "Practitioner/" + p.id }
func (p *prac) roleRef() string { return "PractitionerRole/" + p.roleID }

var deptTable = []dept{
	{key: "medicine", name: "Department of Internal Medicine", nucc: "207R00000X", nuccDisplay: "Internal Medicine", loc: "4 West Medical Unit", physType: "wa", attendings: 10, residents: 8},
	{key: "cardiology", name: "Department of Cardiology", nucc: "207RC0000X", nuccDisplay: "Cardiovascular Disease", loc: "5 East Cardiac Unit", physType: "wa", attendings: 4, residents: 2},
	{key: "surgery", name: "Department of General Surgery", nucc: "208600000X", nuccDisplay: "Surgery", loc: "6 North Surgical Unit", physType: "wa", attendings: 4, residents: 4},
	{key: "ortho", name: "Department of Orthopaedic Surgery", nucc: "207X00000X", nuccDisplay: "Orthopaedic Surgery", loc: "6 South Orthopaedic Unit", physType: "wa", attendings: 3, residents: 2},
	{key: "obgyn", name: "Department of Obstetrics and Gynecology", nucc: "207V00000X", nuccDisplay: "Obstetrics & Gynecology", loc: "Labor and Delivery", physType: "wa", attendings: 4, residents: 2},
	{key: "neurology", name: "Department of Neurology", nucc: "2084N0400X", nuccDisplay: "Neurology", loc: "3 East Stroke Unit", physType: "wa", attendings: 2, residents: 1},
	{key: "pulmonary", name: "Division of Pulmonary Medicine", nucc: "207RP1001X", nuccDisplay: "Pulmonary Disease", loc: "4 East Respiratory Unit", physType: "wa", attendings: 2},
	{key: "gi", name: "Division of Gastroenterology", nucc: "207RG0100X", nuccDisplay: "Gastroenterology", loc: "Endoscopy Suite", physType: "ro", attendings: 2},
	{key: "pediatrics", name: "Department of Pediatrics", nucc: "208000000X", nuccDisplay: "Pediatrics", loc: "Pediatric Unit", physType: "wa", attendings: 3, residents: 2},
	{key: "emergency", name: "Department of Emergency Medicine", nucc: "207P00000X", nuccDisplay: "Emergency Medicine", loc: "Emergency Department", physType: "wa", attendings: 6},
	{key: "family", name: "Department of Family Medicine", nucc: "207Q00000X", nuccDisplay: "Family Medicine", loc: "Primary Care Clinic", physType: "ro", attendings: 10},
	{key: "radiology", name: "Department of Radiology", nucc: "2085R0202X", nuccDisplay: "Diagnostic Radiology", loc: "Radiology", physType: "ro", attendings: 3},
}

// shared holds the resources every person's data points at: the
// hospital, its departments and locations, and its practitioners.
type shared struct {
	prefix string // a short id prefix derived from the seed
	hospID string
	depts  map[string]*dept
	order  []*dept
	body   [][3]string // type, id, JSON
}

const hospitalName = "Custodian General Hospital"

func newShared(cfg *Config) *shared {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed5eed))
	sh := &shared{prefix: fmt.Sprintf("%08x", mix64(cfg.Seed)>>32), depts: map[string]*dept{}}
	sh.hospID = "org-" + sh.prefix + "-hospital"
	addr := Address{Use: "work", Line: []string{"1200 Custodian Way"}, City: "Columbus", State: "OH", PostalCode: "43210", Country: "US"}
	sh.add("Organization", &Organization{ResourceType: "Organization", ID: sh.hospID, Active: true,
		Identifier: []Identifier{{System: SystemNPI, Value: npi(r)}},
		Type:       ccs(sysOrgType, "prov", "Healthcare Provider"),
		Name:       hospitalName, Telecom: []ContactPoint{{System: "phone", Value: "555-200-1000", Use: "work"}},
		Address: []Address{addr}})
	scale := 1 + cfg.Patients/5000
	n := 0
	for i := range deptTable {
		d := deptTable[i]
		d.orgID = "org-" + sh.prefix + "-" + d.key
		d.locID = "loc-" + sh.prefix + "-" + d.key
		sh.depts[d.key] = &d
		sh.order = append(sh.order, &d)
		sh.add("Organization", &Organization{ResourceType: "Organization", ID: d.orgID, Active: true,
			Type: ccs(sysOrgType, "dept", "Hospital Department"), Name: d.name, PartOf: ref("Organization/" + sh.hospID)})
		sh.add("Location", &Location{ResourceType: "Location", ID: d.locID, Status: "active", Name: d.loc, Mode: "instance",
			Address:              &addr,
			PhysicalType:         cc(sysLocPhysical, d.physType, map[string]string{"wa": "Ward", "ro": "Room"}[d.physType]),
			ManagingOrganization: ref("Organization/" + d.orgID)})
		for k := 0; k < max(1, d.attendings*scale)+d.residents*scale; k++ {
			n++
			p := &prac{id: fmt.Sprintf("prac-%s-%04d", sh.prefix, n), roleID: fmt.Sprintf("role-%s-%04d", sh.prefix, n),
				resident: k >= max(1, d.attendings*scale), dept: &d}
			sex := byte('M')
			if r.IntN(2) == 0 {
				sex = 'F'
			}
			given := pickGiven(r, sex)
			nd := loadNames()
			p.family = nd.surnames[r.IntN(len(nd.surnames))]
			p.name = "Dr. " + given + " " + p.family
			if p.resident {
				d.trainees = append(d.trainees, p)
			} else {
				d.staff = append(d.staff, p)
			}
			gender := "male"
			if sex == 'F' {
				gender = "female"
			}
			sh.add("Practitioner", &Practitioner{ResourceType: "Practitioner", ID: p.id, Active: true,
				Identifier:    []Identifier{{System: SystemNPI, Value: npi(r)}},
				Name:          []HumanName{{Use: "official", Family: p.family, Given: []string{given}, Prefix: []string{"Dr."}, Suffix: []string{"MD"}}},
				Telecom:       []ContactPoint{{System: "phone", Value: fmt.Sprintf("555-200-%04d", 1000+n), Use: "work"}},
				Gender:        gender,
				Qualification: []Qualification{{Code: CodeableConcept{Coding: []Coding{{System: "http://terminology.hl7.org/CodeSystem/v2-0360", Code: "MD", Display: "Doctor of Medicine"}}}}}})
			role := "attending"
			if p.resident {
				role = "resident"
			}
			sh.add("PractitionerRole", &PractitionerRole{ResourceType: "PractitionerRole", ID: p.roleID, Active: true,
				Practitioner: ref(p.ref()), Organization: ref("Organization/" + d.orgID),
				Code:      ccs(sysPractitionerRol, role, map[string]string{"attending": "Attending physician", "resident": "Resident physician"}[role]),
				Specialty: ccs(SystemNUCC, d.nucc, d.nuccDisplay),
				Location:  []Reference{{Reference: "Location/" + d.locID}}})
		}
	}
	return sh
}

func (sh *shared) add(typ string, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // the types above always encode
	}
	var id string
	switch x := v.(type) {
	case *Organization:
		id = x.ID
	case *Location:
		id = x.ID
	case *Practitioner:
		id = x.ID
	case *PractitionerRole:
		id = x.ID
	}
	sh.body = append(sh.body, [3]string{typ, id, string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))})
}

func (sh *shared) emit(w Writer, sum *Summary) error {
	for _, r := range sh.body {
		if err := w.Resource(r[0], r[1], []byte(r[2])); err != nil {
			return err
		}
		sum.Resources[r[0]]++
		sum.Total++
		sum.Bytes += int64(len(r[2]))
	}
	return nil
}

// npi makes a 10-digit number with a valid NPI check digit (Luhn over the
// prefix 80840). They are synthetic; any resemblance to a real NPI is
// chance.
func npi(r *rand.Rand) string {
	base := fmt.Sprintf("1%08d", r.IntN(100_000_000))
	sum := 24 // the constant for the 80840 prefix
	for i := 0; i < 9; i++ {
		d := int(base[8-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return base + fmt.Sprint((10-sum%10)%10)
}

// mix64 is the SplitMix64 finaliser: a bijection on uint64 that scatters
// its input, used for opaque deterministic ids.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// patientID is the id of a person's registration: slot 0 the first,
// slot 1 a duplicate. Ids are opaque so that they reveal nothing about
// which records belong together.
func patientID(seed uint64, unit, slot int) string {
	return fmt.Sprintf("%016x", mix64(mix64(seed)+uint64(unit)*2+uint64(slot)))
}

// mrn is a registration's medical record number: 8 digits from a
// bijection of (unit, slot) on [0, 10^8), so that no two registrations
// share one and a duplicate's number says nothing about the first's.
func mrn(seed uint64, unit, slot int) string {
	const m = 100_000_000
	x := uint64(unit)*2 + uint64(slot)
	k := mix64(seed)
	for round := range 3 {
		x = (x*48271 + (k>>(round*16))%m) % m // 48271 is coprime with 10^8
		x = reverse8(x)
	}
	return fmt.Sprintf("%08d", x)
}

// reverse8 reverses the 8 decimal digits of x (a bijection on [0, 10^8)).
func reverse8(x uint64) uint64 {
	var r uint64
	for range 8 {
		r = r*10 + x%10
		x /= 10
	}
	return r
}
