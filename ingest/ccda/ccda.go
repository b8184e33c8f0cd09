// Package ccda imports C-CDA R2.1 documents (CCD, discharge summary,
// referral note and the other document types): the document itself as a
// DocumentReference with the XML as its attachment, the patient from the
// header, and the structured entries — problems, allergies, medications,
// results, vital signs, procedures, encounters and immunizations — as FHIR
// resources, written conditionally on their identifiers so that importing a
// document twice changes nothing.
//
// Entries are found by their C-CDA template ids wherever they are in the
// body. Codes keep every coding the document gives, translations included,
// so an ICD-10-CM translation of a SNOMED CT problem is kept beside it.
package ccda

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

type obj = map[string]any

// Template roots of the entries mapped.
const (
	tmplProblemObs     = "2.16.840.1.113883.10.20.22.4.4"
	tmplProblemStatus  = "2.16.840.1.113883.10.20.22.4.6"
	tmplAllergyObs     = "2.16.840.1.113883.10.20.22.4.7"
	tmplReaction       = "2.16.840.1.113883.10.20.22.4.9"
	tmplSeverity       = "2.16.840.1.113883.10.20.22.4.8"
	tmplMedication     = "2.16.840.1.113883.10.20.22.4.16"
	tmplResultOrg      = "2.16.840.1.113883.10.20.22.4.1"
	tmplResultObs      = "2.16.840.1.113883.10.20.22.4.2"
	tmplVitalOrg       = "2.16.840.1.113883.10.20.22.4.26"
	tmplVitalObs       = "2.16.840.1.113883.10.20.22.4.27"
	tmplProcedure      = "2.16.840.1.113883.10.20.22.4.14"
	tmplProcedureAct   = "2.16.840.1.113883.10.20.22.4.12"
	tmplProcedureObs   = "2.16.840.1.113883.10.20.22.4.13"
	tmplEncounter      = "2.16.840.1.113883.10.20.22.4.49"
	tmplImmunization   = "2.16.840.1.113883.10.20.22.4.52"
	tmplUSRealmHeader  = "2.16.840.1.113883.10.20.22.1.1"
	oidSSN             = "2.16.840.1.113883.4.1"
	oidNPI             = "2.16.840.1.113883.4.6"
	sysICD10CM         = "http://hl7.org/fhir/sid/icd-10-cm"
	sysConditionCat    = "http://terminology.hl7.org/CodeSystem/condition-category"
	sysConditionClin   = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	sysConditionVer    = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	sysAllergyClin     = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
	sysObsCategory     = "http://terminology.hl7.org/CodeSystem/observation-category"
	sysActCode         = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	sysNullFlavor      = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
	sysUSCoreDocCat    = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
	sysDocFormat       = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
	sysConfidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	sysMaritalStatus   = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
	localPrefix        = "urn:custodian:ccda:"
)

// codeSystems maps the code system OIDs C-CDA uses to FHIR URIs; others
// become urn:oid:.
var codeSystems = map[string]string{
	"2.16.840.1.113883.6.1":      "http://loinc.org",
	"2.16.840.1.113883.6.96":     "http://snomed.info/sct",
	"2.16.840.1.113883.6.88":     "http://www.nlm.nih.gov/research/umls/rxnorm",
	"2.16.840.1.113883.6.90":     sysICD10CM,
	"2.16.840.1.113883.6.103":    "http://hl7.org/fhir/sid/icd-9-cm",
	"2.16.840.1.113883.6.104":    "http://hl7.org/fhir/sid/icd-9-cm",
	"2.16.840.1.113883.6.4":      "http://www.cms.gov/Medicare/Coding/ICD10",
	"2.16.840.1.113883.6.12":     "http://www.ama-assn.org/go/cpt",
	"2.16.840.1.113883.6.285":    "urn:oid:2.16.840.1.113883.6.285",
	"2.16.840.1.113883.12.292":   "http://hl7.org/fhir/sid/cvx",
	"2.16.840.1.113883.6.69":     "http://hl7.org/fhir/sid/ndc",
	"2.16.840.1.113883.6.8":      "http://unitsofmeasure.org",
	"2.16.840.1.113883.6.101":    "http://nucc.org/provider-taxonomy",
	"2.16.840.1.113883.6.238":    "urn:oid:2.16.840.1.113883.6.238",
	"2.16.840.1.113883.5.83":     "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
	"2.16.840.1.113883.5.4":      sysActCode,
	"2.16.840.1.113883.5.1":      "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender",
	"2.16.840.1.113883.5.2":      sysMaritalStatus,
	"2.16.840.1.113883.5.25":     sysConfidentiality,
	"2.16.840.1.113883.3.26.1.1": "http://ncithesaurus-stage.nci.nih.gov",
	"2.16.840.1.113883.6.259":    "https://www.cdc.gov/nhsn/cdaportal/terminology/codesystem/hsloc.html",
}

