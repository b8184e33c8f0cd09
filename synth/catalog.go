package synth

// The clinical catalog: the conditions, episodes of care, procedures,
// medications and tests the generator draws from. Every ICD-10-CM and
// ICD-10-PCS code named here is listed in data/codes.tsv (titles and
// validity from the CMS/CDC FY2025 files, see data/PROVENANCE.md);
// TestCatalogCodes checks it.

// chronic is a long-term condition a person may carry.
type chronic struct {
	key  string
	code []string // alternatives (one chosen per person); the first is the default
	// prev is the prevalence by age band: 0-17, 18-39, 40-64, 65+.
	prev   [4]float64
	sex    byte // 'M' or 'F' for sex-specific conditions
	minAge int
	meds   []string
	// ltc is a long-term drug therapy Z code coded with the condition.
	ltc string
}

var chronics = []chronic{
	{key: "htn", code: []string{"I10"}, prev: [4]float64{0, .08, .33, .62}, minAge: 25, meds: []string{"lisinopril", "amlodipine", "hctz"}},
	{key: "dm2", code: []string{"E11.9", "E11.40"}, prev: [4]float64{0, .03, .13, .24}, minAge: 25, meds: []string{"metformin"}, ltc: "Z79.84"},
	{key: "dm1", code: []string{"E10.9"}, prev: [4]float64{.003, .004, .004, .003}, minAge: 4, meds: []string{"glargine", "lispro"}, ltc: "Z79.4"},
	{key: "hld", code: []string{"E78.5"}, prev: [4]float64{0, .05, .30, .45}, minAge: 25, meds: []string{"atorvastatin"}},
	{key: "chf", code: []string{"I50.22", "I50.32"}, prev: [4]float64{0, .002, .02, .10}, minAge: 35, meds: []string{"furosemide", "metoprolol"}},
	{key: "copd", code: []string{"J44.9"}, prev: [4]float64{0, .005, .05, .12}, minAge: 40, meds: []string{"albuterol", "tiotropium"}},
	{key: "asthma", code: []string{"J45.909"}, prev: [4]float64{.08, .08, .07, .05}, minAge: 3, meds: []string{"albuterol", "budesonide"}},
	{key: "ckd", code: []string{"N18.31", "N18.32", "N18.4"}, prev: [4]float64{0, .01, .05, .18}, minAge: 30},
	{key: "afib", code: []string{"I48.91", "I48.0"}, prev: [4]float64{0, .002, .02, .09}, minAge: 30, meds: []string{"apixaban", "metoprolol"}, ltc: "Z79.01"},
	{key: "cad", code: []string{"I25.10"}, prev: [4]float64{0, .004, .05, .15}, minAge: 35, meds: []string{"aspirin", "atorvastatin"}, ltc: "Z79.82"},
	{key: "hypothyroid", code: []string{"E03.9"}, prev: [4]float64{.002, .03, .06, .10}, minAge: 5, meds: []string{"levothyroxine"}},
	{key: "depression", code: []string{"F32.9"}, prev: [4]float64{.02, .08, .08, .06}, minAge: 12, meds: []string{"sertraline"}},
	{key: "anxiety", code: []string{"F41.1"}, prev: [4]float64{.02, .07, .06, .04}, minAge: 12, meds: []string{"sertraline"}},
	{key: "gerd", code: []string{"K21.9"}, prev: [4]float64{.01, .08, .15, .18}, minAge: 10, meds: []string{"omeprazole"}},
	{key: "oaknee", code: []string{"M17.11", "M17.12"}, prev: [4]float64{0, 0, .05, .12}, minAge: 45, meds: []string{"acetaminophen"}},
	{key: "oahip", code: []string{"M16.11", "M16.12"}, prev: [4]float64{0, 0, .03, .07}, minAge: 45, meds: []string{"acetaminophen"}},
	{key: "smoker", code: []string{"F17.210"}, prev: [4]float64{0, .12, .13, .08}, minAge: 18},
	{key: "exsmoker", code: []string{"Z87.891"}, prev: [4]float64{0, .04, .14, .24}, minAge: 25},
	{key: "dementia", code: []string{"F03.90"}, prev: [4]float64{0, 0, .002, .08}, minAge: 60, meds: []string{"donepezil"}},
	{key: "bph", code: []string{"N40.0"}, prev: [4]float64{0, 0, .10, .35}, sex: 'M', minAge: 45, meds: []string{"tamsulosin"}},
	{key: "osteoporosis", code: []string{"M81.0"}, prev: [4]float64{0, 0, .04, .20}, sex: 'F', minAge: 50, meds: []string{"alendronate"}},
	{key: "osa", code: []string{"G47.33"}, prev: [4]float64{.002, .02, .06, .07}, minAge: 18},
	{key: "anemia", code: []string{"D64.9", "D50.9"}, prev: [4]float64{.005, .03, .03, .06}, minAge: 1, meds: []string{"ferrous"}},
	{key: "pvd", code: []string{"I73.9"}, prev: [4]float64{0, 0, .02, .06}, minAge: 45},
	{key: "prostateca", code: []string{"C61"}, prev: [4]float64{0, 0, .006, .03}, sex: 'M', minAge: 45},
	{key: "breastca", code: []string{"C50.911"}, prev: [4]float64{0, .001, .008, .02}, sex: 'F', minAge: 30},
	{key: "lungca", code: []string{"C34.90"}, prev: [4]float64{0, 0, .003, .01}, minAge: 40},
	{key: "colonca", code: []string{"C18.9"}, prev: [4]float64{0, 0, .002, .006}, minAge: 40},
	{key: "epilepsy", code: []string{"G40.909"}, prev: [4]float64{.005, .006, .006, .007}, minAge: 2},
	{key: "vitd", code: []string{"E55.9"}, prev: [4]float64{0.01, 0.05, 0.07, 0.08}, minAge: 5},
	{key: "diverticulosis", code: []string{"K57.30"}, prev: [4]float64{0, 0.01, 0.05, 0.12}, minAge: 40},
	{key: "gout", code: []string{"M10.9"}, prev: [4]float64{0, 0.005, 0.03, 0.06}, minAge: 30},
	{key: "rhinitis", code: []string{"J30.9"}, prev: [4]float64{0.08, 0.08, 0.06, 0.04}, minAge: 3},
	{key: "psoriasis", code: []string{"L40.0"}, prev: [4]float64{0.005, 0.02, 0.025, 0.02}, minAge: 8},
	{key: "migraine", code: []string{"G43.909"}, prev: [4]float64{0.01, 0.08, 0.06, 0.02}, minAge: 10},
	{key: "adhd", code: []string{"F90.9"}, prev: [4]float64{0.07, 0.03, 0.01, 0}, minAge: 5},
	{key: "pcos", code: []string{"E28.2"}, prev: [4]float64{0.005, 0.05, 0.01, 0}, sex: 'F', minAge: 14},
	{key: "menopause", code: []string{"N95.1"}, prev: [4]float64{0, 0, 0.12, 0.02}, sex: 'F', minAge: 45},
	{key: "glaucoma", code: []string{"H40.9"}, prev: [4]float64{0, 0.002, 0.01, 0.05}, minAge: 40},
	{key: "cataract", code: []string{"H25.9"}, prev: [4]float64{0, 0, 0.03, 0.15}, minAge: 50},
	{key: "aorticstenosis", code: []string{"I35.0"}, prev: [4]float64{0, 0, 0.005, 0.04}, minAge: 50},
	{key: "pulmhtn", code: []string{"I27.20"}, prev: [4]float64{0, 0.001, 0.003, 0.01}, minAge: 30},
	{key: "fattyliver", code: []string{"K76.0"}, prev: [4]float64{0.002, 0.03, 0.05, 0.04}, minAge: 12},
	{key: "ibs", code: []string{"K58.9"}, prev: [4]float64{0.01, 0.04, 0.03, 0.02}, minAge: 12},
	{key: "alcohol", code: []string{"F10.20"}, prev: [4]float64{0, 0.02, 0.025, 0.015}, minAge: 18},
	{key: "opioid", code: []string{"F11.20"}, prev: [4]float64{0, 0.008, 0.006, 0.002}, minAge: 18},
	{key: "hiv", code: []string{"B20"}, prev: [4]float64{0, 0.003, 0.004, 0.002}, minAge: 18},
	{key: "ra", code: []string{"M06.9"}, prev: [4]float64{0, 0.004, 0.01, 0.015}, minAge: 20},
	{key: "bipolar", code: []string{"F31.9"}, prev: [4]float64{0, 0.01, 0.008, 0.005}, minAge: 15},
	{key: "schizophrenia", code: []string{"F20.9"}, prev: [4]float64{0, 0.004, 0.004, 0.003}, minAge: 16},
}

