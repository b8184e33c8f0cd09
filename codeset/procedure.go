package codeset

import (
	"slices"
	"strconv"
	"strings"
)

// This file turns the way procedures are written in operative notes into
// the words of the ICD-10-PCS tables: root operation, body part, approach,
// device and qualifier. A surgeon writes "lap chole"; the table says
// "Resection of Gallbladder, Percutaneous Endoscopic Approach".

// procedureTerms turn the names of procedures (one word or two) into PCS
// words. They are used for ICD-10-PCS only, before the abbreviations.
var procedureTerms = map[string]string{
	"lap":                        "percutaneous endoscopic",
	"laparoscopic":               "percutaneous endoscopic",
	"laparoscopy":                "percutaneous endoscopic",
	"arthroscopic":               "percutaneous endoscopic",
	"thoracoscopic":              "percutaneous endoscopic",
	"vats":                       "percutaneous endoscopic",
	"robotic":                    "percutaneous endoscopic",
	"transcatheter":              "percutaneous",
	"total":                      "",
	"appendectomy":               "resection appendix",
	"cholecystectomy":            "resection gallbladder",
	"chole":                      "resection gallbladder",
	"hysterectomy":               "resection uterus",
	"colectomy":                  "resection colon",
	"mastectomy":                 "resection breast",
	"nephrectomy":                "resection kidney",
	"splenectomy":                "resection spleen",
	"thyroidectomy":              "resection thyroid gland",
	"prostatectomy":              "resection prostate",
	"tonsillectomy":              "resection tonsils",
	"oophorectomy":               "resection ovary",
	"lobectomy":                  "resection lung lobe",
	"amputation":                 "detachment",
	"arthroplasty":               "replacement joint synthetic substitute",
	"knee replacement":           "replacement knee joint synthetic substitute",
	"hip replacement":            "replacement hip joint synthetic substitute",
	"tka":                        "replacement knee joint synthetic substitute",
	"tha":                        "replacement hip joint synthetic substitute",
	"components":                 "",
	"component":                  "",
	"prosthesis":                 "synthetic substitute",
	"cabg":                       "bypass coronary artery",
	"ptca":                       "dilation coronary artery",
	"pci":                        "dilation coronary artery",
	"coronary intervention":      "dilation coronary artery",
	"angioplasty":                "dilation",
	"stent":                      "intraluminal device",
	"stents":                     "intraluminal device",
	"bare metal":                 "",
	"bare":                       "",
	"angiography":                "fluoroscopy artery",
	"angiogram":                  "fluoroscopy artery",
	"arteriography":              "fluoroscopy artery",
	"arteriogram":                "fluoroscopy artery",
	"selective":                  "",
	"egd":                        "",
	"esophagogastroduodenoscopy": "",
	"colonoscopy":                "",
	"bronchoscopy":               "",
	"cystoscopy":                 "",
	"biopsy":                     "excision diagnostic",
	"biopsies":                   "excision diagnostic",
	"polypectomy":                "excision",
	"snare":                      "",
	"polyp":                      "",
	"debridement":                "excision",
	"excisional":                 "excision",
	"ulcer":                      "",
	"cesarean":                   "extraction products conception low open",
	"c section":                  "extraction products conception low open",
	"c-section":                  "extraction products conception low open",
	"intubation":                 "insertion endotracheal airway trachea",
	"endotracheal":               "endotracheal airway",
	"ventilation":                "respiratory ventilation",
	"picc":                       "insertion infusion device",
	"central line":               "insertion infusion device",
	"central venous":             "insertion infusion device",
	"cvc":                        "insertion infusion device",
	"port":                       "insertion vascular access device",
	"catheter":                   "",
	"cavoatrial":                 "superior vena cava",
	"svc":                        "superior vena cava",
	"transfusion":                "transfusion",
	"blood transfusion":          "transfusion nonautologous red blood cells",
	"packed":                     "nonautologous",
	"prbc":                       "nonautologous red blood cells",
	"prbcs":                      "nonautologous red blood cells",
	"units":                      "",
	"unit":                       "",
	"spinal fusion":              "fusion vertebral joint",
	"cardiac cath":               "measurement cardiac sampling pressure",
	"heart cath":                 "measurement cardiac sampling pressure",
	"cardiac catheterization":    "measurement cardiac sampling pressure",
	"heart catheterization":      "measurement cardiac sampling pressure",
	"combined":                   "",
	"tracheostomy":               "bypass trachea cutaneous tracheostomy device",
	"chest tube":                 "drainage pleural cavity drainage device",
	"thoracentesis":              "drainage pleural cavity",
	"paracentesis":               "drainage peritoneal cavity",
	"ascites":                    "",
	"liters":                     "",
	"lumbar puncture":            "drainage spinal canal diagnostic",
	"hemodialysis":               "performance urinary filtration",
	"dialysis":                   "performance urinary filtration",
	"dialysis catheter":          "insertion infusion device",
	"orif":                       "reposition internal fixation device open",
	"open reduction":             "reposition open",
	"intramedullary nail":        "intramedullary internal fixation device",
	"intramedullary rod":         "intramedullary internal fixation device",
	"fracture":                   "",
	"cardioversion":              "restoration cardiac rhythm single",
	"synchronized":               "",
	"bronchoalveolar lavage":     "drainage diagnostic",
	"bal":                        "drainage diagnostic",
	"lavage":                     "drainage",
	"lower lobe":                 "lower lung lobe",
	"upper lobe":                 "upper lung lobe",
	"middle lobe":                "middle lung lobe",
	"peg":                        "insertion feeding device stomach percutaneous endoscopic",
	"gastrostomy":                "insertion feeding device stomach",
	"hernia repair":              "repair",
	"herniorrhaphy":              "repair",
	"hernia":                     "",
	"inguinal":                   "inguinal region",
	"mesh":                       "supplement synthetic substitute",
	"ureteral stent":             "dilation ureter intraluminal device",
	"ureteral":                   "ureter",
	"echocardiogram":             "ultrasonography heart",
	"echocardiography":           "ultrasonography heart",
	"echo":                       "ultrasonography heart",
	"tee":                        "ultrasonography heart transesophageal",
	"pacemaker":                  "pacemaker",
	"leads":                      "insertion pacemaker lead",
	"lead":                       "insertion pacemaker lead",
	"dual chamber":               "dual chamber",
	"fluoroscopic":               "",
	"diagnostic":                 "diagnostic",
	"bilateral":                  "bilateral",
}

