package codeset

import (
	"slices"
	"strings"
)

// This file holds the language side of search: how text becomes tokens,
// and the abbreviations and synonyms clinicians write. The tables are facts
// about clinical usage, kept here rather than in data because they are
// short and tested with the code that uses them.

// stopWords carry no meaning for matching.
var stopWords = map[string]bool{
	"of": true, "the": true, "and": true, "or": true, "in": true, "to": true, "an": true,
	"for": true, "by": true, "as": true, "at": true, "on": true, "with": true, "is": true, "pt": true,
	"patient": true, "s": true, "from": true, "into": true,
}

// markers say a title or term is the unspecified default ("NOS",
// "unspecified"); they do not count against a match and make the default
// win when the query names nothing more specific.
var markers = map[string]bool{"nos": true, "unspecified": true}

// genericWords after a marker ("unspecified organism", "site not
// specified") are part of saying "unspecified".
var genericWords = map[string]bool{
	"organism": true, "site": true, "type": true, "part": true, "cause": true, "agent": true,
	"origin": true, "laterality": true, "kind": true, "form": true,
}

// abbreviations expand a token (or a two-token phrase written with a
// space) into the words the classification uses.
var abbreviations = map[string]string{
	"htn":              "hypertension",
	"hld":              "hyperlipidemia",
	"dm":               "diabetes mellitus",
	"t2dm":             "type 2 diabetes mellitus",
	"dm2":              "type 2 diabetes mellitus",
	"t2d":              "type 2 diabetes mellitus",
	"niddm":            "type 2 diabetes mellitus",
	"t1dm":             "type 1 diabetes mellitus",
	"dm1":              "type 1 diabetes mellitus",
	"t1d":              "type 1 diabetes mellitus",
	"iddm":             "type 1 diabetes mellitus",
	"dka":              "diabetes ketoacidosis",
	"hhs":              "diabetes hyperosmolarity",
	"ckd":              "chronic kidney disease",
	"esrd":             "end stage renal disease",
	"eskd":             "end stage renal disease",
	"aki":              "acute kidney failure",
	"mi":               "myocardial infarction",
	"ami":              "acute myocardial infarction",
	"stemi":            "stemi st elevation myocardial infarction",
	"nstemi":           "nstemi non st elevation myocardial infarction",
	"uti":              "urinary tract infection",
	"uri":              "acute upper respiratory infection",
	"copd":             "chronic obstructive pulmonary disease",
	"aecopd":           "chronic obstructive pulmonary disease acute exacerbation",
	"chf":              "congestive heart failure",
	"hf":               "heart failure",
	"hfref":            "systolic heart failure",
	"hfpef":            "diastolic heart failure",
	"cad":              "atherosclerotic heart disease coronary artery",
	"afib":             "atrial fibrillation",
	"af":               "atrial fibrillation",
	"cva":              "cerebral infarction",
	"stroke":           "cerebral infarction",
	"ischemic stroke":  "cerebral infarction",
	"ischaemic stroke": "cerebral infarction",
	// The Index sends a hemorrhagic stroke to intracerebral hemorrhage.
	"hemorrhagic stroke":  "nontraumatic intracerebral hemorrhage",
	"haemorrhagic stroke": "nontraumatic intracerebral hemorrhage",
	"mca":                 "middle cerebral artery",
	"aca":                 "anterior cerebral artery",
	// Where pneumonia was acquired does not change its code; a
	// ventilator-associated one has its own.
	"cap":                     "pneumonia",
	"hcap":                    "pneumonia",
	"community acquired":      "",
	"community-acquired":      "",
	"vap":                     "ventilator associated pneumonia",
	"knee cap":                "patella",
	"kneecap":                 "patella",
	"calculous cholecystitis": "cholecystitis with cholelithiasis",
	"acute calculous":         "acute calculus gallbladder",
	"calculous":               "calculus",
	"gallstones":              "cholelithiasis",
	"gallstone":               "cholelithiasis",
	"tia":                     "transient cerebral ischemic attack",
	"pe":                      "pulmonary embolism",
	"dvt":                     "deep vein thrombosis",
	"gerd":                    "gastro esophageal reflux disease",
	"osa":                     "obstructive sleep apnea",
	"bph":                     "benign prostatic hyperplasia",
	"ra":                      "rheumatoid arthritis",
	"oa":                      "osteoarthritis",
	"sob":                     "shortness of breath",
	"cp":                      "chest pain",
	"abd":                     "abdominal",
	"fx":                      "fracture",
	"fxs":                     "fracture",
	"hx":                      "history",
	"h/o":                     "personal history",
	"ards":                    "acute respiratory distress syndrome",
	"mrsa":                    "methicillin resistant staphylococcus aureus",
	"mssa":                    "methicillin susceptible staphylococcus aureus",
	"etoh":                    "alcohol",
	"ptsd":                    "post traumatic stress disorder",
	"adhd":                    "attention deficit hyperactivity disorder",
	"mdd":                     "major depressive disorder",
	"gad":                     "generalized anxiety disorder",
	"lbp":                     "low back pain",
	"pna":                     "pneumonia",
	"sah":                     "subarachnoid hemorrhage",
	"ich":                     "intracerebral hemorrhage",
	"sdh":                     "subdural hemorrhage",
	"pvd":                     "peripheral vascular disease",
	"ibs":                     "irritable bowel syndrome",
	"ibd":                     "inflammatory bowel disease",
	"hepc":                    "hepatitis c",
	"hcv":                     "hepatitis c",
	"hbv":                     "hepatitis b",
	"gi":                      "gastrointestinal",
	"ugib":                    "upper gastrointestinal hemorrhage",
	"lgib":                    "lower gastrointestinal hemorrhage",
	"c diff":                  "clostridium difficile",
	"cdiff":                   "clostridium difficile",
	"sbo":                     "intestinal obstruction",
	"rt":                      "right",
	"lt":                      "left",
	"bilat":                   "bilateral",
	"w/":                      "with",
	"w":                       "with",
	"w/o":                     "without",
	"wo":                      "without",
	"s/p":                     "status post",
	"r/o":                     "",
	"ca":                      "malignant neoplasm",
	"cancer":                  "malignant neoplasm",
	"carcinoma":               "malignant neoplasm",
	"tumour":                  "tumor",
	"oedema":                  "edema",
	"anaemia":                 "anemia",
	"haemorrhage":             "hemorrhage",
	"oesophagus":              "esophagus",
	"oesophageal":             "esophageal",
	"diarrhoea":               "diarrhea",
	"faecal":                  "fecal",
	"paediatric":              "pediatric",
	"ischaemic":               "ischemic",
	"heart attack":            "myocardial infarction",
	"kidney injury":           "kidney failure",
	"high cholesterol":        "hypercholesterolemia",
	"flare":                   "exacerbation",
	"type ii":                 "type 2",
	"type i":                  "type 1",
	"stage iii":               "stage 3",
	"stage iv":                "stage 4",
	"stage ii":                "stage 2",
	"stage v":                 "stage 5",
}

