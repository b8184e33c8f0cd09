package synth

// episode is a kind of encounter the generator plans: an inpatient stay
// for a condition, an emergency visit, or an office visit.
type episode struct {
	key   string
	class byte // 'I' inpatient, 'E' emergency (treat and release)
	// rate is how many times a year p has one at age (0 when ineligible).
	rate func(p *person, age int) float64
	// pick chooses the principal diagnosis first, then other diagnoses of
	// the episode, and the procedures.
	pick      func(g *unitGen) ([]string, []string)
	dept      string
	los       [2]int // days, inclusive
	mort      float64
	readmit   float64
	elective  bool
	imaging   string
	panels    []string
	complaint string
	symptoms  []string
	meds      []string
	// signs drive the vital signs and lab values.
	fever, hypoxia, tachy, hypotension, anemia, aki, leukocytosis, troponin, bnp bool
	impression                                                                   string
	plan                                                                         string
}

func has(p *person, key string) bool { return p.prob(key) != nil }

// band returns the value for age's band: 0-17, 18-44, 45-64, 65+.
func band(age int, a, b, c, d float64) float64 {
	switch {
	case age < 18:
		return a
	case age < 45:
		return b
	case age < 65:
		return c
	}
	return d
}

func one(codes ...string) func(g *unitGen) ([]string, []string) {
	return func(g *unitGen) ([]string, []string) { return []string{g.oneOf(codes...)}, nil }
}