// procedureScopes are endoscopies: the approach they imply, and the body
// part and root operation (inspection) to use when the note names no
// other operation ("EGD with biopsy of the stomach" is an excision of the
// stomach, a bare "EGD" an inspection of the upper intestinal tract).
var procedureScopes = map[string]struct{ approach, body string }{
	"egd":                        {"via natural or artificial opening endoscopic", "upper intestinal tract"},
	"esophagogastroduodenoscopy": {"via natural or artificial opening endoscopic", "upper intestinal tract"},
	"colonoscopy":                {"via natural or artificial opening endoscopic", "lower intestinal tract"},
	"bronchoscopy":               {"via natural or artificial opening endoscopic", "tracheobronchial tree"},
	"cystoscopy":                 {"via natural or artificial opening endoscopic", "bladder"},
}

// procedureApproach is the approach a procedure is done by when the note
// does not say (a central line is placed through the skin, an intubation
// through the mouth, an arthroplasty open).
var procedureApproach = map[string]string{
	"intubation": "via natural or artificial opening", "picc": "percutaneous", "central": "percutaneous",
	"cvc": "percutaneous", "catheter": "percutaneous", "catheterization": "percutaneous", "cath": "percutaneous",
	"pci": "percutaneous", "ptca": "percutaneous", "angioplasty": "percutaneous", "stent": "percutaneous",
	"thoracentesis": "percutaneous", "paracentesis": "percutaneous", "puncture": "percutaneous",
	"transfusion": "percutaneous", "chest": "percutaneous", "arthroplasty": "open", "replacement": "open",
	"tracheostomy": "open", "debridement": "open", "excisional": "open", "hysterectomy": "open", "abdominal": "open",
	"port": "percutaneous", "pacemaker": "open", "leads": "percutaneous", "lead": "percutaneous",
}

