package roi

import (
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
)

// Code systems of the FHIR resources roi writes.
const (
	// TaskSystem codes Task.code: release-of-information.
	TaskSystem = "https://custodian-him.org/fhir/CodeSystem/him-task"
	// TaskCode is the Task.code of a request.
	TaskCode = "release-of-information"
	// InputSystem codes Task.input.type and Task.output.type.
	InputSystem = "https://custodian-him.org/fhir/CodeSystem/roi-parameter"
	// StatusSystem codes Task.businessStatus (the queue status).
	StatusSystem = "https://custodian-him.org/fhir/CodeSystem/roi-status"
	// NumberSystem is the system of the request number (Task.identifier).
	NumberSystem = "https://custodian-him.org/fhir/sid/roi-request"
	// PurposeSystem is v3 PurposeOfUse.
	PurposeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
)

// RequesterKind is who asks for the records.
type RequesterKind string

// Requester kinds.
const (
	Patient        RequesterKind = "patient"
	Representative RequesterKind = "personal-representative"
	Attorney       RequesterKind = "attorney"
	Insurer        RequesterKind = "insurer"
	Provider       RequesterKind = "provider"
	Agency         RequesterKind = "agency"
	CourtOrder     RequesterKind = "court-order"
)

// RequesterKinds lists the kinds in the order forms show them.
var RequesterKinds = []RequesterKind{Patient, Representative, Attorney, Insurer, Provider, Agency, CourtOrder}

// Basis is the legal ground of a release.
type Basis string

// Legal bases.
const (
	// BasisIndividual is the right of access (45 CFR 164.524): the patient,
	// or a personal representative standing in for the patient, whose
	// identity (and authority) is verified. No authorization is needed.
	BasisIndividual Basis = "individual"
	// BasisAuthorization is a signed authorization (164.508), a Consent.
	BasisAuthorization Basis = "authorization"
	// BasisTPO is treatment, payment or health care operations (164.506).
	BasisTPO Basis = "tpo"
	// BasisCourtOrder is an order of a court or tribunal (164.512(e)).
	BasisCourtOrder Basis = "court-order"
	// BasisLaw is a disclosure required or permitted by law without
	// authorization: public health, oversight, law enforcement and the
	// other purposes of 164.512.
	BasisLaw Basis = "law"
)

// Purposes are the v3 PurposeOfUse codes a request may state, with their
// meaning. TREAT, HPAYMT and HOPERAT are treatment, payment and operations.
var Purposes = map[string]string{
	"TREAT":    "treatment",
	"HPAYMT":   "payment",
	"HOPERAT":  "health care operations",
	"PATRQT":   "at the patient's request",
	"FAMRQT":   "at the family's request",
	"PWATRNY":  "power of attorney",
	"HLEGAL":   "legal proceedings",
	"COVERAGE": "coverage under a policy",
	"PUBHLTH":  "public health",
	"HRESCH":   "research",
	"HSYSADMN": "health oversight",
	"LEGAL":    "law enforcement",
}

// tpoPurposes are treatment, payment and health care operations.
var tpoPurposes = map[string]bool{"TREAT": true, "HPAYMT": true, "HOPERAT": true}

// Status is a request's place in the queue.
type Status string

// Queue statuses: requested → in-review → fulfilled | denied | cancelled.
const (
	Requested Status = "requested"
	InReview  Status = "in-review"
	Fulfilled Status = "fulfilled"
	Denied    Status = "denied"
	Cancelled Status = "cancelled"
)

// taskStatus is the FHIR Task.status of each queue status.
var taskStatus = map[Status]string{Requested: "requested", InReview: "in-progress", Fulfilled: "completed", Denied: "rejected", Cancelled: "cancelled"}

// Open reports whether s still waits for work.
func (s Status) Open() bool { return s == Requested || s == InReview }

// Time limits of 45 CFR 164.524(b)(2): 30 days, and one extension of 30
// more with the reason told to the requester.
const (
	ResponseDays  = 30
	ExtensionDays = 30
)

// Request is one request for records.
type Request struct {
	// ID is the Task's id, and Number the request number people quote.
	ID, Number string
	// Version is the Task's version id.
	Version int64
	// Patient is the id of the patient whose records are asked for.
	Patient string
	// Requester: kind, name (person or organisation) and address.
	RequesterKind    RequesterKind
	RequesterName    string
	RequesterAddress string
	// Purpose is a key of Purposes; PurposeText says more.
	Purpose, PurposeText string
	// Basis is the legal ground. Authorization is the Consent id when
	// Basis is BasisAuthorization; LegalAuthority names the order or law
	// (court-order, law); IdentityVerified says how the individual's
	// identity was verified (individual).
	Basis            Basis
	Authorization    string
	LegalAuthority   string
	IdentityVerified string
	// The selection: the records' dates (zero: open-ended), the record
	// types (FHIR resource types, see RecordTypes) and the sensitive
	// categories (Category.Code) to include.
	From, To   time.Time
	Types      []string
	Categories []string
	// Received is when the request arrived; Due when the answer is due.
	Received, Due time.Time
	// ExtensionReason is set once the one extension is taken.
	ExtensionReason string
	Status          Status
	// StatusReason is why a request was denied or cancelled.
	StatusReason string
	// Release is set once the packet is released.
	Release *Release
}

// Release is what was released and how it went out.
type Release struct {
	// Time is when the packet was made.
	Time time.Time
	// DocumentReference is the packet's id; SHA256 the PDF's hash and
	// BundleSHA256 the Bundle's.
	DocumentReference    string
	SHA256, BundleSHA256 string
	Pages, Included      int
	// Excluded counts the records left out, by reason.
	Excluded map[string]int
	// Consent is the authorization's versioned reference, if any.
	Consent  string
	Delivery Delivery
}