// phrases says how clinicians write each code in a note: the first phrase
// is the full one, the rest abbreviations or synonyms.
var phrases = map[string][]string{
	"I10":      {"essential hypertension", "HTN", "hypertension"},
	"E11.9":    {"type 2 diabetes mellitus without complications", "T2DM", "type 2 diabetes"},
	"E11.40":   {"type 2 diabetes mellitus with diabetic neuropathy", "T2DM with neuropathy", "diabetic peripheral neuropathy"},
	"E11.22":   {"type 2 diabetes mellitus with diabetic chronic kidney disease", "T2DM with diabetic CKD", "diabetic nephropathy"},
	"E11.65":   {"type 2 diabetes mellitus with hyperglycemia", "uncontrolled T2DM", "T2DM with hyperglycemia"},
	"E11.10":   {"type 2 diabetes mellitus with ketoacidosis", "DKA in a type 2 diabetic", "diabetic ketoacidosis"},
	"E10.9":    {"type 1 diabetes mellitus", "T1DM", "type 1 diabetes"},
	"E10.10":   {"type 1 diabetes mellitus with ketoacidosis", "DKA", "diabetic ketoacidosis"},
	"E78.5":    {"hyperlipidemia", "HLD", "dyslipidemia"},
	"I50.22":   {"chronic systolic heart failure", "HFrEF", "chronic systolic CHF"},
	"I50.32":   {"chronic diastolic heart failure", "HFpEF", "chronic diastolic CHF"},
	"I50.23":   {"acute on chronic systolic heart failure", "acute on chronic HFrEF", "acute on chronic systolic CHF exacerbation"},
	"I50.33":   {"acute on chronic diastolic heart failure", "acute on chronic HFpEF", "acute on chronic diastolic CHF exacerbation"},
	"I11.0":    {"hypertensive heart disease with heart failure", "hypertensive heart disease with CHF", "HTN heart disease with heart failure"},
	"I12.9":    {"hypertensive chronic kidney disease", "hypertensive CKD", "CKD due to HTN"},
	"I13.0":    {"hypertensive heart and chronic kidney disease with heart failure", "hypertensive heart and kidney disease with CHF", "HTN heart and CKD with heart failure"},
	"J44.9":    {"chronic obstructive pulmonary disease", "COPD", "COPD"},
	"J44.1":    {"chronic obstructive pulmonary disease with acute exacerbation", "COPD exacerbation", "AECOPD"},
	"J45.909":  {"asthma, uncomplicated", "asthma", "mild intermittent asthma"},
	"J45.901":  {"asthma with acute exacerbation", "asthma exacerbation", "acute asthma flare"},
	"N18.31":   {"chronic kidney disease stage 3a", "CKD 3a", "CKD stage 3a"},
	"N18.32":   {"chronic kidney disease stage 3b", "CKD 3b", "CKD stage 3b"},
	"N18.4":    {"chronic kidney disease stage 4", "CKD 4", "CKD stage 4"},
	"I48.91":   {"atrial fibrillation", "AFib", "AF"},
	"I48.0":    {"paroxysmal atrial fibrillation", "paroxysmal AFib", "PAF"},
	"I25.10":   {"coronary artery disease", "CAD", "ASCVD"},
	"E03.9":    {"hypothyroidism", "hypothyroidism", "hypothyroid"},
	"F32.9":    {"major depressive disorder", "MDD", "depression"},
	"F41.1":    {"generalized anxiety disorder", "GAD", "anxiety"},
	"K21.9":    {"gastroesophageal reflux disease", "GERD", "reflux"},
	"M17.11":   {"primary osteoarthritis of the right knee", "right knee OA", "OA of the right knee"},
	"M17.12":   {"primary osteoarthritis of the left knee", "left knee OA", "OA of the left knee"},
	"M16.11":   {"primary osteoarthritis of the right hip", "right hip OA", "OA of the right hip"},
	"M16.12":   {"primary osteoarthritis of the left hip", "left hip OA", "OA of the left hip"},
	"F17.210":  {"nicotine dependence, cigarettes", "tobacco use disorder", "current smoker"},
	"Z87.891":  {"history of nicotine dependence", "former smoker", "h/o tobacco use"},
	"F03.90":   {"dementia", "dementia", "major neurocognitive disorder"},
	"N40.0":    {"benign prostatic hyperplasia", "BPH", "BPH"},
	"M81.0":    {"age-related osteoporosis", "osteoporosis", "osteoporosis"},
	"G47.33":   {"obstructive sleep apnea", "OSA", "OSA on CPAP"},
	"D64.9":    {"anemia", "anemia", "anemia"},
	"D50.9":    {"iron deficiency anemia", "IDA", "iron deficiency anemia"},
	"I73.9":    {"peripheral vascular disease", "PVD", "PAD"},
	"C61":      {"prostate cancer", "prostate adenocarcinoma", "CaP"},
	"C50.911":  {"right breast cancer", "carcinoma of the right breast", "right breast CA"},
	"C34.90":   {"lung cancer", "non-small cell lung cancer", "lung CA"},
	"C18.9":    {"colon cancer", "adenocarcinoma of the colon", "colon CA"},
	"G40.909":  {"epilepsy", "seizure disorder", "epilepsy"},
	"E66.9":    {"obesity", "obesity", "obese"},
	"E55.9":    {"vitamin D deficiency", "vit D deficiency", "low vitamin D"},
	"K57.30":   {"diverticulosis of the colon", "diverticulosis", "diverticulosis"},
	"M10.9":    {"gout", "gout", "gouty arthritis"},
	"J30.9":    {"allergic rhinitis", "allergic rhinitis", "seasonal allergies"},
	"L40.0":    {"psoriasis vulgaris", "psoriasis", "plaque psoriasis"},
	"G43.909":  {"migraine without status migrainosus", "migraines", "migraine"},
	"F90.9":    {"attention-deficit hyperactivity disorder", "ADHD", "ADHD"},
	"E28.2":    {"polycystic ovary syndrome", "PCOS", "PCOS"},
	"N95.1":    {"menopausal symptoms", "menopause", "perimenopausal symptoms"},
	"H40.9":    {"glaucoma", "glaucoma", "glaucoma"},
	"H25.9":    {"age-related cataract", "cataract", "cataracts"},
	"I35.0":    {"aortic stenosis", "AS", "aortic valve stenosis"},
	"I27.20":   {"pulmonary hypertension", "pulmonary HTN", "PH"},
	"K76.0":    {"fatty liver", "hepatic steatosis", "NAFLD"},
	"K58.9":    {"irritable bowel syndrome", "IBS", "IBS"},
	"F10.20":   {"alcohol dependence", "alcohol use disorder", "EtOH use disorder"},
	"F11.20":   {"opioid dependence", "opioid use disorder", "OUD"},
	"B20":      {"HIV disease", "HIV", "HIV infection"},
	"M06.9":    {"rheumatoid arthritis", "RA", "rheumatoid arthritis"},
	"F31.9":    {"bipolar disorder", "bipolar disorder", "bipolar affective disorder"},
	"F20.9":    {"schizophrenia", "schizophrenia", "schizophrenia"},
	"Z68.30":   {"BMI 30-30.9", "BMI 30", "BMI 30"},
	"Z68.35":   {"BMI 35-35.9", "BMI 35", "BMI 35"},
	"Z68.41":   {"BMI 40-44.9", "BMI 40+", "morbid obesity with BMI over 40"},
	"Z79.4":    {"long-term insulin use", "on insulin", "insulin-requiring"},
	"Z79.84":   {"long-term use of oral hypoglycemics", "on oral hypoglycemics", "on metformin"},
	"Z79.01":   {"long-term anticoagulation", "on anticoagulation", "anticoagulated"},
	"Z79.82":   {"long-term aspirin use", "on daily aspirin", "on ASA"},
	"J18.9":    {"pneumonia", "community-acquired pneumonia", "CAP"},
	"J15.9":    {"bacterial pneumonia", "bacterial PNA", "bacterial pneumonia"},
	"A41.9":    {"sepsis", "sepsis, source as noted", "sepsis"},
	"R65.20":   {"severe sepsis", "severe sepsis without shock", "severe sepsis with organ dysfunction"},
	"R65.21":   {"septic shock", "septic shock", "severe sepsis with septic shock"},
	"N39.0":    {"urinary tract infection", "UTI", "UTI"},
	"N10":      {"acute pyelonephritis", "pyelonephritis", "pyelo"},
	"I21.4":    {"non-ST elevation myocardial infarction", "NSTEMI", "NSTEMI"},
	"I21.09":   {"anterior ST elevation myocardial infarction", "anterior STEMI", "STEMI"},
	"I21.19":   {"inferior ST elevation myocardial infarction", "inferior STEMI", "STEMI"},
	"I63.9":    {"acute ischemic stroke", "CVA", "ischemic stroke"},
	"I63.511":  {"acute ischemic stroke of the right middle cerebral artery territory", "right MCA stroke", "R MCA CVA"},
	"I63.512":  {"acute ischemic stroke of the left middle cerebral artery territory", "left MCA stroke", "L MCA CVA"},
	"S72.001A": {"closed fracture of the right femoral neck", "right hip fracture", "R femoral neck fx"},
	"S72.002A": {"closed fracture of the left femoral neck", "left hip fracture", "L femoral neck fx"},
	"S72.141A": {"displaced intertrochanteric fracture of the right femur", "right intertrochanteric hip fracture", "R IT fx"},
	"S72.142A": {"displaced intertrochanteric fracture of the left femur", "left intertrochanteric hip fracture", "L IT fx"},
	"W19.XXXA": {"mechanical fall", "fall", "fall at home"},
	"Y92.009":  {"fall at home", "at home", "at home"},
	"N17.9":    {"acute kidney injury", "AKI", "acute renal failure"},
	"K92.2":    {"gastrointestinal hemorrhage", "GI bleed", "GIB"},
	"D62":      {"acute blood loss anemia", "acute posthemorrhagic anemia", "ABLA"},
	"L03.115":  {"cellulitis of the right lower extremity", "RLE cellulitis", "right leg cellulitis"},
	"L03.116":  {"cellulitis of the left lower extremity", "LLE cellulitis", "left leg cellulitis"},
	"K35.80":   {"acute appendicitis", "appendicitis", "acute appendicitis"},
	"K80.00":   {"acute calculous cholecystitis", "acute cholecystitis with cholelithiasis", "cholecystitis"},
	"O80":      {"full-term uncomplicated vaginal delivery", "NSVD", "normal spontaneous vaginal delivery"},
	"O82":      {"elective cesarean delivery", "elective C-section", "scheduled cesarean"},
	"O34.211":  {"low transverse scar from previous cesarean delivery", "prior LTCS", "history of cesarean (low transverse)"},
	"O32.1XX0": {"breech presentation", "breech", "breech presentation"},
	"Z37.0":    {"single live birth", "single liveborn", "single live birth"},
	"Z3A.38":   {"38 weeks gestation", "38 weeks", "38w"},
	"Z3A.39":   {"39 weeks gestation", "39 weeks", "39w"},
	"Z3A.40":   {"40 weeks gestation", "40 weeks", "40w"},
	"R07.9":    {"chest pain", "chest pain", "CP"},
	"R07.89":   {"atypical chest pain", "atypical CP", "chest wall pain"},
	"R55":      {"syncope", "syncope", "syncopal episode"},
	"J21.9":    {"acute bronchiolitis", "bronchiolitis", "bronchiolitis"},
	"A08.4":    {"viral gastroenteritis", "viral GE", "viral gastroenteritis"},
	"K52.9":    {"noninfective gastroenteritis", "gastroenteritis", "colitis"},
	"H66.90":   {"otitis media", "OM", "otitis media"},
	"J06.9":    {"acute upper respiratory infection", "URI", "viral URI"},
	"M54.50":   {"low back pain", "LBP", "lumbago"},
	"S93.401A": {"sprain of the right ankle", "right ankle sprain", "R ankle sprain"},
	"R51.9":    {"headache", "HA", "headache"},
	"N20.0":    {"kidney stone", "nephrolithiasis", "renal calculus"},
	"U07.1":    {"COVID-19", "COVID-19", "SARS-CoV-2 infection"},
	"J12.82":   {"COVID-19 pneumonia", "COVID PNA", "pneumonia due to COVID-19"},
	"J96.01":   {"acute hypoxic respiratory failure", "acute hypoxemic respiratory failure", "AHRF"},
	"E87.1":    {"hyponatremia", "hyponatremia", "low sodium"},
	"E87.6":    {"hypokalemia", "hypokalemia", "low potassium"},
	"I82.401":  {"acute deep vein thrombosis of the right lower extremity", "right leg DVT", "RLE DVT"},
	"E86.0":    {"dehydration", "dehydration", "volume depletion"},
	"Z00.00":   {"routine adult health examination", "annual physical", "routine physical"},
	"Z00.129":  {"routine child health examination", "well-child check", "WCC"},
	"Z34.83":   {"supervision of normal pregnancy, third trimester", "routine prenatal visit", "prenatal care"},
	"Z12.31":   {"screening mammogram", "screening mammogram", "mammogram"},
	"Z12.11":   {"screening colonoscopy", "colon cancer screening", "screening colonoscopy"},
	"Z66":      {"do not resuscitate", "DNR", "DNR/DNI"},
	"Z95.5":    {"status post coronary stent", "s/p PCI with stent", "history of coronary stent"},
	"Z96.651":  {"status post right total knee arthroplasty", "s/p right TKA", "history of right knee replacement"},
	"Z96.652":  {"status post left total knee arthroplasty", "s/p left TKA", "history of left knee replacement"},
	"Z96.641":  {"status post right total hip arthroplasty", "s/p right THA", "history of right hip replacement"},
	"Z96.642":  {"status post left total hip arthroplasty", "s/p left THA", "history of left hip replacement"},
	"Z86.73":   {"history of stroke without residual deficits", "h/o CVA", "prior stroke"},
	"Z90.49":   {"status post cholecystectomy", "s/p cholecystectomy", "h/o lap chole"},
	"Z90.89":   {"status post appendectomy", "s/p appendectomy", "h/o appendectomy"},
	"I20.0":    {"unstable angina", "unstable angina", "UA"},
}