// Result is what a document maps to.
type Result struct {
	// DocumentID is the document's id (ClinicalDocument/id).
	DocumentID Identifier
	// Entries are the writes of one FHIR transaction, each conditional on
	// its identifier.
	Entries []store.Entry
}

// Identifier is an identifier system and value.
type Identifier struct {
	System, Value string
}

func (id Identifier) fhir() obj { return obj{"system": id.System, "value": id.Value} }

func (id Identifier) query() string {
	esc := strings.NewReplacer(`,`, `\,`)
	return url.QueryEscape(esc.Replace(id.System) + "|" + esc.Replace(id.Value))
}

// Resources returns the entries' resources of type typ, in order.
func (r *Result) Resources(typ string) []map[string]any {
	var out []map[string]any
	for _, e := range r.Entries {
		if e.Resource != nil && e.Resource["resourceType"] == typ {
			out = append(out, e.Resource)
		}
	}
	return out
}

// Bundle returns the entries as a FHIR transaction Bundle.
func (r *Result) Bundle() map[string]any {
	entries := make([]any, 0, len(r.Entries))
	for _, e := range r.Entries {
		req := obj{"method": string(e.Method), "url": e.URL}
		if e.IfNoneExist != "" {
			req["ifNoneExist"] = e.IfNoneExist
		}
		entries = append(entries, obj{"fullUrl": e.FullURL, "resource": e.Resource, "request": req})
	}
	return obj{"resourceType": "Bundle", "type": "transaction", "entry": entries}
}

// Map reads a C-CDA document and maps it. A document that is not XML, not
// a ClinicalDocument, or names no patient identifier is EINVALID.
func Map(data []byte) (*Result, error) {
	root, err := parseXML(data)
	if err != nil {
		return nil, err
	}
	if root.Name != "ClinicalDocument" || root.Space != nsCDA {
		return nil, custodian.Errorf(custodian.EINVALID, "ccda: the root element is %s, not a ClinicalDocument in urn:hl7-org:v3", root.Name)
	}
	docID, ok := ii(root.kid("id"))
	if !ok {
		return nil, custodian.Errorf(custodian.EINVALID, "ccda: the document has no id (ClinicalDocument/id)")
	}
	b := &builder{byKey: map[string]int{}, docID: docID}
	if err := b.patient(root); err != nil {
		return nil, err
	}
	b.encompassing(root)
	b.body(root)
	b.document(root, data)
	return &Result{DocumentID: docID, Entries: b.entries}, nil
}

// builder collects the entries of one document.
type builder struct {
	entries  []store.Entry
	byKey    map[string]int
	docID    Identifier
	patientR obj
	// patientKey is the identifier the Patient is found by.
	patientKey Identifier
	encounter  obj
	n          int // entries without an id, numbered for their identifier
}

// upsert adds a conditional update of res keyed on id and returns a
// reference to it. An entry repeated in the document (the same problem in
// two sections) is written once; a different entry that reuses another's
// id, as some documents do, gets the id with "#2", "#3"… appended, so
// nothing is lost and a second import finds the same keys.
func (b *builder) upsert(typ string, id Identifier, res obj) obj {
	res["resourceType"] = typ
	base := id.Value
	for n := 2; ; n++ {
		key := typ + "|" + id.System + "|" + id.Value
		i, ok := b.byKey[key]
		if !ok {
			break
		}
		if reflect.DeepEqual(b.entries[i].Resource, res) {
			return obj{"reference": b.entries[i].FullURL}
		}
		id.Value = base + "#" + strconv.Itoa(n)
		if ids, ok := res["identifier"].([]any); ok && len(ids) > 0 {
			ids[0] = id.fhir()
		}
	}
	key := typ + "|" + id.System + "|" + id.Value
	full := "urn:uuid:" + store.NewUUID()
	b.byKey[key] = len(b.entries)
	// The criteria name the patient too: documents reuse entry ids, and an
	// entry of one patient must never become another's.
	criteria := "identifier=" + id.query() + "&patient.identifier=" + b.patientKey.query()
	b.entries = append(b.entries, store.Entry{Method: store.MethodUpdate, URL: typ + "?" + criteria, FullURL: full, Resource: res})
	return obj{"reference": full}
}