// approachWords are the words of the approaches (the fifth character).
var approachWords = map[string]bool{"open": true, "percutaneous": true, "endoscopic": true, "natural": true, "external": true}

// rootOperations are the names of root operations, the third character.
var rootOperations = map[string]bool{
	"alteration": true, "bypass": true, "change": true, "control": true, "creation": true, "destruction": true,
	"detachment": true, "dilation": true, "division": true, "drainage": true, "excision": true, "extirpation": true,
	"extraction": true, "fragmentation": true, "fusion": true, "insertion": true, "inspection": true, "map": true,
	"occlusion": true, "reattachment": true, "release": true, "removal": true, "repair": true, "replacement": true,
	"reposition": true, "resection": true, "restriction": true, "revision": true, "supplement": true, "transfer": true,
	"transplantation": true, "measurement": true, "performance": true, "restoration": true, "transfusion": true,
	"fluoroscopy": true, "ultrasonography": true, "ventilation": true,
}

// placementWords say a device was put in: the root operation insertion,
// unless the note names another ("stent placement" is a dilation).
var placementWords = map[string]bool{"placement": true, "placed": true, "insertion": true, "inserted": true, "implantation": true, "implanted": true}

// venousSites are veins a catheter goes in by; the body part of a central
// line is where its tip lies (the superior vena cava unless the note says
// otherwise), so they are dropped from its query.
var venousSites = map[string]bool{"jugular": true, "subclavian": true, "basilic": true, "cephalic": true, "brachial": true,
	"femoral": true, "internal": true, "external": true, "vein": true, "venous": true, "tip": true}

// centralLineWords name a central venous catheter.
var centralLineWords = map[string]bool{"picc": true, "central": true, "cvc": true, "catheter": true, "line": true, "port": true}