// procPhrases says how a procedure is written in a note.
var procPhrases = map[string]string{
	"027034Z": "percutaneous coronary intervention with drug-eluting stent to one coronary artery",
	"4A023N7": "left heart catheterization",
	"B2111ZZ": "coronary angiography",
	"0DTJ4ZZ": "laparoscopic appendectomy",
	"0FT44ZZ": "laparoscopic cholecystectomy",
	"0SRC0J9": "right total knee arthroplasty (cemented)",
	"0SRD0J9": "left total knee arthroplasty (cemented)",
	"0SR9019": "right total hip arthroplasty (cemented)",
	"0SRB019": "left total hip arthroplasty (cemented)",
	"0SRR0J9": "right hip hemiarthroplasty (cemented)",
	"0SRS0J9": "left hip hemiarthroplasty (cemented)",
	"0QS606Z": "open reduction and intramedullary nailing of the right femur",
	"0QS706Z": "open reduction and intramedullary nailing of the left femur",
	"10E0XZZ": "spontaneous vaginal delivery",
	"10D00Z1": "low transverse cesarean section",
	"5A1945Z": "mechanical ventilation (24-96 hours)",
	"5A1935Z": "mechanical ventilation (less than 24 hours)",
	"30233N1": "transfusion of packed red blood cells",
	"0DJ08ZZ": "esophagogastroduodenoscopy (EGD)",
	"0DJD8ZZ": "colonoscopy",
	"02HV33Z": "central venous catheter placement",
	"3E03317": "IV thrombolysis with alteplase",
	"5A1D70Z": "intermittent hemodialysis",
	"0BH17EZ": "endotracheal intubation",
}