var episodes = []*episode{
	{key: "chf", class: 'I', dept: "cardiology", los: [2]int{3, 7}, mort: .035, readmit: .21, imaging: "cxr",
		panels: []string{"bmp", "cbc", "bnp", "trop"}, complaint: "shortness of breath and leg swelling",
		symptoms: []string{"shortness of breath", "orthopnea", "leg swelling"}, meds: []string{"furosemide", "metoprolol", "enoxaparin"},
		hypoxia: true, tachy: true, bnp: true,
		impression: "Cardiomegaly with pulmonary vascular congestion and small bilateral pleural effusions.",
		plan:       "IV furosemide diuresis with strict intake and output and daily weights; continue beta-blocker.",
		rate: func(p *person, age int) float64 {
			if !has(p, "chf") {
				return 0
			}
			return .2
		},
		pick: func(g *unitGen) ([]string, []string) {
			acute := "I50.23"
			if g.p.prob("chf").code == "I50.32" {
				acute = "I50.33"
			}
			if has(g.p, "htn") {
				if has(g.p, "ckd") {
					return []string{"I13.0", acute}, nil
				}
				return []string{"I11.0", acute}, nil
			}
			return []string{acute}, nil
		}},
	{key: "copd", class: 'I', dept: "pulmonary", los: [2]int{2, 6}, mort: .015, readmit: .19, imaging: "cxr",
		panels: []string{"bmp", "cbc"}, complaint: "worsening shortness of breath and wheezing",
		symptoms: []string{"shortness of breath", "wheezing", "productive cough"}, meds: []string{"prednisone", "albuterol", "azithromycin"},
		hypoxia: true, tachy: true,
		impression: "Hyperinflated lungs with flattened hemidiaphragms. No focal consolidation.",
		plan:       "Scheduled nebulized bronchodilators, systemic steroids and azithromycin; titrate oxygen to SpO2 88-92%.",
		rate: func(p *person, age int) float64 {
			if !has(p, "copd") {
				return 0
			}
			return .12
		},
		pick: one("J44.1")},
	{key: "pneumonia", class: 'I', dept: "medicine", los: [2]int{2, 7}, mort: .04, readmit: .15, imaging: "cxr",
		panels: []string{"bmp", "cbc", "lactate"}, complaint: "fever and productive cough",
		symptoms: []string{"fever", "productive cough", "shortness of breath"}, meds: []string{"ceftriaxone", "azithromycin"},
		fever: true, hypoxia: true, tachy: true, leukocytosis: true,
		impression: "Right lower lobe airspace consolidation consistent with pneumonia.",
		plan:       "IV ceftriaxone and azithromycin; supplemental oxygen; blood and sputum cultures.",
		rate: func(p *person, age int) float64 {
			r := band(age, .002, .002, .005, .02)
			if has(p, "copd") {
				r *= 2
			}
			return r
		},
		pick: func(g *unitGen) ([]string, []string) {
			codes := []string{g.oneOf("J18.9", "J18.9", "J15.9")}
			if g.chance(.15) {
				codes = append(codes, "E86.0")
			}
			return codes, nil
		}},
	{key: "covid", class: 'I', dept: "medicine", los: [2]int{3, 8}, mort: .06, readmit: .10, imaging: "cxr",
		panels: []string{"bmp", "cbc"}, complaint: "fever, cough and shortness of breath",
		symptoms: []string{"fever", "dry cough", "shortness of breath"}, meds: []string{"enoxaparin"},
		fever: true, hypoxia: true, tachy: true,
		impression: "Bilateral peripheral patchy opacities compatible with COVID-19 pneumonia.",
		plan:       "Supplemental oxygen, dexamethasone per protocol, prophylactic anticoagulation; airborne and contact isolation.",
		rate:       func(p *person, age int) float64 { return band(age, .0002, .0004, .001, .004) },
		pick:       func(g *unitGen) ([]string, []string) { return []string{"U07.1", "J12.82"}, nil }},
	{key: "sepsis", class: 'I', dept: "medicine", los: [2]int{4, 12}, mort: .12, readmit: .18, imaging: "cxr",
		panels: []string{"bmp", "cbc", "lactate"}, complaint: "fever, confusion and low blood pressure",
		symptoms: []string{"fever", "chills", "confusion"}, meds: []string{"vancomycin", "ceftriaxone", "heparin"},
		fever: true, tachy: true, hypotension: true, leukocytosis: true, aki: true,
		impression: "No acute cardiopulmonary process.",
		plan:       "30 mL/kg crystalloid bolus, broad-spectrum antibiotics after cultures, trend lactate.",
		rate: func(p *person, age int) float64 {
			r := band(age, .0005, .001, .003, .01)
			if has(p, "ckd") || has(p, "dm2") {
				r *= 2
			}
			return r
		},
		pick: func(g *unitGen) ([]string, []string) {
			codes := []string{"A41.9", g.oneOf("J18.9", "N39.0", "N39.0")}
			var procs []string
			switch x := g.r.Float64(); {
			case x < .10:
				codes = append(codes, "R65.21")
				procs = append(procs, "02HV33Z", "0BH17EZ", "5A1945Z")
			case x < .35:
				codes = append(codes, "R65.20")
				procs = append(procs, "02HV33Z")
			}
			if g.chance(.3) {
				codes = append(codes, "N17.9")
			}
			return codes, procs
		}},
	{key: "ami", class: 'I', dept: "cardiology", los: [2]int{2, 5}, mort: .05, readmit: .14, imaging: "echo",
		panels: []string{"bmp", "cbc", "trop", "lipid"}, complaint: "substernal chest pressure",
		symptoms: []string{"chest pain", "diaphoresis", "shortness of breath"}, meds: []string{"aspirin", "clopidogrel", "atorvastatin", "metoprolol", "heparin", "nitroglycerin"},
		tachy: true, troponin: true,
		impression: "Regional wall motion abnormality with mildly reduced left ventricular ejection fraction.",
		plan:       "Dual antiplatelet therapy, high-intensity statin, beta-blocker; cardiac catheterization.",
		rate: func(p *person, age int) float64 {
			r := band(age, 0, .0003, .003, .008)
			if has(p, "cad") {
				r *= 3
			}
			return r
		},
		pick: func(g *unitGen) ([]string, []string) {
			codes := []string{g.oneOf("I21.4", "I21.4", "I21.4", "I21.4", "I21.09", "I21.19")}
			procs := []string{"4A023N7", "B2111ZZ"}
			if g.chance(.65) {
				procs = append(procs, "027034Z")
			}
			return codes, procs
		}},
	{key: "stroke", class: 'I', dept: "neurology", los: [2]int{3, 7}, mort: .08, readmit: .11, imaging: "cthead",
		panels: []string{"bmp", "cbc", "lipid"}, complaint: "sudden weakness and slurred speech",
		symptoms: []string{"focal weakness", "slurred speech", "facial droop"}, meds: []string{"aspirin", "atorvastatin"},
		impression: "No intracranial hemorrhage. Early ischemic change in the middle cerebral artery territory.",
		plan:       "Neurology stroke pathway: antiplatelet therapy, statin, permissive hypertension, PT/OT/speech evaluation.",
		rate: func(p *person, age int) float64 {
			r := band(age, 0, .0002, .002, .008)
			if has(p, "afib") {
				r *= 2
			}
			return r
		},
		pick: func(g *unitGen) ([]string, []string) {
			codes := []string{g.oneOf("I63.9", "I63.511", "I63.512")}
			var procs []string
			if g.chance(.15) {
				procs = append(procs, "3E03317")
			}
			return codes, procs
		}},
	{key: "hipfx", class: 'I', dept: "ortho", los: [2]int{3, 6}, mort: .03, readmit: .10,
		panels: []string{"bmp", "cbc"}, complaint: "hip pain after a fall",
		symptoms: []string{"hip pain", "inability to bear weight"}, meds: []string{"oxycodone", "enoxaparin", "acetaminophen"},
		anemia:     true,
		impression: "Displaced fracture of the proximal femur.",
		plan:       "Orthopaedic surgery for operative fixation; pain control; DVT prophylaxis; PT after surgery.",
		rate: func(p *person, age int) float64 {
			if age < 60 {
				return 0
			}
			r := band(age, 0, 0, .001, .005)
			if has(p, "osteoporosis") || has(p, "dementia") {
				r *= 2
			}
			return r
		},
		pick: func(g *unitGen) ([]string, []string) {
			var code, proc string
			switch g.r.IntN(4) {
			case 0:
				code, proc = "S72.001A", "0SRR0J9"
			case 1:
				code, proc = "S72.002A", "0SRS0J9"
			case 2:
				code, proc = "S72.141A", "0QS606Z"
			default:
				code, proc = "S72.142A", "0QS706Z"
			}
			return []string{code, "W19.XXXA", "Y92.009"}, []string{proc}
		}},
	{key: "uti", class: 'I', dept: "medicine", los: [2]int{2, 4}, mort: .01, readmit: .10,
		panels: []string{"bmp", "cbc"}, complaint: "fever and painful urination",
		symptoms: []string{"dysuria", "fever", "flank pain"}, meds: []string{"ceftriaxone"},
		fever: true, leukocytosis: true,
		plan: "IV ceftriaxone pending urine culture; IV fluids.",
		rate: func(p *person, age int) float64 {
			r := band(age, .0002, .0005, .001, .004)
			if p.d.sex == 'F' {
				r *= 2
			}
			return r
		},
		pick: one("N39.0", "N39.0", "N10")},
	{key: "gibleed", class: 'I', dept: "gi", los: [2]int{2, 5}, mort: .03, readmit: .13,
		panels: []string{"bmp", "cbc"}, complaint: "black tarry stools and lightheadedness",
		symptoms: []string{"melena", "lightheadedness", "fatigue"}, meds: []string{"omeprazole"},
		tachy: true, anemia: true,
		plan: "Two large-bore IVs, IV proton pump inhibitor, transfuse for hemoglobin below 7, gastroenterology for endoscopy.",
		rate: func(p *person, age int) float64 { return band(age, 0, .0003, .001, .003) },
		pick: func(g *unitGen) ([]string, []string) {
			codes := []string{"K92.2"}
			var procs []string
			if g.chance(.5) {
				codes = append(codes, "D62")
				procs = append(procs, "30233N1")
			}
			if g.chance(.7) {
				procs = append(procs, "0DJ08ZZ")
			}
			return codes, procs
		}},
	{key: "cellulitis", class: 'I', dept: "medicine", los: [2]int{2, 4}, mort: .003, readmit: .08,
		panels: []string{"bmp", "cbc"}, complaint: "red, swollen and painful leg",
		symptoms: []string{"leg redness", "leg swelling", "fever"}, meds: []string{"vancomycin", "cephalexin"},
		fever: true, leukocytosis: true,
		plan: "IV vancomycin, elevate the extremity, mark the borders of erythema.",
		rate: func(p *person, age int) float64 {
			r := band(age, .0003, .0008, .0015, .003)
			if has(p, "dm2") {
				r *= 2
			}
			return r
		},
		pick: one("L03.115", "L03.116")},
	{key: "dka", class: 'I', dept: "medicine", los: [2]int{2, 4}, mort: .005, readmit: .12,
		panels: []string{"bmp", "cbc"}, complaint: "nausea, vomiting and high blood sugars",
		symptoms: []string{"nausea", "vomiting", "polyuria"}, meds: []string{"lispro", "glargine"},
		tachy: true,
		plan:  "Insulin infusion per DKA protocol, aggressive IV fluids, potassium repletion, close anion gap monitoring.",
		rate: func(p *person, age int) float64 {
			switch {
			case has(p, "dm1"):
				return .12
			case has(p, "dm2"):
				return .005
			}
			return 0
		},
		pick: func(g *unitGen) ([]string, []string) {
			if has(g.p, "dm1") {
				return []string{"E10.10"}, nil
			}
			return []string{"E11.10"}, nil
		}},
	{key: "appendicitis", class: 'I', dept: "surgery", los: [2]int{1, 3}, mort: .0005, readmit: .04, imaging: "ctabd",
		panels: []string{"bmp", "cbc"}, complaint: "right lower quadrant abdominal pain",
		symptoms: []string{"abdominal pain", "nausea", "anorexia"}, meds: []string{"ceftriaxone", "oxycodone"},
		fever: true, leukocytosis: true,
		impression: "Dilated, fluid-filled appendix with periappendiceal fat stranding, consistent with acute appendicitis.",
		plan:       "NPO, IV antibiotics, laparoscopic appendectomy.",
		rate: func(p *person, age int) float64 {
			if age < 5 || age > 70 {
				return 0
			}
			return .0012
		},
		pick: func(g *unitGen) ([]string, []string) { return []string{"K35.80"}, []string{"0DTJ4ZZ"} }},
	{key: "cholecystitis", class: 'I', dept: "surgery", los: [2]int{1, 3}, mort: .002, readmit: .05, imaging: "usabd",
		panels: []string{"bmp", "cbc"}, complaint: "right upper quadrant pain after meals",
		symptoms: []string{"abdominal pain", "nausea", "vomiting"}, meds: []string{"ceftriaxone", "oxycodone"},
		fever: true, leukocytosis: true,
		impression: "Cholelithiasis with gallbladder wall thickening and pericholecystic fluid, consistent with acute cholecystitis.",
		plan:       "IV antibiotics and laparoscopic cholecystectomy.",
		rate: func(p *person, age int) float64 {
			if age < 20 {
				return 0
			}
			r := .001
			if p.d.sex == 'F' {
				r = .002
			}
			return r
		},
		pick: func(g *unitGen) ([]string, []string) { return []string{"K80.00"}, []string{"0FT44ZZ"} }},
	{key: "tka", class: 'I', dept: "ortho", los: [2]int{1, 3}, mort: .001, readmit: .04, elective: true,
		panels: []string{"bmp", "cbc"}, complaint: "end-stage knee arthritis for elective knee replacement",
		symptoms: []string{"knee pain", "stiffness"}, meds: []string{"oxycodone", "enoxaparin", "acetaminophen"},
		plan: "Elective total knee arthroplasty; postoperative PT; DVT prophylaxis.",
		rate: func(p *person, age int) float64 {
			if !has(p, "oaknee") || p.hasHistory("Z96.651", "Z96.652") {
				return 0
			}
			return .06
		},
		pick: func(g *unitGen) ([]string, []string) {
			if g.p.prob("oaknee").code == "M17.11" {
				return []string{"M17.11"}, []string{"0SRC0J9"}
			}
			return []string{"M17.12"}, []string{"0SRD0J9"}
		}},
	{key: "tha", class: 'I', dept: "ortho", los: [2]int{1, 3}, mort: .001, readmit: .04, elective: true,
		panels: []string{"bmp", "cbc"}, complaint: "end-stage hip arthritis for elective hip replacement",
		symptoms: []string{"hip pain", "stiffness"}, meds: []string{"oxycodone", "enoxaparin", "acetaminophen"},
		plan: "Elective total hip arthroplasty; posterior hip precautions; DVT prophylaxis.",
		rate: func(p *person, age int) float64 {
			if !has(p, "oahip") || p.hasHistory("Z96.641", "Z96.642") {
				return 0
			}
			return .06
		},
		pick: func(g *unitGen) ([]string, []string) {
			if g.p.prob("oahip").code == "M16.11" {
				return []string{"M16.11"}, []string{"0SR9019"}
			}
			return []string{"M16.12"}, []string{"0SRB019"}
		}},
	{key: "delivery", class: 'I', dept: "obgyn", los: [2]int{1, 3}, mort: 0, readmit: .02, elective: true,
		panels: []string{"cbc"}, complaint: "labor at term",
		symptoms: []string{"regular contractions"}, meds: []string{"acetaminophen", "ibuprofen"},
		plan: "Admit to labor and delivery; routine intrapartum care.",
		rate: func(p *person, age int) float64 {
			if p.d.sex != 'F' || age < 18 || age > 42 {
				return 0
			}
			switch {
			case age < 25:
				return .06
			case age < 35:
				return .09
			}
			return .03
		},
		pick: func(g *unitGen) ([]string, []string) {
			weeks := g.oneOf("Z3A.38", "Z3A.39", "Z3A.39", "Z3A.40")
			switch x := g.r.Float64(); {
			case x < .68:
				return []string{"O80", "Z37.0", weeks}, []string{"10E0XZZ"}
			case x < .84:
				return []string{"O34.211", "Z37.0", weeks}, []string{"10D00Z1"}
			case x < .94:
				return []string{"O32.1XX0", "Z37.0", weeks}, []string{"10D00Z1"}
			default:
				return []string{"O82", "Z37.0", weeks}, []string{"10D00Z1"}
			}
		}},
	{key: "aki", class: 'I', dept: "medicine", los: [2]int{2, 5}, mort: .02, readmit: .15,
		panels: []string{"bmp", "cbc"}, complaint: "weakness and decreased urine output",
		symptoms: []string{"fatigue", "decreased urine output", "poor oral intake"}, meds: []string{"heparin"},
		aki:  true,
		plan: "Hold nephrotoxins and ACE inhibitor, IV fluids, renal ultrasound, trend creatinine.",
		rate: func(p *person, age int) float64 {
			r := band(age, 0, .0002, .0008, .003)
			if has(p, "ckd") {
				r *= 3
			}
			return r
		},
		pick: func(g *unitGen) ([]string, []string) {
			codes := []string{"N17.9"}
			if g.chance(.3) {
				codes = append(codes, "E86.0")
			}
			return codes, nil
		}},
	{key: "asthma", class: 'I', dept: "pediatrics", los: [2]int{1, 3}, mort: 0, readmit: .05,
		complaint: "wheezing and trouble breathing", symptoms: []string{"wheezing", "shortness of breath", "cough"},
		meds: []string{"albuterol", "prednisone"}, hypoxia: true, tachy: true,
		plan: "Continuous albuterol, systemic steroids, wean oxygen as tolerated.",
		rate: func(p *person, age int) float64 {
			if !has(p, "asthma") || age >= 18 {
				return 0
			}
			return .03
		},
		pick: one("J45.901")},
	{key: "bronchiolitis", class: 'I', dept: "pediatrics", los: [2]int{1, 4}, mort: 0, readmit: .04,
		complaint: "cough, congestion and fast breathing", symptoms: []string{"cough", "nasal congestion", "fast breathing"},
		hypoxia: true, tachy: true, fever: true,
		plan: "Supportive care with nasal suctioning, supplemental oxygen and hydration.",
		rate: func(p *person, age int) float64 {
			if age >= 2 {
				return 0
			}
			return .03
		},
		pick: one("J21.9")},
}