// expandProcedure rewrites a procedure as the PCS tables word it.
func expandProcedure(q string) []string {
	raw := strings.Fields(strings.ToLower(q))
	var said []string
	for _, w := range raw {
		tokens(w, func(tok string, _ bool) { said = append(said, tok) })
	}
	words := expandQuery(q, procedureTerms)
	has := func(ws []string, set map[string]bool) bool {
		return slices.ContainsFunc(ws, func(w string) bool { return set[w] })
	}
	// Hours of ventilation choose the duration qualifier.
	if slices.Contains(words, "ventilation") {
		words = ventilationHours(words, said)
	}
	// Words a note adds that the table of the operation does not use.
	drop := func(ws ...string) {
		words = slices.DeleteFunc(words, func(w string) bool { return slices.Contains(ws, w) })
	}
	if slices.Contains(words, "drainage") {
		drop("therapeutic")
	}
	if slices.Contains(words, "ventilation") {
		drop("mechanical")
	}
	if slices.Contains(words, "restoration") {
		drop("electrical")
	}
	if slices.Contains(words, "dilation") && slices.Contains(words, "coronary") {
		for i, w := range words {
			if w == "single" {
				words[i] = "one"
			}
		}
	}
	// A central line's body part is where its tip is.
	if slices.Contains(words, "infusion") && has(said, centralLineWords) {
		kept := words[:0:0]
		for _, w := range words {
			if !venousSites[w] && w != "ultrasound" && w != "guided" && w != "tunneled" && w != "lumen" && w != "triple" && w != "double" {
				kept = append(kept, w)
			}
		}
		words = kept
		if !slices.Contains(words, "cava") && !slices.Contains(words, "atrium") && !slices.Contains(words, "ventricle") {
			words = append(words, "superior", "vena", "cava")
		}
	}
	// A mesh repair is a supplement.
	if slices.Contains(words, "supplement") {
		words = slices.DeleteFunc(words, func(w string) bool { return w == "repair" })
	}
	// "Right and left" is bilateral (a title that says "Right and Left"
	// still matches both words).
	for i := 0; i+2 < len(said); i++ {
		if said[i+1] == "and" && (said[i] == "right" && said[i+2] == "left" || said[i] == "left" && said[i+2] == "right") {
			words = append(words, "bilateral")
			break
		}
	}
	// A pacemaker's generator goes under the skin of the chest unless the
	// note says otherwise; its leads are named apart.
	if (slices.Contains(words, "pacemaker") || slices.Contains(words, "defibrillator")) && !slices.Contains(words, "lead") &&
		!slices.Contains(words, "abdomen") && !slices.Contains(words, "abdominal") {
		words = append(words, "chest", "subcutaneous", "tissue", "fascia")
	}
	// An echocardiogram looks at both sides of the heart unless the note
	// says one.
	if slices.Contains(words, "ultrasonography") && slices.Contains(words, "heart") && !slices.Contains(words, "right") && !slices.Contains(words, "left") {
		words = append(words, "right", "left")
	}
	// "with removal of 4 liters" is what a drainage took out, not the root
	// operation removal.
	for i, w := range said {
		if w == "removal" && i+2 < len(said) && said[i+1] == "of" && said[i+2] != "" && said[i+2][0] >= '0' && said[i+2][0] <= '9' {
			words = slices.DeleteFunc(words, func(w string) bool { return w == "removal" })
		}
	}
	others := slices.ContainsFunc(words, func(w string) bool { return rootOperations[w] && w != "insertion" && w != "inspection" })
	if others {
		words = slices.DeleteFunc(words, func(w string) bool { return placementWords[w] })
	} else if has(said, placementWords) {
		words = append(slices.DeleteFunc(words, func(w string) bool { return placementWords[w] }), "insertion")
	}
	// Endoscopies: their approach, and without another operation an
	// inspection of their body part.
	for _, w := range said {
		if sc, ok := procedureScopes[w]; ok {
			if !has(words, approachWords) {
				words = append(words, strings.Fields(sc.approach)...)
			}
			if !others && !slices.Contains(words, "insertion") {
				words = append(words, "inspection")
				words = append(words, strings.Fields(sc.body)...)
			}
		}
	}
	if !has(words, approachWords) && !slices.ContainsFunc(said, func(w string) bool { return strings.HasPrefix(w, "appro") }) {
		for _, w := range said {
			if a, ok := procedureApproach[w]; ok {
				words = append(words, strings.Fields(a)...)
				break
			}
		}
	}
	return words
}

// ventilationHours replaces a stated duration of mechanical ventilation
// by the words of its qualifier: less than 24, 24-96, or greater than 96
// consecutive hours. Days count as 24 hours.
func ventilationHours(words, said []string) []string {
	hours := -1
	for i, w := range said {
		n, err := strconv.Atoi(w)
		if err != nil || i+1 >= len(said) {
			continue
		}
		switch said[i+1] {
		case "hours", "hour", "hrs", "hr", "h":
			hours = n
		case "days", "day":
			hours = n * 24
		}
		if hours >= 0 && i > 0 && (said[i-1] == "than" || said[i-1] == "over") && slices.Contains(said, "less") == false {
			hours++ // "more than 96 hours"
		}
	}
	if hours < 0 {
		return words
	}
	words = slices.DeleteFunc(words, func(w string) bool {
		_, err := strconv.Atoi(w)
		return err == nil || w == "hours" || w == "hour" || w == "days" || w == "day" || w == "more" || w == "than" || w == "greater" || w == "less" || w == "over" || w == "for"
	})
	switch {
	case hours < 24:
		return append(words, "less", "than", "24", "consecutive", "hours")
	case hours <= 96:
		return append(words, "24", "96", "consecutive", "hours")
	}
	return append(words, "greater", "than", "96", "consecutive", "hours")
}

// NamesOperation reports whether a piece of a procedure line names an
// operation of its own ("coronary angiography", "biopsy of the stomach"),
// rather than only a device or a body part ("placement of a stent", "tip
// in the superior vena cava").
func NamesOperation(text string) bool {
	return slices.ContainsFunc(expandQuery(text, procedureTerms), func(w string) bool {
		return rootOperations[w] || w == "implantation" || w == "implanted" // a device implanted is its own operation
	})
}
