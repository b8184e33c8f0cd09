package deid

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Names is the vocabulary of person and place names the scrubber removes
// from free text: every name part of the patients, relatives, contacts
// and practitioners in the record, and the cities of their addresses,
// lower-cased. It grows with the number of distinct names, not of
// records.
type Names map[string]struct{}

// Add adds the words of s (name parts of two letters or more).
func (n Names) Add(s string) {
	for _, w := range strings.FieldsFunc(s, notNameRune) {
		if utf8.RuneCountInString(w) >= 2 {
			n[strings.ToLower(w)] = struct{}{}
		}
	}
}

func notNameRune(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }

// Scrubber removes protected details from free text.
type Scrubber struct {
	Names Names
	// Limited keeps dates, ages and town/ZIP (a limited data set); Safe
	// Harbor otherwise.
	Limited bool
	// Shift, when not nil, moves dates in the text by the patient's shift
	// instead of cutting them to the year.
	Shift bool
	// Now is the day the export is made: a year more than 89 years before
	// it could give away an age over 89, so it is not kept.
	Now time.Time
}

// Replacements written into scrubbed text.
const (
	tagName    = "[NAME]"
	tagDate    = "[DATE]"
	tagPhone   = "[PHONE]"
	tagSSN     = "[SSN]"
	tagID      = "[ID]"
	tagEmail   = "[EMAIL]"
	tagURL     = "[URL]"
	tagIP      = "[IP]"
	tagAddress = "[ADDRESS]"
	tagZIP     = "[ZIP]"
	age90      = "90+"
)