// surgical says which procedures are operations: each needs a consent
// before and an operative note after.
var surgical = map[string]bool{
	"027034Z": true, "0DTJ4ZZ": true, "0FT44ZZ": true, "0SRC0J9": true, "0SRD0J9": true,
	"0SR9019": true, "0SRB019": true, "0SRR0J9": true, "0SRS0J9": true, "0QS606Z": true,
	"0QS706Z": true, "10D00Z1": true, "0DJ08ZZ": true, "0DJD8ZZ": true, "4A023N7": true,
}

// medication is a drug the generator prescribes.
type medication struct {
	rxnorm, display, sig string
}

// meds are RxNorm concepts (see data/PROVENANCE.md for where each code
// was taken from).
var meds = map[string]medication{
	"lisinopril":     {"314076", "lisinopril 10 MG Oral Tablet", "Take 1 tablet by mouth once daily"},
	"amlodipine":     {"197361", "Amlodipine 5 MG Oral Tablet", "Take 1 tablet by mouth once daily"},
	"hctz":           {"310798", "Hydrochlorothiazide 25 MG Oral Tablet", "Take 1 tablet by mouth every morning"},
	"metformin":      {"860975", "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet", "Take 1 tablet by mouth twice daily with meals"},
	"glargine":       {"847232", "3 ML insulin glargine 100 UNT/ML Pen Injector [Lantus]", "Inject 20 units subcutaneously at bedtime"},
	"lispro":         {"86009", "insulin lispro", "Inject per sliding scale subcutaneously with meals"},
	"atorvastatin":   {"83367", "atorvastatin", "Take 40 mg by mouth at bedtime"},
	"simvastatin":    {"312961", "Simvastatin 20 MG Oral Tablet", "Take 1 tablet by mouth at bedtime"},
	"furosemide":     {"4603", "furosemide", "Take 40 mg by mouth once daily"},
	"metoprolol":     {"866412", "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet", "Take 1 tablet by mouth once daily"},
	"albuterol":      {"573621", "albuterol 0.09 MG/ACTUAT [Proventil]", "Inhale 2 puffs every 4-6 hours as needed for wheezing"},
	"tiotropium":     {"69120", "tiotropium", "Inhale the contents of 1 capsule once daily"},
	"budesonide":     {"351109", "budesonide 0.25 MG/ML Inhalation Suspension", "Nebulize 0.25 mg twice daily"},
	"apixaban":       {"1364430", "apixaban", "Take 5 mg by mouth twice daily"},
	"warfarin":       {"855332", "Warfarin Sodium 5 MG Oral Tablet", "Take as directed per INR"},
	"aspirin":        {"243670", "aspirin 81 MG Oral Tablet", "Take 1 tablet by mouth once daily"},
	"clopidogrel":    {"309362", "Clopidogrel 75 MG Oral Tablet", "Take 1 tablet by mouth once daily"},
	"levothyroxine":  {"10582", "levothyroxine", "Take 75 mcg by mouth every morning on an empty stomach"},
	"sertraline":     {"36437", "sertraline", "Take 50 mg by mouth once daily"},
	"omeprazole":     {"7646", "omeprazole", "Take 20 mg by mouth once daily before breakfast"},
	"acetaminophen":  {"313782", "Acetaminophen 325 MG Oral Tablet", "Take 2 tablets by mouth every 6 hours as needed for pain"},
	"ibuprofen":      {"197806", "ibuprofen 600 MG Oral Tablet", "Take 1 tablet by mouth every 8 hours as needed with food"},
	"donepezil":      {"135447", "donepezil", "Take 10 mg by mouth at bedtime"},
	"tamsulosin":     {"77492", "tamsulosin", "Take 0.4 mg by mouth once daily"},
	"alendronate":    {"904419", "Alendronic acid 10 MG Oral Tablet", "Take 1 tablet by mouth once daily with a full glass of water"},
	"ferrous":        {"310325", "ferrous sulfate 325 MG Oral Tablet", "Take 1 tablet by mouth once daily"},
	"amoxicillin":    {"308192", "Amoxicillin 500 MG Oral Tablet", "Take 1 tablet by mouth three times daily for 10 days"},
	"amoxclav":       {"562251", "Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet", "Take 1 tablet by mouth twice daily for 7 days"},
	"azithromycin":   {"308460", "azithromycin 250 MG Oral Tablet", "Take 2 tablets on day 1, then 1 tablet daily for 4 days"},
	"nitrofurantoin": {"311995", "NITROFURANTOIN, MACROCRYSTALS 50 MG Oral Capsule", "Take 1 capsule by mouth four times daily for 5 days"},
	"ceftriaxone":    {"2193", "ceftriaxone", "1 g IV every 24 hours"},
	"vancomycin":     {"11124", "vancomycin", "IV per pharmacy dosing"},
	"heparin":        {"5224", "heparin", "5,000 units subcutaneously every 8 hours"},
	"alteplase":      {"1804799", "Alteplase 100 MG Injection", "0.9 mg/kg IV, 10% as bolus, remainder over 60 minutes"},
	"nitroglycerin":  {"705129", "Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray", "1 spray under the tongue every 5 minutes as needed for chest pain"},
	"prednisone":     {"8640", "prednisone", "Take 40 mg by mouth once daily for 5 days"},
	"oxycodone":      {"1049623", "Oxycodone Hydrochloride 5 MG Oral Tablet", "Take 1 tablet by mouth every 6 hours as needed for severe pain"},
	"ondansetron":    {"26225", "ondansetron", "4 mg by mouth every 8 hours as needed for nausea"},
	"enoxaparin":     {"67108", "enoxaparin", "40 mg subcutaneously once daily"},
	"cephalexin":     {"2231", "cephalexin", "Take 500 mg by mouth four times daily for 7 days"},
}

