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

// Text rules, in the order they run (URLs and emails before the number
// rules that would cut them up, SSNs before phone numbers, numbers before
// names).
var (
	reURL      = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"]+|\bwww\.[^\s<>"]+`)
	reEmail    = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	reIP       = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	reSSN      = regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`)
	rePhone    = regexp.MustCompile(`(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b`)
	reDateNum  = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b`)
	reDateISO  = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b`)
	reDateMDY  = regexp.MustCompile(`(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`)
	reDateDMY  = regexp.MustCompile(`(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b`)
	reDateMD   = regexp.MustCompile(`\b(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+\d{1,2}(?:st|nd|rd|th)?\b`)
	reStreet   = regexp.MustCompile(`\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy)\b\.?(?:,?\s+(?:Apt|Suite|Unit|#)\.?\s*[A-Za-z0-9-]+)?`)
	reZIP      = regexp.MustCompile(`\b([A-Z]{2})\s+\d{5}(?:-\d{4})?\b`)
	reLabelled = regexp.MustCompile(`(?i)\b(MRN|MR#|medical record(?: number| no\.?)?|acct|account(?: number| no\.?)?|member id|policy(?: number| no\.?)?|licen[cs]e(?: number| no\.?)?|serial(?: number| no\.?)?|SSN|social security(?: number| no\.?)?)(\s*[:#]?\s*)([A-Z0-9][A-Z0-9-]{3,})\b`)
	reLongNum  = regexp.MustCompile(`\b\d{6,}\b`)
	reAge      = regexp.MustCompile(`(?i)\b(9\d|1[0-4]\d)(\s*-?\s*(?:years?|yrs?|y/?o)\b)`)
	reAgeLabel = regexp.MustCompile(`(?i)\b(age[d]?\s*:?\s*)(9\d|1[0-4]\d)\b`)
	reTitled   = regexp.MustCompile(`\b(Dr|Mr|Mrs|Ms|Miss|Mx)(\.?\s+)[A-Z][A-Za-z'-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][A-Za-z'-]+)?`)
)

var months = map[string]time.Month{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}

// Scrub returns text with protected details replaced, counting each
// replacement under its rule in counts. shift is the patient's date shift
// in days (used when s.Shift is set).
func (s *Scrubber) Scrub(text string, shift int, counts map[string]int) string {
	if text == "" {
		return text
	}
	hasDigit := strings.ContainsAny(text, "0123456789")
	if strings.Contains(text, "://") || strings.Contains(text, "www.") {
		text = replace(reURL, text, tagURL, "text-url", counts)
	}
	if strings.IndexByte(text, '@') >= 0 {
		text = replace(reEmail, text, tagEmail, "text-email", counts)
	}
	if hasDigit {
		text = replace(reIP, text, tagIP, "text-ip", counts)
		text = replace(reSSN, text, tagSSN, "text-ssn", counts)
		text = replace(rePhone, text, tagPhone, "text-phone", counts)
		text = replace(reStreet, text, tagAddress, "text-address", counts)
		text = s.dates(text, shift, counts)
		text = reLabelled.ReplaceAllStringFunc(text, func(m string) string {
			counts["text-identifier"]++
			sm := reLabelled.FindStringSubmatch(m)
			return sm[1] + sm[2] + tagID
		})
		text = replace(reLongNum, text, tagID, "text-identifier", counts)
		if !s.Limited {
			text = reZIP.ReplaceAllStringFunc(text, func(m string) string {
				counts["text-zip"]++
				return m[:2] + " " + tagZIP
			})
			text = ages(text, counts)
		}
	}
	text = reTitled.ReplaceAllStringFunc(text, func(m string) string {
		counts["text-name"]++
		sm := reTitled.FindStringSubmatch(m)
		return sm[1] + sm[2] + tagName
	})
	return s.names(text, counts)
}

func replace(re *regexp.Regexp, text, tag, rule string, counts map[string]int) string {
	return re.ReplaceAllStringFunc(text, func(string) string {
		counts[rule]++
		return tag
	})
}

// ages writes ages over 89 as "90+" (45 CFR 164.514(b)(2)(i)(C)).
func ages(text string, counts map[string]int) string {
	text = reAge.ReplaceAllStringFunc(text, func(m string) string {
		counts["text-age"]++
		return age90 + reAge.FindStringSubmatch(m)[2]
	})
	return reAgeLabel.ReplaceAllStringFunc(text, func(m string) string {
		counts["text-age"]++
		return reAgeLabel.FindStringSubmatch(m)[1] + age90
	})
}

// dates cuts dates to the year (Safe Harbor), shifts them, or keeps them
// (limited data set without shifting).
func (s *Scrubber) dates(text string, shift int, counts map[string]int) string {
	if s.Limited && !s.Shift {
		return text
	}
	text = reDateISO.ReplaceAllStringFunc(text, func(m string) string {
		sm := reDateISO.FindStringSubmatch(m)
		y, mo, d := atoi(sm[1]), atoi(sm[2]), atoi(sm[3])
		return s.date(y, mo, d, m, "2006-01-02", shift, counts)
	})
	text = reDateNum.ReplaceAllStringFunc(text, func(m string) string {
		sm := reDateNum.FindStringSubmatch(m)
		y := atoi(sm[3])
		if len(sm[3]) == 2 {
			counts["text-date"]++
			return tagDate // the century is unknown
		}
		return s.date(y, atoi(sm[1]), atoi(sm[2]), m, "01/02/2006", shift, counts)
	})
	text = reDateMDY.ReplaceAllStringFunc(text, func(m string) string {
		sm := reDateMDY.FindStringSubmatch(m)
		return s.date(atoi(sm[3]), int(months[strings.ToLower(sm[1])]), atoi(sm[2]), m, "January 2, 2006", shift, counts)
	})
	text = reDateDMY.ReplaceAllStringFunc(text, func(m string) string {
		sm := reDateDMY.FindStringSubmatch(m)
		return s.date(atoi(sm[3]), int(months[strings.ToLower(sm[2])]), atoi(sm[1]), m, "2 January 2006", shift, counts)
	})
	// A month and day without a year cannot be shifted reliably.
	return replace(reDateMD, text, tagDate, "text-date", counts)
}

// date rewrites one date found in text.
func (s *Scrubber) date(y, mo, d int, orig, layout string, shift int, counts map[string]int) string {
	if mo < 1 || mo > 12 || d < 1 || d > 31 {
		return orig // not a date (a ratio, a code)
	}
	counts["text-date"]++
	if s.Shift {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, shift).Format(layout)
	}
	if y <= s.Now.Year()-90 {
		return tagDate // the year alone could show an age over 89
	}
	return strconv.Itoa(y)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// names replaces the words of text that are in the name vocabulary,
// capitalised or in capitals (a lower-case word is taken as ordinary
// language: "will", "may", "rose").
func (s *Scrubber) names(text string, counts map[string]int) string {
	if len(s.Names) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	var lower []byte
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) {
			i += size
			continue
		}
		j := i + size
		for j < len(text) {
			r2, s2 := utf8.DecodeRuneInString(text[j:])
			if !unicode.IsLetter(r2) && r2 != '\'' {
				break
			}
			j += s2
		}
		w := text[i:j]
		if unicode.IsUpper(r) && j-i >= 2 {
			lower = appendLower(lower[:0], strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "'"))
			if _, ok := s.Names[string(lower)]; ok {
				if b.Len() == 0 {
					b.Grow(len(text))
				}
				b.WriteString(text[last:i])
				b.WriteString(tagName)
				last = j
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

func appendLower(dst []byte, w string) []byte {
	for _, r := range w {
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}
