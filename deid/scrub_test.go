package deid_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/deid"
)

func TestScrub(t *testing.T) {
	names := deid.Names{}
	for _, n := range []string{"Maria Gonzalez", "John O'Brien", "Springfield", "Will"} {
		names.Add(n)
	}
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	sh := &deid.Scrubber{Names: names, Now: now}
	shift := &deid.Scrubber{Names: names, Now: now, Shift: true}
	lim := &deid.Scrubber{Names: names, Now: now, Limited: true}
	cases := []struct {
		name string
		s    *deid.Scrubber
		in   string
		want string
		rule string
	}{
		{"own name", sh, "Patient: Maria Gonzalez   MRN: 12345678", "Patient: [NAME]   MRN: [ID]", "text-name"},
		{"name in capitals", sh, "GONZALEZ, MARIA", "[NAME], [NAME]", "text-name"},
		{"possessive", sh, "Mr O'Brien's daughter", "Mr [NAME] daughter", "text-name"},
		{"lower-case word kept", sh, "she will return", "she will return", ""},
		{"titled name not in the record", sh, "seen by Dr. Hartley today", "seen by Dr. [NAME] today", "text-name"},
		{"relative", sh, "per daughter Dulcinea, who visits", "per daughter [NAME], who visits", "text-name"},
		{"relative with surname", sh, "Wife, Ana Lopez, at bedside", "Wife, [NAME], at bedside", "text-name"},
		{"relative without a name", sh, "daughter at bedside", "daughter at bedside", ""},
		{"name label", sh, "Patient: Ana Lopez", "Patient: [NAME]", "text-name"},
		{"signed by", sh, "signed by Ana B. Lopez", "signed by [NAME]", "text-name"},
		{"patient without a name", sh, "Patient is stable", "Patient is stable", ""},
		{"city", sh, "lives in Springfield alone", "lives in [NAME] alone", "text-name"},
		{"phone", sh, "call 555-201-3344 or (617) 555-0199", "call [PHONE] or [PHONE]", "text-phone"},
		{"ssn", sh, "SSN 999-12-3456 on file", "SSN [ID] on file", "text-identifier"},
		{"bare ssn", sh, "number 999-12-3456 on file", "number [SSN] on file", "text-ssn"},
		{"labelled account", sh, "Account no. AB12345 closed", "Account no. [ID] closed", "text-identifier"},
		{"label then a word", sh, "Serial troponins negative", "Serial troponins negative", ""},
		{"long number", sh, "ref 98765432 noted", "ref [ID] noted", "text-identifier"},
		{"email", sh, "write to maria.g@example.com", "write to [EMAIL]", "text-email"},
		{"url", sh, "see https://portal.example.org/p/123 now", "see [URL] now", "text-url"},
		{"narrative", sh, `<div xmlns="http://www.w3.org/1999/xhtml">Maria Gonzalez, 555-201-3344</div>`, `<div xmlns="http://www.w3.org/1999/xhtml">[NAME] [NAME], [PHONE]</div>`, "text-phone"},
		{"ip", sh, "from 192.168.10.4", "from [IP]", "text-ip"},
		{"street", sh, "lives at 4521 Maple Avenue, Apt 3", "lives at [ADDRESS]", "text-address"},
		{"zip after state", sh, "Boston, MA 02115", "Boston, MA [ZIP]", "text-zip"},
		{"numeric date to year", sh, "seen 03/14/2024", "seen 2024", "text-date"},
		{"old year hidden", sh, "DOB: 03/14/1931", "DOB: [DATE]", "text-date"},
		{"iso date", sh, "on 2024-03-14T10:00:00Z", "on 2024", "text-date"},
		{"month name date", sh, "admitted March 3, 2024", "admitted 2024", "text-date"},
		{"day month year", sh, "admitted 3 March 2024", "admitted 2024", "text-date"},
		{"month and day", sh, "follow up on Jan 5", "follow up on [DATE]", "text-date"},
		{"two-digit year", sh, "on 3/4/24", "on [DATE]", "text-date"},
		{"not a date", sh, "BP 120/80, pain 7/10", "BP 120/80, pain 7/10", ""},
		{"date with hyphens", sh, "seen 03-14-2024 and 3-14-23", "seen 2024 and [DATE]", "text-date"},
		{"phone and ssn with hyphens kept apart", sh, "call 555-201-3344, SSN 999-12-3456", "call [PHONE], SSN [ID]", "text-phone"},
		{"month and day in numbers", sh, "seen 3/14 in clinic", "seen [DATE] in clinic", "text-date"},
		{"month and day, two-digit year", sh, "seen 3/14/23 in clinic", "seen [DATE] in clinic", "text-date"},
		{"month and day in words", sh, "surgery March 14 went well", "surgery [DATE] went well", "text-date"},
		{"day and abbreviated month", sh, "discharged 14 Mar, home", "discharged [DATE], home", "text-date"},
		{"day of month", sh, "on the 2nd of June we", "on the [DATE] we", "text-date"},
		{"month and year", sh, "since March 2023 on insulin", "since 2023 on insulin", "text-date"},
		{"scores and fractions kept", sh, "strength 5/5 throughout, take 1/2 tab, 2/6 murmur, score 3/4", "strength 5/5 throughout, take 1/2 tab, 2/6 murmur, score 3/4", ""},
		{"shifted month and day unknown year", shift, "seen 3/14 and 14 Mar", "seen [DATE] and [DATE]", "text-date"},
		{"limited keeps month and day", lim, "seen 3/14 and 14 Mar", "seen 3/14 and 14 Mar", ""},
		{"age abbreviated", sh, "93 y.o. female, 95yo male, 91 yo", "90+ y.o. female, 90+yo male, 90+ yo", "text-age"},
		{"age as a decade", sh, "a woman in her 90s", "a woman in her 90+", "text-age"},
		{"age in words", sh, "a ninety-two year old man in his nineties", "a 90+ year old man in his 90+", "text-age"},
		{"ninety minutes kept", sh, "ninety minutes later", "ninety minutes later", ""},
		{"age over 89", sh, "a 94-year-old woman", "a 90+-year-old woman", "text-age"},
		{"age label", sh, "Age: 101", "Age: 90+", "text-age"},
		{"age 89 kept", sh, "an 89-year-old man", "an 89-year-old man", ""},
		{"shifted date", shift, "seen 03/14/2024 and 2024-03-20", "seen 03/24/2024 and 2024-03-30", "text-date"},
		{"limited keeps dates and ages", lim, "seen 03/14/2024, a 94-year-old in Boston, MA 02115", "seen 03/14/2024, a 94-year-old in Boston, MA 02115", ""},
		{"limited removes phone and name", lim, "Maria at 555-201-3344", "[NAME] at [PHONE]", "text-phone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			counts := map[string]int{}
			got := c.s.Scrub(c.in, 10, counts)
			if got != c.want {
				t.Errorf("Scrub(%q) = %q, want %q", c.in, got, c.want)
			}
			if c.rule != "" && counts[c.rule] == 0 {
				t.Errorf("rule %s not counted: %v", c.rule, counts)
			}
			if c.rule == "" && len(counts) > 0 {
				t.Errorf("nothing should change, counted %v", counts)
			}
		})
	}
}