// edVisits are emergency visits that end in discharge home.
var edVisits = []*episode{
	{key: "ed-chestpain", class: 'E', dept: "emergency", imaging: "cxr", panels: []string{"bmp", "cbc", "trop"},
		complaint: "chest pain", symptoms: []string{"chest pain"}, plan: "Serial troponins negative; discharge with outpatient stress testing.",
		rate: func(p *person, age int) float64 { return band(age, 0, .01, .02, .02) }, pick: one("R07.9", "R07.89")},
	{key: "ed-syncope", class: 'E', dept: "emergency", panels: []string{"bmp", "cbc"}, complaint: "passing out",
		symptoms: []string{"syncope", "lightheadedness"}, plan: "Orthostatic vital signs, ECG reviewed; discharge with PCP follow-up.",
		rate: func(p *person, age int) float64 { return band(age, .002, .004, .006, .012) }, pick: one("R55")},
	{key: "ed-headache", class: 'E', dept: "emergency", imaging: "cthead", complaint: "headache",
		symptoms: []string{"headache"}, plan: "Migraine cocktail with improvement; discharge.",
		rate: func(p *person, age int) float64 { return band(age, .004, .01, .006, .004) }, pick: one("R51.9")},
	{key: "ed-backpain", class: 'E', dept: "emergency", complaint: "low back pain", symptoms: []string{"back pain"},
		plan: "NSAIDs and activity as tolerated; return precautions given.", meds: []string{"ibuprofen"},
		rate: func(p *person, age int) float64 { return band(age, .001, .012, .01, .006) }, pick: one("M54.50")},
	{key: "ed-sprain", class: 'E', dept: "emergency", complaint: "right ankle pain after twisting it", symptoms: []string{"ankle pain", "ankle swelling"},
		plan: "Ottawa rules negative; RICE, ankle brace, ibuprofen.", meds: []string{"ibuprofen"},
		rate: func(p *person, age int) float64 { return band(age, .006, .008, .004, .002) }, pick: one("S93.401A")},
	{key: "ed-stone", class: 'E', dept: "emergency", imaging: "ctabd", panels: []string{"bmp"}, complaint: "severe flank pain",
		symptoms: []string{"flank pain", "nausea", "hematuria"}, plan: "IV ketorolac and fluids; strain urine; urology follow-up.",
		impression: "4 mm calculus in the kidney without hydronephrosis.",
		rate:       func(p *person, age int) float64 { return band(age, 0, .004, .005, .003) }, pick: one("N20.0")},
	{key: "ed-uri", class: 'E', dept: "emergency", complaint: "sore throat, cough and congestion", symptoms: []string{"cough", "nasal congestion", "sore throat"},
		plan: "Supportive care; no antibiotics indicated.", fever: true,
		rate: func(p *person, age int) float64 { return band(age, .03, .01, .006, .005) }, pick: one("J06.9")},
	{key: "ed-ge", class: 'E', dept: "emergency", panels: []string{"bmp"}, complaint: "vomiting and diarrhea",
		symptoms: []string{"vomiting", "diarrhea", "abdominal cramping"}, plan: "Oral rehydration, ondansetron; discharge.", meds: []string{"ondansetron"},
		rate: func(p *person, age int) float64 { return band(age, .02, .008, .005, .005) }, pick: one("A08.4", "K52.9")},
	{key: "ed-uti", class: 'E', dept: "emergency", complaint: "burning with urination", symptoms: []string{"dysuria", "urinary frequency"},
		plan: "Urinalysis consistent with infection; oral antibiotics.", meds: []string{"nitrofurantoin"},
		rate: func(p *person, age int) float64 {
			if p.d.sex == 'F' {
				return band(age, .002, .012, .008, .01)
			}
			return band(age, .0005, .001, .002, .005)
		}, pick: one("N39.0")},
	{key: "ed-asthma", class: 'E', dept: "emergency", complaint: "wheezing", symptoms: []string{"wheezing", "shortness of breath"},
		plan: "Albuterol nebulizers and oral steroids with resolution of wheezing.", meds: []string{"prednisone"},
		rate: func(p *person, age int) float64 {
			if !has(p, "asthma") {
				return 0
			}
			return .15
		}, pick: one("J45.901")},
	{key: "ed-copd", class: 'E', dept: "emergency", imaging: "cxr", complaint: "shortness of breath", symptoms: []string{"shortness of breath", "wheezing"},
		plan: "Nebulizers and oral steroids with improvement; discharge on prednisone burst.", meds: []string{"prednisone"},
		impression: "Hyperinflated lungs. No focal consolidation.",
		rate: func(p *person, age int) float64 {
			if !has(p, "copd") {
				return 0
			}
			return .2
		}, pick: one("J44.1")},
	{key: "ed-otitis", class: 'E', dept: "emergency", complaint: "ear pain and fever", symptoms: []string{"ear pain", "fever"}, fever: true,
		plan: "Amoxicillin; follow up with pediatrician.", meds: []string{"amoxicillin"},
		rate: func(p *person, age int) float64 {
			if age > 10 {
				return 0
			}
			return .04
		}, pick: one("H66.90")},
}

// acuteOffice are office visits for a new problem.
var acuteOffice = []struct {
	code, complaint, med string
	minAge, maxAge       int
}{
	{"J06.9", "cough and congestion", "", 0, 120},
	{"J02.9", "sore throat", "amoxicillin", 3, 120},
	{"J01.90", "sinus pressure and congestion", "amoxclav", 5, 120},
	{"H66.90", "ear pain", "amoxicillin", 0, 12},
	{"M54.50", "low back pain", "ibuprofen", 18, 120},
	{"N39.0", "painful urination", "nitrofurantoin", 16, 120},
	{"B34.9", "fever and body aches", "", 0, 120},
	{"R10.9", "abdominal pain", "", 10, 120},
}
