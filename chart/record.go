package chart

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// The parts of FHIR resources the rules read. Decoding into these small
// structs (rather than generic trees) keeps evaluation as data arrives
// cheap.

type reference struct {
	Reference string `json:"reference"`
}

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type concept struct {
	Coding []coding `json:"coding"`
	Text   string   `json:"text"`
}

func (c *concept) has(system, code string) bool {
	if c == nil {
		return false
	}
	for _, cd := range c.Coding {
		if cd.Code == code && (system == "" || cd.System == system) {
			return true
		}
	}
	return false
}

func (c *concept) code(system string) string {
	if c == nil {
		return ""
	}
	for _, cd := range c.Coding {
		if cd.System == system {
			return cd.Code
		}
	}
	return ""
}

type period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type encounterJSON struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	Class       coding    `json:"class"`
	Subject     reference `json:"subject"`
	Period      period    `json:"period"`
	ServiceType *concept  `json:"serviceType"`
	Participant []struct {
		Type       []concept `json:"type"`
		Individual reference `json:"individual"`
	} `json:"participant"`
	Hospitalization *struct {
		AdmitSource          *concept `json:"admitSource"`
		DischargeDisposition *concept `json:"dischargeDisposition"`
	} `json:"hospitalization"`
}

type docJSON struct {
	ID            string      `json:"id"`
	Status        string      `json:"status"`
	DocStatus     string      `json:"docStatus"`
	Type          *concept    `json:"type"`
	Subject       reference   `json:"subject"`
	Date          string      `json:"date"`
	Author        []reference `json:"author"`
	Authenticator *reference  `json:"authenticator"`
	Content       []struct {
		Attachment struct {
			ContentType string `json:"contentType"`
			Data        string `json:"data"`
			Creation    string `json:"creation"`
		} `json:"attachment"`
	} `json:"content"`
	Context *struct {
		Encounter []reference `json:"encounter"`
		Related   []reference `json:"related"`
	} `json:"context"`
	RelatesTo []struct {
		Code   string    `json:"code"`
		Target reference `json:"target"`
	} `json:"relatesTo"`
}

type procJSON struct {
	ID              string    `json:"id"`
	Status          string    `json:"status"`
	Category        *concept  `json:"category"`
	Code            *concept  `json:"code"`
	Subject         reference `json:"subject"`
	Encounter       reference `json:"encounter"`
	PerformedPeriod *period   `json:"performedPeriod"`
	PerformedDT     string    `json:"performedDateTime"`
	Performer       []struct {
		Actor reference `json:"actor"`
	} `json:"performer"`
}

type consentJSON struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Patient   reference `json:"patient"`
	DateTime  string    `json:"dateTime"`
	Provision *struct {
		Data []struct {
			Reference reference `json:"reference"`
		} `json:"data"`
	} `json:"provision"`
}

type conditionJSON struct {
	ID                 string    `json:"id"`
	Category           []concept `json:"category"`
	Code               *concept  `json:"code"`
	Subject            reference `json:"subject"`
	Encounter          reference `json:"encounter"`
	VerificationStatus *concept  `json:"verificationStatus"`
}

type obsJSON struct {
	ID            string    `json:"id"`
	Status        string    `json:"status"`
	Code          concept   `json:"code"`
	Encounter     reference `json:"encounter"`
	Effective     string    `json:"effectiveDateTime"`
	ValueQuantity *quantity `json:"valueQuantity"`
	Component     []struct {
		Code          concept   `json:"code"`
		ValueQuantity *quantity `json:"valueQuantity"`
	} `json:"component"`
}

type quantity struct {
	Value  *json.Number `json:"value"`
	Code   string       `json:"code"`
	Unit   string       `json:"unit"`
	System string       `json:"system"`
}

type patientJSON struct {
	ID        string `json:"id"`
	Gender    string `json:"gender"`
	BirthDate string `json:"birthDate"`
	Deceased  string `json:"deceasedDateTime"`
}

type roleJSON struct {
	ID           string    `json:"id"`
	Active       *bool     `json:"active"`
	Practitioner reference `json:"practitioner"`
	Code         []concept `json:"code"`
}

// parseTime reads a FHIR dateTime or instant; a date alone is its
// midnight in loc (UTC when nil). ok is false for an empty or malformed
// value.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	switch len(s) {
	case 4:
		t, err := time.ParseInLocation("2006", s, loc)
		return t, err == nil
	case 7:
		t, err := time.ParseInLocation("2006-01", s, loc)
		return t, err == nil
	case 10:
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		return t, err == nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// decodeText returns an attachment's text when it is inline text.
func decodeText(contentType, data string) string {
	if data == "" || (contentType != "" && !strings.HasPrefix(contentType, "text/")) {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return ""
	}
	return string(b)
}
