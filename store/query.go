package store

// ParamKind is the type of a search parameter, as in SearchParameter.type.
type ParamKind string

// The search parameter types of FHIR R4.
const (
	KindToken     ParamKind = "token"
	KindReference ParamKind = "reference"
	KindDate      ParamKind = "date"
	KindString    ParamKind = "string"
	KindURI       ParamKind = "uri"
	KindNumber    ParamKind = "number"
	KindQuantity  ParamKind = "quantity"
	KindComposite ParamKind = "composite"
	KindSpecial   ParamKind = "special"
)

// IndexEntry is one value of one search parameter of a resource, extracted
// when the resource is written. Which fields are used depends on Kind, which
// also names the table the entry goes to: a token parameter's :text values
// are KindString entries of that parameter, a reference parameter's
// identifiers (for :identifier) are KindToken entries.
type IndexEntry struct {
	Param string
	Kind  ParamKind
	// System and Code: token (system|code) and quantity (unit system|code);
	// for a string, Code is the value as written (for :exact); for a
	// composite, the first component (a token, or a reference as Type/id).
	System string
	Code   string
	// Text: string (normalised for matching) and uri values; the unit of a
	// quantity as written.
	Text string
	// Low and High bound a date (unix milliseconds, inclusive).
	Low, High int64
	// RefType and RefID: a reference to Type/id.
	RefType string
	RefID   string
	// NumLow and NumHigh bound a number or quantity (equal for a single
	// value, the ends of a Range); a composite's second component value.
	NumLow, NumHigh float64
	// Canon* are a UCUM quantity in base units (CanonCode "" if the unit
	// cannot be converted).
	CanonCode           string
	CanonLow, CanonHigh float64
	// System2 and Code2: a composite's second component when it is a token
	// (or a quantity's unit, a string's normalised text).
	System2, Code2 string
}

// Query is a parsed search. Clauses are ANDed; the values within a clause
// are ORed.
type Query struct {
	// Types the search covers: one for a type-level search, several or none
	// (every type) for a system-level search.
	Types   []string
	Clauses []Clause
	// Compartment limits the search to a patient's compartment
	// (/Patient/1/Observation); nil for none.
	Compartment *Compartment
	// Count is the page size.
	Count int
	// Cursor continues a previous search ("" for the first page).
	Cursor string
	// CountTotal asks for the number of matches (_total=accurate or
	// estimate); with Estimate as well, an estimate will do (_total=estimate).
	CountTotal bool
	Estimate   bool
	// Sort orders the results; empty means storage order.
	Sort []SortKey
	// Includes are the _include and _revinclude requests.
	Includes []Include
	// Summary is _summary (true, text, data, count, false; "" if absent)
	// and Elements is _elements; both shape the resources returned.
	Summary  string
	Elements []string
	// Text is the query as the client wrote it, for the audit trail.
	Text string
	// Visible limits the results to what the actor may see; the store sets
	// it. nil means no limit.
	Visible *Visibility
}

// CustomParam is a SearchParameter resource stored in the record, whose
// parameter Custodian indexes (package search compiles it).
type CustomParam struct {
	ID      string
	Version int64
	Body    []byte
	// Active is true when every stored resource has been indexed by this
	// version (custodian reindex): only then can it be searched.
	Active bool
}

// LastCursor is the Cursor of the last page of a search.
const LastCursor = "last"

// Compartment is a patient compartment: resources of each type that refer
// to the patient through one of Params[type] (and the Patient itself).
type Compartment struct {
	Type, ID string
	Params   map[string][]string
}

// SortKey is one key of _sort.
type SortKey struct {
	Param string // a search parameter, _id or _lastUpdated
	Kind  ParamKind
	Desc  bool
}

// Include is one _include or _revinclude. For _include=Encounter:patient,
// Type is Encounter, Param patient and Target the type the reference must
// have ("" for any); for _revinclude=Observation:subject it is the same,
// with Rev set: Observations whose subject is a match. Param "*" means every
// reference parameter of Type.
type Include struct {
	Rev     bool
	Type    string
	Param   string
	Target  string
	Iterate bool
}

// Visibility is what sensitive resources a search may return: all of them,
// or (when All is false) only those in the compartments of Patients, for
// which the actor has broken the glass. Resources without a sensitive label
// are always visible.
type Visibility struct {
	All      bool
	Patients []string
}

// Clause is one search parameter with its ORed values.
type Clause struct {
	Param    string
	Kind     ParamKind
	Modifier string
	Values   []ClauseValue
	// Chain is a chained search (subject:Patient.name=x): the clause on the
	// referenced resources, whose types are ChainTypes.
	Chain      *Clause
	ChainTypes []string
	// Has is a reverse chain (_has:Observation:patient:code=x): resources
	// of HasType whose HasParam refers to the match and which satisfy Has.
	Has      *Clause
	HasType  string
	HasParam string
	// Components are a composite's two component kinds.
	Components [2]ParamKind
}

// ClauseValue is one value of a clause, already parsed for its kind.
type ClauseValue struct {
	// Prefix is the comparator for ordered kinds: eq, ne, gt, lt, ge, le,
	// sa, eb, ap.
	Prefix string
	// System and Code for tokens; AnySystem is true when the value had no
	// "|", so any system matches. For a quantity, the unit's system and
	// code; for a composite, the first component.
	System    string
	Code      string
	AnySystem bool
	// Text for strings, uris and _id.
	Text string
	// Low and High (inclusive, unix milliseconds) for dates.
	Low, High int64
	// RefType and RefID for references (RefType may be empty).
	RefType string
	RefID   string
	// Num is a number or quantity as written, NumLow and NumHigh the range
	// its precision implies (100 is 99.5 to 100.5). Canon* are the same in
	// UCUM base units when the unit converts (CanonCode "" otherwise).
	Num, NumLow, NumHigh    float64
	CanonCode               string
	Canon, CanonLo, CanonHi float64
	// Codes are the (system, code) pairs of a value set, for :in/:not-in.
	Codes [][2]string
	// Second is a composite's second component.
	Second *ClauseValue
	// Missing is the value of :missing.
	Missing bool
}