// qualifierWords name a population a code is for (newborns, pregnancy) or
// an external cause it needs (heat, poisoning); a code that names one the
// query does not is ranked lower, as a coder would not reach for it
// unprompted ("syncope" is R55, not heat syncope T67.1).
var qualifierWords = map[string]bool{
	"heat": true, "poisoning": true, "underdosing": true, "adverse": true, "toxic": true,
	"radiation": true, "drug": true, "induced": true, "postprocedural": true, "traumatic": true,
	"newborn": true, "neonatal": true, "perinatal": true, "fetal": true, "fetu": true, "fetus": true,
	"maternal": true, "pregnancy": true, "puerperal": true, "puerperium": true, "childbirth": true,
	"gestational": true, "postpartum": true, "intrapartum": true, "antepartum": true, "obstetric": true,
	"trimester": true, "delivery": true, "congenital": true,
	// a family history code needs the query to say family ("history of
	// stroke" is the patient's own)
	"family": true,
	// a cerebral infarction's mechanism is coded when the note states it
	// (the Index: Infarct, cerebral, due to occlusion or stenosis)
	"embolism": true, "thrombosis": true,
}

// synonyms are words the classification writes one way and clinicians
// another; each side matches the other a little below an exact match.
var synonyms = [][]string{
	{"kidney", "renal"},
	{"heart", "cardiac"},
	{"liver", "hepatic"},
	{"lung", "pulmonary"},
	{"brain", "cerebral"},
	{"diabetes", "diabetic"},
	{"tumor", "neoplasm"},
	{"stomach", "gastric"},
	{"vein", "venous"},
	{"thrombosis", "thrombus", "clot"},
	{"infection", "infected", "infectious"},
	{"hypertension", "hypertensive"},
	{"fracture", "fractured", "broken"},
	{"injury", "trauma"},
	{"ulcer", "ulceration"},
	{"pain", "ache", "painful"},
	{"bleeding", "hemorrhage", "bleed"},
	{"leg", "limb", "extremity"},
	{"arm", "limb", "extremity"},
	{"bowel", "intestine", "intestinal"},
	{"colitis", "enterocolitis"},
	{"sacrum", "sacral"},
	{"kidney", "nephro"},
	{"failure", "insufficiency"},
	{"obesity", "obese"},
	{"femur", "femoral"},
	{"humerus", "humeral"},
	{"tibia", "tibial"},
	{"fibula", "fibular"},
	{"ulna", "ulnar"},
	{"vertebra", "vertebral"},
	{"pelvis", "pelvic"},
	{"abdomen", "abdominal"},
	{"thorax", "thoracic"},
	{"nose", "nasal"},
	{"skin", "cutaneous"},
	{"pregnancy", "pregnant"},
	{"alcohol", "alcoholic"},
}