// Delivery is how the packet went to its recipient.
type Delivery struct {
	// Method: mail, email, portal, fax, pickup or secure-link.
	Method    string
	Date      time.Time
	Recipient string
}

// DeliveryMethods are the accepted Delivery.Method values.
var DeliveryMethods = []string{"mail", "email", "portal", "fax", "pickup", "secure-link"}

// RecordTypes are the record types a request may select: FHIR resource
// types in the patient's compartment, with how people name them.
var RecordTypes = map[string]string{
	"DocumentReference":  "documents and notes",
	"Observation":        "results (laboratory and vital signs)",
	"DiagnosticReport":   "diagnostic reports",
	"Condition":          "problems and diagnoses",
	"Encounter":          "visits and admissions",
	"MedicationRequest":  "medications",
	"Procedure":          "procedures",
	"AllergyIntolerance": "allergies",
	"Immunization":       "immunizations",
}

// typeOrder is the order record types appear in a packet.
var typeOrder = []string{"Encounter", "Condition", "DocumentReference", "DiagnosticReport", "Observation", "Procedure",
	"MedicationRequest", "AllergyIntolerance", "Immunization"}

// DueDate is the answer's due date for a request received at received:
// ResponseDays later, and ExtensionDays more when extended.
func DueDate(received time.Time, extended bool) time.Time {
	d := received.AddDate(0, 0, ResponseDays)
	if extended {
		d = d.AddDate(0, 0, ExtensionDays)
	}
	return d
}

// Age is the number of whole days since the request was received.
func (r *Request) Age(now time.Time) int { return days(r.Received, now) }

// DaysLeft is the number of whole days until the due date (negative when
// overdue).
func (r *Request) DaysLeft(now time.Time) int { return days(now, r.Due) }

// Overdue reports whether an open request is past its due date.
func (r *Request) Overdue(now time.Time) bool { return r.Status.Open() && now.After(r.Due) }

func days(from, to time.Time) int {
	f := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	t := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	return int(t.Sub(f).Hours() / 24)
}

// defaultBasis is the usual legal ground for a requester kind and purpose.
func defaultBasis(k RequesterKind, purpose string) Basis {
	switch k {
	case Patient, Representative:
		return BasisIndividual
	case CourtOrder:
		return BasisCourtOrder
	case Agency:
		return BasisLaw
	case Provider, Insurer:
		if tpoPurposes[purpose] {
			return BasisTPO
		}
	}
	return BasisAuthorization
}

// check validates a new request and fills its defaults.
func (r *Request) check() error {
	if !slices.Contains(RequesterKinds, r.RequesterKind) {
		return custodian.Errorf(custodian.EINVALID, "the requester kind %q is not one of %s", r.RequesterKind, joinKinds())
	}
	if strings.TrimSpace(r.RequesterName) == "" {
		return custodian.Errorf(custodian.EINVALID, "the requester's name is required")
	}
	if r.Patient == "" {
		return custodian.Errorf(custodian.EINVALID, "the patient is required")
	}
	if _, ok := Purposes[r.Purpose]; !ok {
		return custodian.Errorf(custodian.EINVALID, "the purpose %q is not a known purpose of use code", r.Purpose)
	}
	if r.Received.IsZero() {
		return custodian.Errorf(custodian.EINVALID, "the date the request was received is required")
	}
	if r.Basis == "" {
		r.Basis = defaultBasis(r.RequesterKind, r.Purpose)
	}
	switch r.Basis {
	case BasisIndividual:
		if r.RequesterKind != Patient && r.RequesterKind != Representative {
			return custodian.Errorf(custodian.EINVALID, "only the patient or a personal representative asks under the right of access")
		}
		if strings.TrimSpace(r.IdentityVerified) == "" {
			return custodian.Errorf(custodian.EINVALID, "a patient's own request needs the identity verification recorded (how it was verified)")
		}
	case BasisAuthorization:
		if r.Authorization == "" {
			return custodian.Errorf(custodian.EINVALID, "a request from a %s for %s needs the patient's authorization (a Consent)", r.RequesterKind, Purposes[r.Purpose])
		}
	case BasisTPO:
		if !tpoPurposes[r.Purpose] {
			return custodian.Errorf(custodian.EINVALID, "the basis tpo needs the purpose TREAT, HPAYMT or HOPERAT")
		}
	case BasisCourtOrder, BasisLaw:
		if strings.TrimSpace(r.LegalAuthority) == "" {
			return custodian.Errorf(custodian.EINVALID, "a release under a court order or a law must name it (order number, statute)")
		}
	default:
		return custodian.Errorf(custodian.EINVALID, "the legal basis %q is not known", r.Basis)
	}
	if !r.From.IsZero() && !r.To.IsZero() && r.To.Before(r.From) {
		return custodian.Errorf(custodian.EINVALID, "the records' date range ends before it starts")
	}
	if len(r.Types) == 0 {
		return custodian.Errorf(custodian.EINVALID, "select at least one record type (minimum necessary)")
	}
	for _, t := range r.Types {
		if _, ok := RecordTypes[t]; !ok {
			return custodian.Errorf(custodian.EINVALID, "%q is not a record type a request can select", t)
		}
	}
	slices.Sort(r.Types)
	r.Types = slices.Compact(r.Types)
	slices.Sort(r.Categories)
	r.Categories = slices.Compact(r.Categories)
	r.Received = r.Received.UTC()
	r.Due = DueDate(r.Received, false)
	r.Status = Requested
	return nil
}

func joinKinds() string {
	s := make([]string, len(RequesterKinds))
	for i, k := range RequesterKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