// Text rules. URLs and emails are found first (over the whole text, when
// it has "://", "www." or "@"); the others are tried, anchored, at the
// start of each word, in the order of the rule lists below (SSNs before
// phone numbers, dates before bare numbers), on a window of the text
// (a match is shorter than window bytes). Anchored matching at word
// starts costs one short attempt per number or candidate word instead of
// a scan of the whole text per rule.
var (
	reURL   = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"]+|\bwww\.[^\s<>"]+`)
	reEmail = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

	reIP        = anchored(`(?:\d{1,3}\.){3}\d{1,3}\b`)
	reSSN       = anchored(`\d{3}-\d{2}-\d{4}\b`)
	rePhone     = anchored(`(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}\b`)
	reStreet    = anchored(`\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy)\b\.?(?:,?\s+(?:Apt|Suite|Unit|#)\.?\s*[A-Za-z0-9-]+)?`)
	reDateISO   = anchored(`(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b`)
	reDateNum   = anchored(`(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b|(\d{1,2})-(\d{1,2})-(\d{4}|\d{2})\b`)
	reDateDMY   = anchored(`(?i)(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b`)
	reAge       = anchored(`(?i)(9\d|1[0-4]\d)(\s*-?\s*(?:years?\b|yrs?\b|y/o\b|yo\b|y\.\s?o\.?))`)
	reDecade    = anchored(`(?:9|1[0-4])0'?s\b`)
	reAgeWord   = anchored(`(?i)(?:nineties|ninety(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?(\s*-?\s*(?:years?|yrs?)\b))`)
	reDateDM    = anchored(`\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEPT?|OCT|NOV|DEC)\b\.?`)
	reDateShort = anchored(`(\d{1,2})/(\d{1,2})\b`)
	reDateMY    = anchored(`(?i)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b`)
	reLongNum   = anchored(`\d{6,}\b`)
	reDateMDY   = anchored(`(?i)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`)
	reDateMD    = anchored(`(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+\d{1,2}(?:st|nd|rd|th)?\b`)
	reZIP       = anchored(`([A-Z]{2})\s+\d{5}(?:-\d{4})?\b`)
	reLabelled  = anchored(`(?i)(MRN|MR#|medical record(?: number| no\.?)?|acct|account(?: number| no\.?)?|member id|policy(?: number| no\.?)?|licen[cs]e(?: number| no\.?)?|serial(?: number| no\.?)?|SSN|social security(?: number| no\.?)?)(\s*[:#]?\s*)([A-Z0-9][A-Z0-9-]{3,})\b`)
	reAgeLabel  = anchored(`(?i)(age[d]?\s*:?\s*)(9\d|1[0-4]\d)\b`)
	reRelative  = anchored(`(?i:(daughter|son|wife|husband|mother|father|sister|brother|spouse|partner|friend|neighbou?r|caregiver|guardian|niece|nephew|grandson|granddaughter|aunt|uncle|cousin))(,?\s+(?:named\s+)?)[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?`)
	reNameLabel = anchored(`(?i:(patient|name|pt|contact))(\s*:\s*)[A-Z][a-z'-]+(?:\s+[A-Z]\.|\s+[A-Z]\b)?(?:\s+[A-Z][a-z'-]+)?`)
	reBy        = anchored(`(?i:((?:seen|signed|dictated|reviewed|examined) by))(\s+)[A-Z][a-z'-]+(?:\s+[A-Z]\.|\s+[A-Z]\b)?(?:\s+[A-Z][a-z'-]+)?`)
	reTitled    = anchored(`(Dr|Mr|Mrs|Ms|Miss|Mx)(\.?\s+)[A-Z][A-Za-z'-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][A-Za-z'-]+)?`)
)

func anchored(expr string) *regexp.Regexp { return regexp.MustCompile(`^(?:` + expr + `)`) }

const xhtmlNamespace = "http://www.w3.org/1999/xhtml"

// window bounds the text an anchored rule looks at.
const window = 120

// labelWords start the labelled identifiers ("MRN: …", "Account no. …").
var labelWords = map[string]bool{"mrn": true, "mr": true, "medical": true, "acct": true, "account": true, "member": true,
	"policy": true, "license": true, "licence": true, "serial": true, "ssn": true, "social": true}

// relatives start "daughter Maria"; nameLabels start "Patient: Maria
// Lopez" and "signed by Maria Lopez".
var relatives = map[string]bool{"daughter": true, "son": true, "wife": true, "husband": true, "mother": true, "father": true,
	"sister": true, "brother": true, "spouse": true, "partner": true, "friend": true, "neighbor": true, "neighbour": true,
	"caregiver": true, "guardian": true, "niece": true, "nephew": true, "grandson": true, "granddaughter": true,
	"aunt": true, "uncle": true, "cousin": true}

var nameLabels = map[string]bool{"patient": true, "name": true, "pt": true, "contact": true}

var byWords = map[string]bool{"seen": true, "signed": true, "dictated": true, "reviewed": true, "examined": true}

var titles = map[string]bool{"Dr": true, "Mr": true, "Mrs": true, "Ms": true, "Miss": true, "Mx": true}

var months = map[string]time.Month{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}

// rule is an anchored text rule: the replacement of a match (sm are its
// submatches), or ok false to leave it.
type rule struct {
	re   *regexp.Regexp
	name string
	fn   func(s *Scrubber, sm []string, shift int) (string, bool)
}

func tag(t string) func(*Scrubber, []string, int) (string, bool) {
	return func(*Scrubber, []string, int) (string, bool) { return t, true }
}

// numberRules are tried at words that begin with a digit, "(" or "+".
var numberRules = []rule{
	{reIP, "text-ip", tag(tagIP)},
	{reSSN, "text-ssn", tag(tagSSN)},
	{rePhone, "text-phone", tag(tagPhone)},
	{reStreet, "text-address", tag(tagAddress)},
	{reDateISO, "text-date", func(s *Scrubber, sm []string, shift int) (string, bool) {
		return s.date(atoi(sm[1]), atoi(sm[2]), atoi(sm[3]), "2006-01-02", shift)
	}},
	{reDateNum, "text-date", func(s *Scrubber, sm []string, shift int) (string, bool) {
		if sm[1] == "" { // written with hyphens
			sm = []string{sm[0], sm[4], sm[5], sm[6]}
		}
		if len(sm[3]) == 2 {
			if s.Limited && !s.Shift {
				return "", false
			}
			return tagDate, true // the century is unknown
		}
		return s.date(atoi(sm[3]), atoi(sm[1]), atoi(sm[2]), "01/02/2006", shift)
	}},
	{reDateDMY, "text-date", func(s *Scrubber, sm []string, shift int) (string, bool) {
		return s.date(atoi(sm[3]), int(months[strings.ToLower(sm[2])]), atoi(sm[1]), "2 January 2006", shift)
	}},
	// A day and month without a year ("14 Mar") cannot be shifted
	// reliably.
	{reDateDM, "text-date", yearless},
	{reAge, "text-age", func(s *Scrubber, sm []string, _ int) (string, bool) {
		if s.Limited {
			return "", false
		}
		return age90 + sm[2], true // 164.514(b)(2)(i)(C)
	}},
	{reDecade, "text-age", func(s *Scrubber, _ []string, _ int) (string, bool) {
		if s.Limited {
			return "", false
		}
		return age90, true // "in her 90s"
	}},
	{reLongNum, "text-identifier", tag(tagID)},
}

// yearless replaces a day and month written without a year.
func yearless(s *Scrubber, _ []string, _ int) (string, bool) {
	if s.Limited && !s.Shift {
		return "", false
	}
	return tagDate, true
}

// fractionBefore and fractionAfter are words beside "n/m" that make it a
// score, a grade or a fraction ("pain 7/10", "5/5 strength", "1/2 tab"),
// not a month and day.
var (
	fractionBefore = map[string]bool{"pain": true, "score": true, "scale": true, "strength": true, "power": true, "rated": true,
		"graded": true, "grade": true, "bp": true, "ratio": true, "gcs": true, "motor": true, "reflexes": true, "murmur": true,
		"apgar": true, "apgars": true, "vision": true, "acuity": true, "sat": true, "sats": true, "sit": true, "take": true, "takes": true}
	fractionAfter = map[string]bool{"tab": true, "tabs": true, "tablet": true, "tablets": true, "cap": true, "caps": true, "strength": true,
		"of": true, "cup": true, "cups": true, "inch": true, "inches": true, "dose": true, "doses": true, "full": true, "power": true,
		"murmur": true, "pain": true, "mg": true, "ml": true, "ns": true, "teaspoon": true, "tsp": true, "pill": true, "pills": true,
		"bilaterally": true, "throughout": true}
)

// monthDay reports whether the "n/m" at text[i:i+n] is a month and day
// written without a year ("seen 3/14"), judging by the numbers and the
// words on either side.
func monthDay(text string, i, n int, sm []string) bool {
	a, b := atoi(sm[1]), atoi(sm[2])
	if a < 1 || b < 1 || !(a <= 12 && b <= 31 || b <= 12 && a <= 31) {
		return false // "120/80", "0/10", "20/20"
	}
	if i > 0 && (text[i-1] == '/' || text[i-1] == '.' || text[i-1] == '-') {
		return false // part of something longer
	}
	if rest := text[i+n:]; len(rest) > 0 && (rest[0] == '/' || rest[0] == '.' && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9') {
		return false
	}
	return !fractionBefore[lastWord(text[:i])] && !fractionAfter[firstWord(text[i+n:])]
}

func lastWord(s string) string {
	s = strings.TrimRight(s, " :,(")
	j := len(s)
	for j > 0 && (s[j-1] >= 'a' && s[j-1] <= 'z' || s[j-1] >= 'A' && s[j-1] <= 'Z') {
		j--
	}
	return strings.ToLower(s[j:])
}

func firstWord(s string) string {
	s = strings.TrimLeft(s, " ")
	j := 0
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
		j++
	}
	return strings.ToLower(s[:j])
}