// tokens splits text into lower-case words of letters and digits, with
// whether each was inside parentheses or brackets (the tabular's
// nonessential modifiers).
func tokens(text string, yield func(tok string, optional bool)) {
	depth := 0
	start := -1
	flush := func(end int) {
		if start >= 0 {
			yield(strings.ToLower(text[start:end]), depth > 0)
			start = -1
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80:
			if start < 0 {
				start = i
			}
		default:
			flush(i)
			switch c {
			case '(', '[':
				depth++
			case ')', ']':
				if depth > 0 {
					depth--
				}
			}
		}
	}
	flush(len(text))
}

// stem folds plurals and a few endings so "fractures" finds "fracture" and
// "diabetes" stays itself on both sides.
func stem(t string) string {
	n := len(t)
	switch {
	case n <= 3:
		return t
	case strings.HasSuffix(t, "ies") && n > 4:
		return t[:n-3] + "y"
	case strings.HasSuffix(t, "sses"):
		return t[:n-2]
	case strings.HasSuffix(t, "ss"), strings.HasSuffix(t, "us"), strings.HasSuffix(t, "is"), strings.HasSuffix(t, "ous"):
		return t
	case strings.HasSuffix(t, "xes") || strings.HasSuffix(t, "ches") || strings.HasSuffix(t, "shes"):
		return t[:n-2]
	case strings.HasSuffix(t, "s"):
		return t[:n-1]
	}
	return t
}

// expandQuery rewrites abbreviations and phrases in a lower-cased query.
func expandQuery(q string, terms map[string]string) []string {
	lookup := func(k string) (string, bool) {
		if exp, ok := terms[k]; ok {
			return exp, true
		}
		exp, ok := abbreviations[k]
		return exp, ok
	}
	var words []string
	for _, w := range strings.Fields(strings.ToLower(q)) {
		// keep the abbreviations written with a slash or hyphen whole
		if _, ok := lookup(w); ok {
			words = append(words, w)
			continue
		}
		tokens(w, func(tok string, _ bool) { words = append(words, tok) })
	}
	var out []string
	for i := 0; i < len(words); i++ {
		// "history of X" is the patient's own history unless it is the
		// family's (the Index: History, personal).
		if words[i] == "history" && i+1 < len(words) && words[i+1] == "of" && (i == 0 || words[i-1] != "family") && !slices.Contains(out, "personal") {
			out = append(out, "personal", "history")
			i++
			continue
		}
		if i+1 < len(words) {
			if exp, ok := lookup(words[i] + " " + words[i+1]); ok {
				out = append(out, strings.Fields(exp)...)
				i++
				continue
			}
		}
		if exp, ok := lookup(words[i]); ok {
			out = append(out, strings.Fields(exp)...)
			continue
		}
		out = append(out, words[i])
	}
	return out
}
