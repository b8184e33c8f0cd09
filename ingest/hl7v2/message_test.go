package hl7v2_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
)

func TestParseValues(t *testing.T) {
	raw := "\xef\xbb\xbfMSH|^~\\&|APP|FAC|RCV|RFAC|20240102030405+0100||ADT^A01^ADT_A01|CTRL1|P|2.5.1\r\n" +
		"PID|1||M1^^^HOSP^MR~S2^^^SSA^SS||DOE^JANE^Q~SMITH^J||19800101|F|||1 Main \\T\\ Elm^^Town^ST^12345||555\\F\\1~555\\R\\2\n" +
		"OBX|1|TX|X^Y^L||a\\S\\b\\E\\c\\X41\\\\.br\\d\\H\\bold\\N\\||\r" +
		"OBX|2|NM|X^Y^L||7.5|mg&x^mg||\r\r"
	m, err := hl7v2.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Segments) != 4 {
		t.Fatalf("%d segments, want 4", len(m.Segments))
	}
	tests := []struct{ path, want string }{
		{"MSH-1", "|"},
		{"MSH-2", "^~\\&"},
		{"MSH-9", "ADT"},
		{"MSH-9.2", "A01"},
		{"MSH-9.3", "ADT_A01"},
		{"MSH-10", "CTRL1"},
		{"MSH-12", "2.5.1"},
		{"PID-3", "M1"},
		{"PID-3.4", "HOSP"},
		{"PID-3(1)", "S2"},
		{"PID-3(1).5", "SS"},
		{"PID-3(2)", ""},
		{"PID-5.2", "JANE"},
		{"PID-5(1).1", "SMITH"},
		{"PID-11.1", "1 Main & Elm"},
		{"PID-13", "555|1"},
		{"PID-13(1)", "555~2"},
		{"OBX-5", "a^b\\cA\nd" + "bold"},
		{"OBX(1)-6.1.2", "x"},
		{"OBX(1)-5", "7.5"},
		{"OBX(2)-5", ""},
		{"PV1-3", ""},
		{"PID-99.9.9", ""},
	}
	for _, tt := range tests {
		got, err := m.Get(tt.path)
		if err != nil {
			t.Errorf("Get(%q): %v", tt.path, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
	for _, bad := range []string{"PID", "PID-", "PID-x", "PI-3", "PID-3.0", "PID-3(a)", "PID-1.2.3.4", "OBX(-1)-5"} {
		if _, err := m.Get(bad); custodian.ErrorCode(err) != custodian.EINVALID {
			t.Errorf("Get(%q): err %v, want EINVALID", bad, err)
		}
	}
	h := m.Header()
	if h.SendingApp != "APP" || h.ReceivingFacility != "RFAC" || h.Trigger != "A01" || h.ControlID != "CTRL1" {
		t.Errorf("header %+v", h)
	}
}

func TestParseOtherDelimiters(t *testing.T) {
	raw := "MSH#*!/%#A#B#C#D#2024##ORU*R01#9#P#2.4\rOBX#1#ST#C*Text##v/F/w!x%y\r"
	m, err := hl7v2.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.MustGet("OBX-5"); got != "v#w" {
		t.Errorf("OBX-5 = %q", got)
	}
	if got := m.MustGet("OBX-5(1)"); got != "x" {
		t.Errorf("OBX-5(1) = %q", got)
	}
	if got := m.MustGet("OBX-5(1).1.2"); got != "y" {
		t.Errorf("OBX-5(1).1.2 = %q", got)
	}
	if got := m.MustGet("OBX-3.2"); got != "Text" {
		t.Errorf("OBX-3.2 = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, raw string
		code      string // custodian code
		cond, loc string // HL7 condition, location
	}{
		{"empty", "", custodian.EINVALID, "100", "MSH"},
		{"no MSH", "PID|1||X\r", custodian.EINVALID, "100", "MSH"},
		{"short MSH", "MSH|^~", custodian.EINVALID, "102", "MSH-2"},
		{"repeated delimiter", "MSH|^^\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\r", custodian.EINVALID, "102", "MSH-2"},
		{"letter delimiter", "MSH|^~\\a|A|B|C|D|2024||ADT^A01|1|P|2.5\r", custodian.EINVALID, "102", "MSH-2"},
		{"no type", "MSH|^~\\&|A|B|C|D|2024|||1|P|2.5\r", custodian.EINVALID, "101", "MSH-9"},
		{"no control id", "MSH|^~\\&|A|B|C|D|2024||ADT^A01||P|2.5\r", custodian.EINVALID, "101", "MSH-10"},
		{"no version", "MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P\r", custodian.EINVALID, "101", "MSH-12"},
		{"old version", "MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.2\r", custodian.EUNPROCESSABLE, "203", "MSH-12"},
		{"future version", "MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.9\r", custodian.EUNPROCESSABLE, "203", "MSH-12"},
		{"bad segment name", "MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\rpid|1\r", custodian.EINVALID, "100", "segment 2"},
		{"two messages", "MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\rMSH|^~\\&|A|B|C|D|2024||ADT^A01|2|P|2.5\r", custodian.EINVALID, "100", "MSH"},
		{"not UTF-8", "MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\rPID|1||\xff\xfe\r", custodian.EINVALID, "102", ""},
		{"UTF-16", "\xff\xfeM\x00S\x00H\x00", custodian.EINVALID, "102", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hl7v2.Parse([]byte(tt.raw))
			if err == nil {
				t.Fatal("no error")
			}
			if got := custodian.ErrorCode(err); got != tt.code {
				t.Errorf("code %s, want %s (%v)", got, tt.code, err)
			}
			var e *hl7v2.Error
			if !errors.As(err, &e) {
				t.Fatalf("no *hl7v2.Error in %v", err)
			}
			if e.Condition != tt.cond || e.Location != tt.loc {
				t.Errorf("condition %s at %q, want %s at %q (%v)", e.Condition, e.Location, tt.cond, tt.loc, err)
			}
		})
	}
}

func TestLineEndings(t *testing.T) {
	base := sample(t, "ADT-A01-01.hl7") // LF-separated as shipped
	lf, err := hl7v2.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]string{
		"CR":   strings.ReplaceAll(string(base), "\n", "\r"),
		"CRLF": strings.ReplaceAll(string(base), "\n", "\r\n"),
		"BOM":  "\xef\xbb\xbf" + string(base),
	} {
		m, err := hl7v2.Parse([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(m.Segments) != len(lf.Segments) || m.MustGet("PID-5.2") != lf.MustGet("PID-5.2") {
			t.Errorf("%s: %d segments, name %q; LF: %d, %q", name, len(m.Segments), m.MustGet("PID-5.2"), len(lf.Segments), lf.MustGet("PID-5.2"))
		}
	}
	if len(lf.Segments) != 24 {
		t.Errorf("ADT-A01-01 has %d segments, want 24", len(lf.Segments))
	}
}

func TestEncodeDecodeText(t *testing.T) {
	d := hl7v2.DefaultDelimiters
	for _, s := range []string{"plain", "a|b^c~d\\e&f", "line1\nline2\r", "\\F\\ literal", ""} {
		if got := d.DecodeText(d.EncodeText(s)); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
	for in, want := range map[string]string{
		`\X48454C4C4F\`: "HELLO",
		`\XZZ\`:         `\XZZ\`,
		`a\Q\b`:         `a\Q\b`,
		`open\F`:        `open\F`,
		`\X4\`:          `\X4\`,
		`\XC3A9\`:       "é",
		`\XFF\`:         `\XFF\`,
	} {
		if got := d.DecodeText(in); got != want {
			t.Errorf("DecodeText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDateTime(t *testing.T) {
	for in, want := range map[string]string{
		"2024":                   "2024",
		"202403":                 "2024-03",
		"20240315":               "2024-03-15",
		"202403151230":           "2024-03-15",
		"202403151230+0100":      "2024-03-15T12:30:00+01:00",
		"20240315123045-0500":    "2024-03-15T12:30:45-05:00",
		"20240315123045.12+0000": "2024-03-15T12:30:45.12+00:00",
		"2024031512+0200":        "2024-03-15T12:00:00+02:00",
		"20241315":               "",
		"2024031":                "",
		"20240315123045.1":       "2024-03-15",
		"20240315+01":            "",
		"x":                      "",
	} {
		got, ok := hl7v2.DateTime(in)
		if got != want || ok != (want != "") {
			t.Errorf("DateTime(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
