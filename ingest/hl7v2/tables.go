package hl7v2

import (
	_ "embed"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/custodian-him/custodian"
)

//go:embed tables.json
var defaultTables []byte

// Tables are the code translations and identifier systems the mapping uses.
// A site adjusts them by editing a copy of the embedded tables.json.
type Tables struct {
	// MRNSystem is the system of a medical record number whose assigning
	// authority is not named.
	MRNSystem string `json:"mrnSystem"`
	// LocalSystemPrefix starts the system of an identifier assigned by a
	// named authority that AssigningAuthorities does not list and that
	// carries no OID: prefix + authority + ":" + identifier type.
	LocalSystemPrefix string `json:"localSystemPrefix"`
	// AssigningAuthorities maps an assigning authority's namespace id
	// (CX-4.1, XCN-9.1) to an identifier system.
	AssigningAuthorities map[string]string `json:"assigningAuthorities"`
	// IdentifierTypeSystems maps an identifier type (CX-5, table 0203) to a
	// system, for identifiers without an authority.
	IdentifierTypeSystems map[string]string `json:"identifierTypeSystems"`
	// CodeSystems maps a coding system name (CWE-3, table 0396) to a URI.
	CodeSystems map[string]string `json:"codeSystems"`

	Gender                  map[string]string `json:"gender"`
	MaritalStatus           map[string]string `json:"maritalStatus"`
	PatientClass            map[string]string `json:"patientClass"`
	DischargeDisposition    map[string]string `json:"dischargeDisposition"`
	EncounterStatus         map[string]string `json:"encounterStatus"`
	AbnormalFlag            map[string]string `json:"abnormalFlag"`
	ObservationStatus       map[string]string `json:"observationStatus"`
	ReportStatus            map[string]string `json:"reportStatus"`
	DocumentCompletion      map[string]string `json:"documentCompletion"`
	AuthenticatedCompletion []string          `json:"authenticatedCompletion"`
	DocumentAvailability    map[string]string `json:"documentAvailability"`
	DocumentType            map[string]string `json:"documentType"`
	AllergyCategory         map[string]string `json:"allergyCategory"`
	AllergyType             map[string]string `json:"allergyType"`
	AllergySeverity         map[string]string `json:"allergySeverity"`
	AllergyCriticality      map[string]string `json:"allergyCriticality"`
	DiagnosisVerification   map[string]string `json:"diagnosisVerification"`
	// RegistrationTypes are the message types (MSH-9.1) whose PID and PV1
	// write the Patient and Encounter over what is stored: ADT, the
	// registration system's. Results and documents (ORU, MDM) name the
	// patient and visit too, often with fewer details; from them the
	// Patient and Encounter are created if absent but never overwritten.
	RegistrationTypes []string `json:"registrationTypes"`
}

// DefaultTables returns the tables embedded in the binary.
func DefaultTables() *Tables {
	t, err := LoadTables(defaultTables)
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return t
}

// LoadTables reads tables in the format of tables.json. Tables the file
// leaves out keep their defaults, so a site's file may hold only what it
// changes (a map's entries are added to the default map's). An unreadable
// file is EINVALID.
func LoadTables(data []byte) (*Tables, error) {
	t := &Tables{}
	if err := json.Unmarshal(defaultTables, t); err != nil {
		return nil, custodian.Wrap(custodian.EINTERNAL, err, "hl7v2: the default tables")
	}
	if err := json.Unmarshal(data, t); err != nil {
		return nil, custodian.Wrap(custodian.EINVALID, err, "hl7v2: the mapping tables are not valid JSON: %v", err)
	}
	if t.MRNSystem == "" || t.LocalSystemPrefix == "" {
		return nil, custodian.Errorf(custodian.EINVALID, "hl7v2: the mapping tables need mrnSystem and localSystemPrefix")
	}
	return t, nil
}

// codeSystem returns the URI of a v2 coding system name: from the table,
// "urn:oid:" for an OID, the HL7 v2 table system for "HL7nnnn", or a local
// system.
func (t *Tables) codeSystem(name string) string {
	if name == "" {
		return ""
	}
	if s, ok := t.CodeSystems[name]; ok {
		return s
	}
	if s, ok := t.CodeSystems[strings.ToUpper(name)]; ok {
		return s
	}
	if isOID(name) {
		return "urn:oid:" + name
	}
	if n, ok := strings.CutPrefix(strings.ToUpper(name), "HL7"); ok && len(n) == 4 && allDigits(n) {
		return "http://terminology.hl7.org/CodeSystem/v2-" + n
	}
	return t.LocalSystemPrefix + "codesystem:" + urnPart(name)
}

// identifierSystem returns the system of an identifier issued by the
// authority (namespace, universal id, universal id type) with type typ.
func (t *Tables) identifierSystem(ns, uid, uidType, typ, fallback string) string {
	if s, ok := t.AssigningAuthorities[ns]; ok && ns != "" {
		return s
	}
	if uid != "" && (strings.EqualFold(uidType, "ISO") || isOID(uid)) && isOID(uid) {
		if s, ok := t.AssigningAuthorities[uid]; ok {
			return s
		}
		return "urn:oid:" + uid
	}
	if ns != "" {
		k := strings.ToLower(typ)
		if k == "" {
			k = "id"
		}
		return t.LocalSystemPrefix + urnPart(ns) + ":" + urnPart(k)
	}
	if s, ok := t.IdentifierTypeSystems[typ]; ok {
		return s
	}
	return fallback
}

func isOID(s string) bool {
	if len(s) < 3 || !strings.Contains(s, ".") {
		return false
	}
	for _, p := range strings.Split(s, ".") {
		if p == "" || !allDigits(p) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// urnPart makes s usable inside a URN: letters, digits, '.', '-' and '_'
// kept, the rest percent-encoded.
func urnPart(s string) string {
	return strings.ReplaceAll(url.PathEscape(strings.TrimSpace(s)), ":", "%3A")
}