var (
	monthRules = []rule{
		{reDateMDY, "text-date", func(s *Scrubber, sm []string, shift int) (string, bool) {
			return s.date(atoi(sm[3]), int(months[strings.ToLower(sm[1])]), atoi(sm[2]), "January 2, 2006", shift)
		}},
		// A month and year: the year is kept, or the middle of the month
		// shifted.
		{reDateMY, "text-date", func(s *Scrubber, sm []string, shift int) (string, bool) {
			return s.date(atoi(sm[2]), int(months[strings.ToLower(sm[1])]), 15, "January 2006", shift)
		}},
		// A month and day without a year cannot be shifted reliably.
		{reDateMD, "text-date", func(s *Scrubber, _ []string, _ int) (string, bool) {
			if s.Limited && !s.Shift {
				return "", false
			}
			return tagDate, true
		}},
	}
	zipRule = rule{reZIP, "text-zip", func(s *Scrubber, sm []string, _ int) (string, bool) {
		if s.Limited {
			return "", false
		}
		return sm[1] + " " + tagZIP, true
	}}
	labelRule = rule{reLabelled, "text-identifier", func(_ *Scrubber, sm []string, _ int) (string, bool) {
		if !strings.ContainsAny(sm[3], "0123456789") {
			return "", false // a word ("serial troponins"), not a number
		}
		return sm[1] + sm[2] + tagID, true
	}}
	ageWordRule = rule{reAgeWord, "text-age", func(s *Scrubber, sm []string, _ int) (string, bool) {
		if s.Limited {
			return "", false
		}
		return age90 + sm[1], true // "ninety-two years", "in his nineties"
	}}
	ageLabelRule = rule{reAgeLabel, "text-age", func(s *Scrubber, sm []string, _ int) (string, bool) {
		if s.Limited {
			return "", false
		}
		return sm[1] + age90, true
	}}
	relativeRule = rule{reRelative, "text-name", func(_ *Scrubber, sm []string, _ int) (string, bool) {
		return sm[1] + sm[2] + tagName, true
	}}
	nameLabelRule = rule{reNameLabel, "text-name", func(_ *Scrubber, sm []string, _ int) (string, bool) {
		return sm[1] + sm[2] + tagName, true
	}}
	byRule = rule{reBy, "text-name", func(_ *Scrubber, sm []string, _ int) (string, bool) {
		if name := sm[0][len(sm[1])+len(sm[2]):]; titles[strings.TrimRight(strings.Fields(name)[0], ".")] {
			return "", false // "seen by Dr. …": the title rule takes it
		}
		return sm[1] + sm[2] + tagName, true
	}}
	titleRule = rule{reTitled, "text-name", func(_ *Scrubber, sm []string, _ int) (string, bool) {
		return sm[1] + sm[2] + tagName, true
	}}
)

