package coding

import (
	"strings"
)

// Section kinds a note's headings are read as. The kind decides how much a
// mention counts and how it is read (a past medical history item is a
// history; a family history item is coded as family history; medications,
// vitals and the like are not read at all).
const (
	SecOther       = "other"
	SecPrincipal   = "principal-diagnosis"
	SecDiagnoses   = "diagnoses"  // secondary, discharge or final diagnoses
	SecAssessment  = "assessment" // assessment and plan, impression
	SecPreop       = "preoperative-diagnosis"
	SecHPI         = "hpi"
	SecCourse      = "hospital-course"
	SecPMH         = "past-medical-history"
	SecPSH         = "past-surgical-history"
	SecFamily      = "family-history"
	SecSocial      = "social-history"
	SecComplaint   = "chief-complaint"
	SecProcedure   = "procedures"
	SecSubjective  = "subjective"
	SecIgnored     = "ignored"
	secTitleMarker = "title"
)

// headings maps a heading (upper case, without its colon) to its kind.
var headings = map[string]string{
	"PRINCIPAL DIAGNOSIS": SecPrincipal, "PRIMARY DIAGNOSIS": SecPrincipal, "ADMITTING DIAGNOSIS": SecPrincipal,
	"PRINCIPAL DIAGNOSES": SecPrincipal, "DIAGNOSIS": SecDiagnoses,
	"SECONDARY DIAGNOSES": SecDiagnoses, "SECONDARY DIAGNOSIS": SecDiagnoses, "DISCHARGE DIAGNOSES": SecDiagnoses,
	"DISCHARGE DIAGNOSIS": SecDiagnoses, "FINAL DIAGNOSES": SecDiagnoses, "FINAL DIAGNOSIS": SecDiagnoses,
	"DIAGNOSES": SecDiagnoses, "OTHER DIAGNOSES": SecDiagnoses, "ACTIVE PROBLEMS": SecDiagnoses, "PROBLEM LIST": SecDiagnoses,
	"ASSESSMENT AND PLAN": SecAssessment, "ASSESSMENT/PLAN": SecAssessment, "ASSESSMENT": SecAssessment,
	"A/P": SecAssessment, "A": SecAssessment, "IMPRESSION": SecAssessment, "IMPRESSION AND PLAN": SecAssessment,
	"PREOPERATIVE DIAGNOSIS": SecPreop, "POSTOPERATIVE DIAGNOSIS": SecPreop, "PRE-OPERATIVE DIAGNOSIS": SecPreop,
	"POST-OPERATIVE DIAGNOSIS": SecPreop, "INDICATION": SecPreop, "INDICATIONS": SecPreop,
	"HISTORY OF PRESENT ILLNESS": SecHPI, "HPI": SecHPI, "HOSPITAL COURSE": SecCourse, "BRIEF HOSPITAL COURSE": SecCourse,
	"PAST MEDICAL HISTORY": SecPMH, "PMH": SecPMH, "PAST HISTORY": SecPMH,
	"PAST SURGICAL HISTORY": SecPSH, "PSH": SecPSH, "SURGICAL HISTORY": SecPSH,
	"FAMILY HISTORY": SecFamily, "FH": SecFamily, "SOCIAL HISTORY": SecSocial, "SH": SecSocial,
	"CHIEF COMPLAINT": SecComplaint, "CC": SecComplaint, "REASON FOR CONSULTATION": SecComplaint,
	"PROCEDURE": SecProcedure, "PROCEDURES": SecProcedure, "OPERATION": SecProcedure, "OPERATIONS": SecProcedure,
	"PROCEDURE PERFORMED": SecProcedure, "PROCEDURES PERFORMED": SecProcedure, "OPERATION PERFORMED": SecProcedure,
	"S": SecSubjective, "SUBJECTIVE": SecSubjective,
	"MEDICATIONS": SecIgnored, "DISCHARGE MEDICATIONS": SecIgnored, "HOME MEDICATIONS": SecIgnored, "ALLERGIES": SecIgnored,
	"PHYSICAL EXAM": SecIgnored, "PHYSICAL EXAMINATION": SecIgnored, "EXAM": SecIgnored, "O": SecIgnored, "OBJECTIVE": SecIgnored,
	"VITALS": SecIgnored, "LABS": SecIgnored, "GENERAL": SecIgnored, "FOLLOW-UP": SecIgnored, "FOLLOW UP": SecIgnored,
	"DISCHARGE DISPOSITION": SecIgnored, "DISPOSITION": SecIgnored, "LENGTH OF STAY": SecIgnored, "ATTENDING": SecIgnored,
	"SURGEON": SecIgnored, "ASSISTANT": SecIgnored, "ANESTHESIA": SecIgnored, "ESTIMATED BLOOD LOSS": SecIgnored,
	"DESCRIPTION": SecIgnored, "PATIENT": SecIgnored, "MRN": SecIgnored, "DOB": SecIgnored, "REQUESTING PHYSICIAN": SecIgnored,
	"RECOMMENDATIONS": SecIgnored, "PLAN": SecIgnored, "REVIEW OF SYSTEMS": SecOther, "ROS": SecOther,
	"COMPLICATIONS": SecDiagnoses, "CONDITION AT DISCHARGE": SecIgnored, "CODE STATUS": SecIgnored, "DIET": SecIgnored,
}