func TestRestrictedZIP3(t *testing.T) {
	m := deid.DefaultRestrictedZIP3()
	if len(m) != 17 || !m["036"] || !m["893"] || m["021"] {
		t.Fatalf("embedded list: %v", m)
	}
	if _, err := deid.ParseZIP3List([]byte("036\n12\n")); err == nil {
		t.Fatal("a two-digit prefix was accepted")
	}
}

func TestKey(t *testing.T) {
	k, _ := deid.NewKey([]byte("0123456789abcdef0123"))
	k2, _ := deid.NewKey([]byte("0123456789abcdef0124"))
	if k.Pseudonym("Patient", "a") != k.Pseudonym("Patient", "a") || k.Pseudonym("Patient", "a") == k2.Pseudonym("Patient", "a") ||
		k.Pseudonym("Patient", "a") == k.Pseudonym("Observation", "a") {
		t.Fatal("pseudonyms are not keyed and consistent")
	}
	seen := map[int]bool{}
	for _, p := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		s := k.Shift(p)
		if s == 0 || s < -deid.MaxShift || s > deid.MaxShift || s != k.Shift(p) {
			t.Fatalf("shift of %s: %d", p, s)
		}
		seen[s] = true
	}
	if len(seen) < 4 {
		t.Fatalf("shifts hardly vary: %v", seen)
	}
	if _, err := deid.NewKey([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
}

func TestExcludeSensitive(t *testing.T) {
	k, _ := deid.NewKey([]byte("0123456789abcdef0123"))
	cases := []struct {
		name      string
		body      string
		sensitive bool
	}{
		{"labelled", `{"resourceType":"Observation","id":"x","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"}]},"status":"final","code":{"text":"x"}}`, true},
		{"unlabelled opioid dependence", `{"resourceType":"Condition","id":"x","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`, true},
		{"unlabelled HIV viral load", `{"resourceType":"Observation","id":"x","status":"final","code":{"text":"HIV 1 RNA viral load"}}`, true},
		{"unlabelled psychotherapy note", `{"resourceType":"DocumentReference","id":"x","status":"current","type":{"text":"Psychotherapy note"},"content":[{"attachment":{"contentType":"text/plain"}}]}`, true},
		{"tobacco is not Part 2", `{"resourceType":"Condition","id":"x","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F17.210"}]}}`, false},
		{"ordinary", `{"resourceType":"Condition","id":"x","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J18.9"}]}}`, false},
	}
	for _, c := range cases {
		for _, exclude := range []bool{false, true} {
			counts := map[string]int{}
			ru := &deid.Rules{Key: k, ExcludeSensitive: exclude, Now: time.Now()}
			typ := strings.Split(strings.Split(c.body, `"resourceType":"`)[1], `"`)[0]
			out, err := ru.Resource(typ, "x", "", []byte(c.body), counts)
			left := exclude && c.sensitive
			if err != nil || (out == nil) != left || (counts["sensitive-left-out"] == 1) != left {
				t.Errorf("%s, exclude %t: %s %v %v", c.name, exclude, out, err, counts)
			}
		}
	}
}

func TestAuditEventAgent(t *testing.T) {
	k, _ := deid.NewKey([]byte("0123456789abcdef0123"))
	names := deid.Names{}
	names.Add("Maria Gonzalez")
	body := []byte(`{"resourceType":"AuditEvent","id":"a","recorded":"2024-01-02T03:04:05Z","type":{"code":"rest"},"source":{"observer":{"display":"x"}},
		"agent":[{"requestor":true,"name":"Maria Gonzalez","network":{"address":"10.1.2.3","type":"2"}}]}`)
	ru := &deid.Rules{Key: k, Names: names, Now: time.Now()}
	out, err := ru.Resource("AuditEvent", "a", "", body, map[string]int{})
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"Maria", "Gonzalez", "10.1.2.3", "01-02", "03:04"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("%s left in %s", leak, out)
		}
	}
}
