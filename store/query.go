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
	// Count is the page size.
	Count int
	// Cursor continues a previous search ("" for the first page).
	Cursor string
	// CountTotal asks for the number of matches.
	CountTotal bool
	// Text is the query as the client wrote it, for the audit trail.
	Text string
	// Visible limits the results to what the actor may see; the store sets
	// it. nil means no limit.
	Visible *Visibility
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
}

// ClauseValue is one value of a clause, already parsed for its kind.
type ClauseValue struct {
	// Prefix is the comparator for ordered kinds: eq, ne, gt, lt, ge, le,
	// sa, eb, ap.
	Prefix string
	// System and Code for tokens; AnySystem is true when the value had no
	// "|", so any system matches.
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
}
