package hl7v2_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
)

func TestAck(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 30, 0, 0, time.FixedZone("", -5*3600))
	tests := []struct {
		name    string
		raw     string
		mapIt   bool
		code    hl7v2.AckCode
		msa, er string // MSA segment, ERR segment ("" for none)
	}{
		{"accepted", "MSH|^~\\&|LAB|HOSP|CUST|HIM|20260301||ORU^R01|C1|P|2.5.1\rPID|1||M1^^^^MR\rOBR|1||F1|X^Y^LN\rOBX|1|NM|X^Y^LN||1\r", true,
			hl7v2.AA, "MSA|AA|C1", ""},
		{"content error, 2.5.1", "MSH|^~\\&|LAB|HOSP|CUST|HIM|20260301||ORU^R01|C2|P|2.5.1\rPID|1||\rOBR|1||F1|X^Y^LN\r", true,
			hl7v2.AE, "MSA|AE|C2|hl7v2: PID-3: the patient identifier list (PID-3) is missing", "ERR||PID^1^3|101^Required field missing^HL70357|E||||the patient identifier list (PID-3) is missing"},
		{"content error, 2.3", "MSH|^~\\&|LAB|HOSP|CUST|HIM|20260301||ADT^A01|C3|P|2.3\rPID|1||\r", true,
			hl7v2.AE, "MSA|AE|C3|hl7v2: PID-3: the patient identifier list (PID-3) is missing", "ERR|PID^1^3^101&Required field missing&HL70357"},
		{"unsupported type", "MSH|^~\\&|LAB|HOSP|CUST|HIM|20260301||ORM^O01|C4|P|2.5\rPID|1||M1\r", true,
			hl7v2.AR, "MSA|AR|C4|hl7v2: MSH-9: message type ORM is not supported (ADT, ORU, MDM are)", "ERR||MSH^1^9|200^Unsupported message type^HL70357|E||||message type ORM is not supported (ADT, ORU, MDM are)"},
		{"unsupported version", "MSH|^~\\&|LAB|HOSP|CUST|HIM|20260301||ADT^A01|C5|P|2.1\r", false,
			hl7v2.AR, "MSA|AR|C5|hl7v2: MSH-12: version \"2.1\" is not supported (2.3 to 2.8 are)", "ERR||MSH^1^12|203^Unsupported version id^HL70357|E||||version \"2.1\" is not supported (2.3 to 2.8 are)"},
		{"no MSH", "PID|1||M1\r", false,
			hl7v2.AR, "MSA|AR||hl7v2: MSH: the message does not begin with an MSH segment", "ERR||MSH^1^|100^Segment sequence error^HL70357|E||||the message does not begin with an MSH segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := hl7v2.Parse([]byte(tt.raw))
			if err == nil && tt.mapIt {
				_, err = hl7v2.NewMapper(nil).Map(m)
			}
			code := hl7v2.CodeFor(err)
			if code != tt.code {
				t.Fatalf("code %s, want %s (%v)", code, tt.code, err)
			}
			h, d := hl7v2.HeaderOf([]byte(tt.raw))
			ack := string(hl7v2.Ack(h, d, code, err, now, "ACK-1"))
			segs := strings.Split(strings.TrimSuffix(ack, "\r"), "\r")
			if !strings.HasSuffix(ack, "\r") {
				t.Error("the ACK does not end with CR")
			}
			if h.ControlID != "" {
				v := h.Version
				if !hl7v2.SupportedVersion(v) {
					v = "2.5.1" // an ACK in a version Custodian speaks
				}
				want := "MSH|^~\\&|CUST|HIM|LAB|HOSP|20260301123000-0500||ACK^" + h.Trigger + "^ACK|ACK-1|P|" + v
				if segs[0] != want {
					t.Errorf("MSH\n got %s\nwant %s", segs[0], want)
				}
			}
			if segs[1] != tt.msa {
				t.Errorf("MSA\n got %s\nwant %s", segs[1], tt.msa)
			}
			gotErr := ""
			if len(segs) > 2 {
				gotErr = segs[2]
			}
			if gotErr != tt.er {
				t.Errorf("ERR\n got %s\nwant %s", gotErr, tt.er)
			}
			// The ACK itself parses.
			a, perr := hl7v2.Parse([]byte(ack))
			if perr != nil {
				t.Fatalf("the ACK does not parse: %v", perr)
			}
			if a.MustGet("MSA-1") != string(tt.code) || a.MustGet("MSH-9") != "ACK" {
				t.Errorf("ACK fields: %s %s", a.MustGet("MSA-1"), a.MustGet("MSH-9"))
			}
		})
	}
}

func TestCodeFor(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want hl7v2.AckCode
	}{
		{nil, hl7v2.AA},
		{custodian.Errorf(custodian.EINVALID, "bad resource"), hl7v2.AE},
		{custodian.Errorf(custodian.EINTERNAL, "disk"), hl7v2.AR},
		{custodian.Errorf(custodian.ETIMEOUT, "busy"), hl7v2.AR},
	} {
		if got := hl7v2.CodeFor(tt.err); got != tt.want {
			t.Errorf("CodeFor(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}