// Scrub returns text with protected details replaced, counting each
// replacement under its rule in counts. shift is the patient's date shift
// in days (used when s.Shift is set).
func (s *Scrubber) Scrub(text string, shift int, counts map[string]int) string {
	if text == "" {
		return text
	}
	if strings.Contains(text, "://") || strings.Contains(text, "www.") {
		text = reURL.ReplaceAllStringFunc(text, func(u string) string {
			if u == xhtmlNamespace {
				return u // a narrative's namespace, not a person's URL
			}
			counts["text-url"]++
			return tagURL
		})
	}
	if strings.IndexByte(text, '@') >= 0 {
		text = replace(reEmail, text, tagEmail, "text-email", counts)
	}
	var b strings.Builder
	last := 0
	var lower []byte
	emit := func(i, n int, rep string) {
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[last:i])
		b.WriteString(rep)
		last = i + n
	}
	for i := 0; i < len(text); {
		c := text[i]
		if i > 0 && wordByte(text[i-1]) {
			i++
			continue
		}
		if c >= '0' && c <= '9' || c == '(' || c == '+' {
			if n, rep, ok := s.try(numberRules, text[i:], shift, counts); ok {
				emit(i, n, rep)
				i += n
				continue
			}
			if c <= '9' {
				if sm := reDateShort.FindStringSubmatch(text[i:min(len(text), i+8)]); sm != nil && monthDay(text, i, len(sm[0]), sm) {
					if rep, ok := yearless(s, sm, shift); ok {
						counts["text-date"]++
						emit(i, len(sm[0]), rep)
						i += len(sm[0])
						continue
					}
				}
			}
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		if !unicode.IsLetter(r) {
			i += size
			continue
		}
		j := i + size
		for j < len(text) {
			r2, s2 := rune(text[j]), 1
			if r2 >= utf8.RuneSelf {
				r2, s2 = utf8.DecodeRuneInString(text[j:])
			}
			if !unicode.IsLetter(r2) && r2 != '\'' {
				break
			}
			j += s2
		}
		w := text[i:j]
		var rules []rule
		switch {
		case titles[w]:
			rules = []rule{titleRule}
		case len(w) == 2 && w[0] >= 'A' && w[0] <= 'Z' && w[1] >= 'A' && w[1] <= 'Z':
			rules = []rule{zipRule, labelRule}
		case len(w) >= 2:
			lower = appendLower(lower[:0], w)
			if _, ok := months[string(lower[:min(3, len(lower))])]; ok && len(lower) >= 3 {
				rules = monthRules
			} else if relatives[string(lower)] {
				rules = []rule{relativeRule}
			} else if nameLabels[string(lower)] {
				rules = []rule{nameLabelRule, labelRule}
			} else if byWords[string(lower)] {
				rules = []rule{byRule}
			} else if labelWords[string(lower)] {
				rules = []rule{labelRule}
			} else if string(lower) == "age" || string(lower) == "aged" {
				rules = []rule{ageLabelRule}
			} else if strings.HasPrefix(string(lower), "ninet") {
				rules = []rule{ageWordRule}
			}
		}
		if rules != nil {
			if n, rep, ok := s.try(rules, text[i:], shift, counts); ok {
				emit(i, n, rep)
				i += n
				continue
			}
		}
		if unicode.IsUpper(r) && j-i >= 2 && len(s.Names) > 0 {
			lower = appendLower(lower[:0], strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "'"))
			if _, ok := s.Names[string(lower)]; ok {
				emit(i, j-i, tagName)
				counts["text-name"]++
			}
		}
		i = j
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// try runs rules anchored at the start of text; it returns the length
// replaced and its replacement.
func (s *Scrubber) try(rules []rule, text string, shift int, counts map[string]int) (int, string, bool) {
	win := text[:min(len(text), window)]
	for _, ru := range rules {
		sm := ru.re.FindStringSubmatch(win)
		if sm == nil {
			continue
		}
		if len(sm[0]) == len(win) && len(win) < len(text) && wordByte(text[len(win)]) {
			continue // cut by the window in the middle of a word
		}
		if rep, ok := ru.fn(s, sm, shift); ok {
			counts[ru.name]++
			return len(sm[0]), rep, true
		}
	}
	return 0, "", false
}

func wordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b >= utf8.RuneSelf
}

func replace(re *regexp.Regexp, text, tag, rule string, counts map[string]int) string {
	return re.ReplaceAllStringFunc(text, func(string) string {
		counts[rule]++
		return tag
	})
}

// date rewrites one date found in text: ok is false to keep it as it is
// (a limited data set without shifting, or something that is no date).
func (s *Scrubber) date(y, mo, d int, layout string, shift int) (string, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 {
		return "", false // not a date (a ratio, a code)
	}
	if s.Shift {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, shift).Format(layout), true
	}
	if s.Limited {
		return "", false
	}
	if y <= s.Now.Year()-90 {
		return tagDate, true // the year alone could show an age over 89
	}
	return strconv.Itoa(y), true
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func appendLower(dst []byte, w string) []byte {
	for _, r := range w {
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}