// allergen is a substance a person may be allergic to.
type allergen struct {
	system, code, display, category string
}

var allergens = []allergen{
	{SystemRxNorm, "7980", "penicillin G", "medication"},
	{SystemRxNorm, "70618", "Penicillin", "medication"},
	{SystemRxNorm, "10831", "Sulfamethoxazole / Trimethoprim", "medication"},
	{SystemRxNorm, "1191", "aspirin", "medication"},
	{SystemRxNorm, "2670", "codeine", "medication"},
	{SystemSNOMED, "111088007", "Latex (substance)", "environment"},
	{SystemSNOMED, "102263004", "Eggs (edible) (substance)", "food"},
	{SystemSNOMED, "442571000124108", "Tree nut (substance)", "food"},
	{SystemSNOMED, "288328004", "Bee venom (substance)", "environment"},
	{SystemSNOMED, "260147004", "House dust mite (organism)", "environment"},
	{SystemSNOMED, "264287008", "Animal dander (substance)", "environment"},
	{SystemSNOMED, "84489001", "Mold (organism)", "environment"},
	{SystemSNOMED, "782576004", "Tree pollen (substance)", "environment"},
}

var reactions = []Coding{
	{System: SystemSNOMED, Code: "247472004", Display: "Wheal (finding)"},
	{System: SystemSNOMED, Code: "126485001", Display: "Urticaria (disorder)"},
	{System: SystemSNOMED, Code: "271807003", Display: "Eruption of skin (disorder)"},
	{System: SystemSNOMED, Code: "39579001", Display: "Anaphylaxis (disorder)"},
	{System: SystemSNOMED, Code: "267101005", Display: "Nose running (finding)"},
	{System: SystemSNOMED, Code: "422587007", Display: "Nausea (finding)"},
}