// A segment is a piece of a note read as one unit: a line or a sentence,
// with the section it is in. Start and End are byte offsets in the note.
type segment struct {
	start, end int
	section    string
	// item: the segment is an item of a list (a list line, a line of a
	// diagnoses section, the problem of a "problem: plan" line) rather
	// than running prose.
	item bool
}

// segments splits text into sections and sentences. A heading is a line
// that starts with one of the known headings followed by a colon (in any
// case for the short forms clinicians use: "A/P:", "Vitals:"); what
// follows the colon on the same line belongs to the new section. Lines of
// a list ("- item", "1. item") are segments of their own, as are sentences.
func segments(text string, out []segment) []segment {
	section := SecOther
	for pos := 0; pos < len(text); {
		eol := strings.IndexByte(text[pos:], '\n')
		if eol < 0 {
			eol = len(text)
		} else {
			eol += pos
		}
		line := text[pos:eol]
		start := pos
		pos = eol + 1
		if colon := strings.IndexByte(line, ':'); colon > 0 && colon <= 40 {
			if kind, ok := headings[strings.ToUpper(strings.TrimSpace(line[:colon]))]; ok {
				section = kind
				start += colon + 1
				line = line[colon+1:]
			}
		} else if isTitleLine(line) {
			// A note's title ("OPERATIVE REPORT") or a heading on its own
			// line without a colon: a new, unnamed section.
			upper := strings.TrimSpace(line)
			if kind, ok := headings[upper]; ok {
				section = kind
			} else {
				section = SecOther
			}
			continue
		}
		if section == SecIgnored {
			continue
		}
		item := false
		switch section {
		case SecPrincipal, SecDiagnoses, SecPreop, SecPMH, SecProcedure, SecFamily:
			item = true
		}
		switch section {
		case SecAssessment, SecDiagnoses, SecPrincipal, SecPreop:
			// "Problem: plan" — the plan is not read.
			if c := strings.Index(line, ": "); c > 0 && c < 120 {
				line = line[:c]
				item = true
			}
		}
		n := len(out)
		out = sentences(text, start, start+len(line), section, out)
		if item || listLine(line) {
			for i := n; i < len(out); i++ {
				out[i].item = true
			}
		}
	}
	return out
}

// listLine reports whether line is an item of a list ("- x", "2. x").
func listLine(line string) bool {
	line = strings.TrimLeft(line, " \t")
	if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") {
		return true
	}
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(line) && (line[i] == '.' || line[i] == ')') && line[i+1] == ' '
}

// isTitleLine reports whether line is written all in capitals without
// digits (a title or heading), with at least four letters.
func isTitleLine(line string) bool {
	line = strings.TrimSpace(line)
	if line == "" || line[0] < 'A' || line[0] > 'Z' {
		return false // list items and numbered lines are content
	}
	letters := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			return false
		case c >= 'A' && c <= 'Z':
			letters++
		}
	}
	return letters >= 4
}

// sentences splits text[start:end] at sentence ends (". " or a final ".")
// and semicolons, dropping list markers, and appends the pieces.
func sentences(text string, start, end int, section string, out []segment) []segment {
	// list markers: "- ", "* ", "1. ", "12) "
	for start < end && (text[start] == ' ' || text[start] == '\t') {
		start++
	}
	if start < end && (text[start] == '-' || text[start] == '*') {
		start++
	} else {
		i := start
		for i < end && text[i] >= '0' && text[i] <= '9' {
			i++
		}
		if i > start && i < end && (text[i] == '.' || text[i] == ')') && i+1 < end && text[i+1] == ' ' {
			start = i + 1
		}
	}
	s := start
	for i := start; i < end; i++ {
		c := text[i]
		if c == ';' || (c == '.' && (i+1 == end || text[i+1] == ' ') && !abbrevDot(text, s, i)) {
			out = appendSeg(text, s, i, section, out)
			s = i + 1
		}
	}
	return appendSeg(text, s, end, section, out)
}

// abbrevDot reports whether the dot at i ends an abbreviation ("E. coli",
// "Dr.", "vs.") rather than a sentence.
func abbrevDot(text string, from, i int) bool {
	j := i
	for j > from && isWordByte(text[j-1]) {
		j--
	}
	w := text[j:i]
	switch strings.ToLower(w) {
	case "dr", "vs", "e", "st", "mr", "mrs", "ms", "approx", "h", "s":
		return true
	}
	return false
}

func appendSeg(text string, s, e int, section string, out []segment) []segment {
	for s < e && isSpace(text[s]) {
		s++
	}
	for e > s && isSpace(text[e-1]) {
		e--
	}
	if e > s {
		out = append(out, segment{start: s, end: e, section: section})
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
