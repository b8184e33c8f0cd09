package mllp_test

import (
	"fmt"
	"strings"
)

// The realistic mix: each patient's stay as a hospital's feeds send it —
// an admission (ADT^A01 with an admitting diagnosis), two laboratory
// results (ORU^R01, six OBX each: a basic metabolic panel and a blood
// count), a demographics update (ADT^A08), a transcribed note (MDM^T02,
// five lines of text, authenticated) and the discharge (ADT^A03). Half the
// messages are ADT, a third ORU, a sixth MDM. Names, numbers and values
// are made up.

// stayMessages is how many messages one stay has.
const stayMessages = 6

// stay returns message k (0 to stayMessages-1) of patient p's stay, sent
// by sender; control ids are unique per sender and message.
func stay(sender string, p, k int) []byte {
	mrn := fmt.Sprintf("%s-M%06d", sender, p)
	visit := fmt.Sprintf("%s-V%06d", sender, p)
	ctl := fmt.Sprintf("%s-%06d-%d", sender, p, k)
	day := 1 + p%27
	admit := fmt.Sprintf("202603%02d0815+0000", day)
	phone := "555"
	if k >= 3 {
		phone = "556" // the demographics update (A08) changed it
	}
	pid := "PID|1||" + mrn + "^^^HOSP^MR||" + surnames[p%len(surnames)] + "^" + givens[p%len(givens)] + "^Q||" +
		fmt.Sprintf("19%02d%02d%02d", 30+p%60, 1+p%12, 1+p%28) + "|" + "FM"[p%2:p%2+1] + "|||" +
		fmt.Sprintf("%d Elm St^^Springfield^IL^627%02d^USA", 10+p%900, p%100) + "||^PRN^PH^^1^217^" + phone + fmt.Sprintf("%04d", p%10000)
	pv1 := func(end, disposition string) string {
		f := make([]string, 46)
		f[0], f[1], f[2], f[3] = "PV1", "1", "I", fmt.Sprintf("W%d^%d^%s^HOSP", 1+p%6, 100+p%40, "AB"[p%2:p%2+1])
		f[7] = fmt.Sprintf("D%03d^%s^%s^^^DR^^^HOSP", p%50, surnames[(p+3)%len(surnames)], givens[(p+5)%len(givens)])
		f[10], f[19], f[36], f[44], f[45] = "MED", visit+"^^^HOSP^VN", disposition, admit, end
		return strings.Join(f, "|")
	}
	msh := func(app, typ string) string {
		return "MSH|^~\\&|" + app + "|HOSP|CUSTODIAN|HIM|" + admit + "||" + typ + "|" + ctl + "|P|2.5.1"
	}
	var segs []string
	switch k {
	case 0:
		segs = []string{msh("ADT", "ADT^A01^ADT_A01"), "EVN|A01|" + admit, pid, pv1("", ""),
			"DG1|1||" + icd[p%len(icd)] + "^I10||" + admit + "|A"}
	case 1, 2:
		panel := panels[k-1]
		order := fmt.Sprintf("%s-L%06d-%d", sender, p, k)
		segs = []string{msh("LAB", "ORU^R01^ORU_R01"), pid, pv1("", ""),
			"ORC|RE||" + order + "^LAB",
			"OBR|1||" + order + "^LAB|" + panel.code + "^" + panel.name + "^LN|||" + admit + "|||||||||D001^Lab^Ann^^^DR||||||" + admit + "|||F"}
		for i, t := range panel.tests {
			v := t.low + float64((p*7+i*3)%20)*(t.high-t.low)/15
			flag := "N"
			if v > t.high {
				flag = "H"
			}
			segs = append(segs, fmt.Sprintf("OBX|%d|NM|%s^%s^LN||%.1f|%s^%s^UCUM|%g-%g|%s|||F|||%s",
				i+1, t.code, t.name, v, t.unit, t.unit, t.low, t.high, flag, admit))
		}
	case 3:
		segs = []string{msh("ADT", "ADT^A08^ADT_A08"), "EVN|A08|" + admit, pid, pv1("", "")}
	case 4:
		doc := fmt.Sprintf("%s-N%06d", sender, p)
		segs = []string{msh("TRANS", "MDM^T02^MDM_T02"), "EVN|T02|" + admit, pid, pv1("", ""),
			"TXA|1|PN|TX|" + admit + "|D010^Note^Nora^^^DR||" + admit + "|||D010^Note^Nora^^^DR||" + doc + "^TRANS||||AU||AV|||||D010^Note^Nora^^^DR^^^^^^^^^" + admit}
		for i, line := range noteLines {
			segs = append(segs, fmt.Sprintf("OBX|%d|TX|18842-5^Progress note^LN||%s||||||F", i+1, line))
		}
	default:
		segs = []string{msh("ADT", "ADT^A03^ADT_A03"), "EVN|A03|" + admit, pid, pv1(fmt.Sprintf("202603%02d1400+0000", day+1), "01")}
	}
	return []byte(strings.Join(segs, "\r") + "\r")
}

var (
	surnames  = []string{"Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Novak", "Quispe", "Brennan", "Sato", "Adeyemi", "Kowalski", "Ferreira"}
	givens    = []string{"Ada", "Bram", "Chidi", "Dana", "Eitan", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kira", "Luca", "Mina"}
	icd       = []string{"I21.4", "J18.9", "N17.9", "I50.23", "A41.9", "K35.80", "E11.65", "J44.1"}
	noteLines = []string{
		"Patient seen on morning rounds, resting comfortably.",
		"Afebrile overnight, vitals stable, tolerating diet.",
		"Labs reviewed: electrolytes within range, hemoglobin stable.",
		"Plan: continue current therapy, ambulate, reassess tomorrow.",
		"Discussed plan with patient and family, questions answered.",
	}
	panels = []struct {
		code, name string
		tests      []labTest
	}{
		{"51990-0", "Basic metabolic panel", []labTest{
			{"2951-2", "Sodium", "mmol/L", 136, 145}, {"2823-3", "Potassium", "mmol/L", 3.5, 5.1},
			{"2075-0", "Chloride", "mmol/L", 98, 107}, {"2028-9", "Carbon dioxide", "mmol/L", 22, 29},
			{"3094-0", "Urea nitrogen", "mg/dL", 7, 20}, {"2160-0", "Creatinine", "mg/dL", 0.6, 1.2}}},
		{"58410-2", "CBC panel", []labTest{
			{"6690-2", "Leukocytes", "10*3/uL", 4, 11}, {"789-8", "Erythrocytes", "10*6/uL", 4.2, 5.9},
			{"718-7", "Hemoglobin", "g/dL", 12, 17.5}, {"4544-3", "Hematocrit", "%", 36, 50},
			{"787-2", "MCV", "fL", 80, 100}, {"777-3", "Platelets", "10*3/uL", 150, 400}}},
	}
)

type labTest struct {
	code, name, unit string
	low, high        float64
}

// feedOrder returns the order in which a sender sends the messages of n
// patients' stays: stays overlap (window of them in progress at once),
// each stay's messages in their order, as a busy feed interleaves
// patients. Each item is (patient, message).
func feedOrder(n, window int) [][2]int {
	var out [][2]int
	for start := 0; start < n; start += window {
		end := min(start+window, n)
		for k := range stayMessages {
			for p := start; p < end; p++ {
				out = append(out, [2]int{p, k})
			}
		}
	}
	return out
}