// lab is a laboratory test or vital sign.
type lab struct {
	loinc, display, unit, ucum string
	lo, hi                     float64 // reference range (0, 0 when none)
	places                     int
	vital                      bool
}

var labs = map[string]lab{
	"hr":      {"8867-4", "Heart rate", "/min", "/min", 60, 100, 0, true},
	"sbp":     {"8480-6", "Systolic blood pressure", "mmHg", "mm[Hg]", 90, 139, 0, true},
	"dbp":     {"8462-4", "Diastolic blood pressure", "mmHg", "mm[Hg]", 60, 89, 0, true},
	"temp":    {"8310-5", "Body temperature", "Cel", "Cel", 36.1, 37.8, 1, true},
	"rr":      {"9279-1", "Respiratory rate", "/min", "/min", 12, 20, 0, true},
	"spo2":    {"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%", 95, 100, 0, true},
	"weight":  {"29463-7", "Body weight", "kg", "kg", 0, 0, 1, true},
	"height":  {"8302-2", "Body height", "cm", "cm", 0, 0, 1, true},
	"bmi":     {"39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "kg/m2", 18.5, 24.9, 1, true},
	"glucose": {"2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 70, 99, 0, false},
	"a1c":     {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%", 4.0, 5.6, 1, false},
	"creat":   {"2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0.6, 1.2, 2, false},
	"egfr":    {"62238-1", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based formula (CKD-EPI)", "mL/min/{1.73_m2}", "mL/min/{1.73_m2}", 60, 120, 0, false},
	"bun":     {"3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 7, 20, 0, false},
	"na":      {"2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 135, 145, 0, false},
	"k":       {"2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 3.5, 5.1, 1, false},
	"hgb":     {"718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL", 12.0, 17.5, 1, false},
	"wbc":     {"6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", "10*3/uL", 4.5, 11.0, 1, false},
	"plt":     {"777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", "10*3/uL", 150, 400, 0, false},
	"trop":    {"10839-9", "Troponin I.cardiac [Mass/volume] in Serum or Plasma", "ng/mL", "ng/mL", 0, 0.04, 2, false},
	"bnp":     {"33762-6", "Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma", "pg/mL", "pg/mL", 0, 125, 0, false},
	"lactate": {"2524-7", "Lactate [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 0.5, 2.0, 1, false},
	"chol":    {"2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0, 199, 0, false},
	"ldl":     {"13457-7", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation", "mg/dL", "mg/dL", 0, 99, 0, false},
	"hdl":     {"2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 40, 0, 0, false},
	"trig":    {"2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0, 149, 0, false},
	"tsh":     {"3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", "m[IU]/L", 0.4, 4.0, 2, false},
	"psa":     {"2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma", "ng/mL", "ng/mL", 0, 4.0, 1, false},
}

// panel groups laboratory results under one DiagnosticReport.
type panel struct {
	loinc, display string
	tests          []string
}

var panels = map[string]panel{
	"bmp":     {"51990-0", "Basic metabolic panel - Blood", []string{"na", "k", "bun", "creat", "glucose", "egfr"}},
	"cbc":     {"58410-2", "CBC panel - Blood by Automated count", []string{"wbc", "hgb", "plt"}},
	"lipid":   {"24331-1", "Lipid 1996 panel - Serum or Plasma", []string{"chol", "ldl", "hdl", "trig"}},
	"a1c":     {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", []string{"a1c"}},
	"trop":    {"10839-9", "Troponin I.cardiac [Mass/volume] in Serum or Plasma", []string{"trop"}},
	"bnp":     {"33762-6", "Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma", []string{"bnp"}},
	"lactate": {"2524-7", "Lactate [Moles/volume] in Serum or Plasma", []string{"lactate"}},
	"tsh":     {"3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", []string{"tsh"}},
	"psa":     {"2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma", []string{"psa"}},
}

// imaging is a kind of imaging study.
type imaging struct {
	pcs, modality, modalityDisplay, description, bodySite, bodySiteDisplay string
	normal, abnormal                                                       string
}

var imagings = map[string]imaging{
	"cxr":    {"BW03ZZZ", "DX", "Digital Radiography", "XR chest 2 views", "51185008", "Thoracic structure", "No acute cardiopulmonary process.", ""},
	"cthead": {"B020ZZZ", "CT", "Computed Tomography", "CT head without contrast", "69536005", "Head structure", "No acute intracranial abnormality.", ""},
	"ctabd":  {"BW20ZZZ", "CT", "Computed Tomography", "CT abdomen", "113345001", "Abdominal structure", "No acute abdominal process.", ""},
	"usabd":  {"BW40ZZZ", "US", "Ultrasound", "US abdomen", "113345001", "Abdominal structure", "Normal gallbladder. No biliary ductal dilation.", ""},
	"xrhipR": {"BQ00ZZZ", "DX", "Digital Radiography", "XR right hip", "24136001", "Hip joint structure", "No fracture.", ""},
	"xrhipL": {"BQ01ZZZ", "DX", "Digital Radiography", "XR left hip", "24136001", "Hip joint structure", "No fracture.", ""},
	"echo":   {"B246ZZZ", "US", "Ultrasound", "Transthoracic echocardiogram", "80891009", "Heart structure", "Normal biventricular size and function.", ""},
	"mammo":  {"BH02ZZZ", "MG", "Mammography", "Screening mammogram, bilateral", "76752008", "Breast structure", "BI-RADS 1: negative.", ""},
}