func (b *builder) ensure(typ string, id Identifier, res obj) obj {
	key := typ + "|" + id.System + "|" + id.Value
	res["resourceType"] = typ
	if i, ok := b.byKey[key]; ok {
		return obj{"reference": b.entries[i].FullURL}
	}
	full := "urn:uuid:" + store.NewUUID()
	b.byKey[key] = len(b.entries)
	b.entries = append(b.entries, store.Entry{Method: store.MethodCreate, URL: typ, FullURL: full, Resource: res, IfNoneExist: "identifier=" + id.query()})
	return obj{"reference": full}
}

// entryID is the identifier of an entry: its first id, or one derived from
// the document id and the entry's place.
func (b *builder) entryID(n *node, kind string) Identifier {
	for _, x := range n.all("id") {
		if id, ok := ii(x); ok {
			return id
		}
	}
	b.n++
	return Identifier{System: localPrefix + kind, Value: b.docID.Value + "#" + strconv.Itoa(b.n)}
}

func ref(r obj) obj {
	if r == nil {
		return nil
	}
	out := obj{}
	for k, v := range r {
		out[k] = v
	}
	return out
}

// document writes the DocumentReference of the document, its XML as the
// attachment. A legally authenticated document is final, with the
// authenticator; any other is preliminary.
func (b *builder) document(root *node, data []byte) {
	// Example and real documents reuse ids, so the DocumentReference is
	// known by the document's digest: the same document imported twice is
	// one DocumentReference, two documents with one id are two.
	sum := sha256.Sum256(data)
	digest := Identifier{System: localPrefix + "sha256", Value: hex.EncodeToString(sum[:])}
	d := obj{"masterIdentifier": b.docID.fhir(), "identifier": []any{digest.fhir(), b.docID.fhir()}, "status": "current",
		"subject":  ref(b.patientR),
		"category": []any{obj{"coding": []any{obj{"system": sysUSCoreDocCat, "code": "clinical-note", "display": "Clinical Note"}}}}}
	if t := codeable(root.kid("code")); t != nil {
		d["type"] = t
	}
	if dt, ok := ts(root.kid("effectiveTime")); ok && len(dt) >= 25 {
		d["date"] = dt
	}
	var authors []any
	for _, a := range root.all("author") {
		if r := b.person(a.kid("assignedAuthor"), "assignedPerson"); r != nil {
			authors = append(authors, r)
		}
	}
	if len(authors) > 0 {
		d["author"] = authors
	}
	if la := root.kid("legalAuthenticator"); la != nil {
		d["docStatus"] = "final"
		if r := b.person(la.kid("assignedEntity"), "assignedPerson"); r != nil {
			d["authenticator"] = r
		}
	} else {
		d["docStatus"] = "preliminary"
	}
	if c := root.kid("confidentialityCode").attr("code"); c != "" {
		d["securityLabel"] = []any{obj{"coding": []any{obj{"system": sysConfidentiality, "code": c}}}}
	}
	title := root.kid("title").text()
	att := obj{"contentType": "text/xml", "data": base64.StdEncoding.EncodeToString(data), "size": len(data)}
	if title != "" {
		att["title"] = title
	}
	if dt, ok := ts(root.kid("effectiveTime")); ok {
		att["creation"] = dt
	}
	d["content"] = []any{obj{"attachment": att,
		"format": obj{"system": sysDocFormat, "code": "urn:hl7-org:sdwg:ccda-structuredBody:2.1", "display": "C-CDA R2.1 Structured Body"}}}
	ctx := obj{}
	if b.encounter != nil {
		ctx["encounter"] = []any{ref(b.encounter)}
	}
	if p := period(root.at("documentationOf/serviceEvent/effectiveTime")); p != nil {
		ctx["period"] = p
	}
	if len(ctx) > 0 {
		d["context"] = ctx
	}
	b.upsert("DocumentReference", digest, d)
}
