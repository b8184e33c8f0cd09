package store

import (
	"errors"
	"fmt"
	"github.com/custodian-him/custodian/fhir/ucum"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
)

// Page-size limits of a search.
const (
	DefaultCount = 20
	MaxCount     = 1000
)

// resultParams are the search result parameters Custodian accepts; they do
// not select resources.
var resultParams = map[string]bool{
	"_count": true, "_total": true, "_format": true, "_pretty": true, "_cursor": true,
	"_sort": true, "_include": true, "_revinclude": true, "_include:iterate": true,
	"_revinclude:iterate": true, "_include:recurse": true, "_revinclude:recurse": true,
	"_summary": true, "_elements": true,
}

// ParamInfo describes a search parameter to the query parser.
type ParamInfo struct {
	Kind ParamKind
	// Targets are the resource types a reference parameter may point to.
	Targets []string
	// Components are a composite's two component kinds.
	Components [2]ParamKind
}

// ParamCatalog is what the parser needs to know beyond Indexer.Param for
// chains, composites, :in and _include=*; the Indexer may implement it.
type ParamCatalog interface {
	ParamInfo(typ, code string) (ParamInfo, bool)
	// ReferenceParams lists the reference parameters of typ.
	ReferenceParams(typ string) []string
	// ValueSet returns the codes of a value set by canonical URL.
	ValueSet(url string) ([][2]string, bool)
}

// maxChain bounds the depth of chains and _has.
const maxChain = 4

// unsupported is a parameter Custodian does not support: an error under
// strict handling, ignored otherwise.
type unsupported struct{ msg string }

func (u *unsupported) Error() string { return u.msg }

func unsupportedf(format string, args ...any) error {
	return &unsupported{msg: fmt.Sprintf(format, args...)}
}

// ParseQueryString parses criteria such as "identifier=http://x|1&birthdate=1970"
// (the form of If-None-Exist and conditional URLs) as a strict search on typ.
func (s *Store) ParseQueryString(typ, criteria string) (*Query, error) {
	vals, err := url.ParseQuery(strings.TrimPrefix(criteria, "?"))
	if err != nil {
		return nil, custodian.Errorf(custodian.EINVALID, "the search criteria are not a valid query string")
	}
	q, _, err := s.ParseQuery(typ, vals, true)
	return q, err
}

// ParseQuery parses search parameters for a search on typ ("" for a
// system-level search). Under strict handling an unknown or unsupported
// parameter is an error; otherwise it is ignored and returned in ignored, so
// the self link can leave it out. Malformed values are always errors.
func (s *Store) ParseQuery(typ string, vals url.Values, strict bool) (q *Query, ignored []string, err error) {
	q = &Query{Count: DefaultCount}
	if typ != "" {
		if !s.validator.IsResourceType(typ) {
			return nil, nil, custodian.Errorf(custodian.ENOTFOUND, "%q is not a FHIR R4 resource type", typ)
		}
		q.Types = []string{typ}
	} else if ts := vals.Get("_type"); ts != "" {
		for _, t := range strings.Split(ts, ",") {
			if !s.validator.IsResourceType(t) {
				return nil, nil, custodian.Errorf(custodian.EINVALID, "_type names %q, which is not a FHIR R4 resource type", t)
			}
			if !slices.Contains(q.Types, t) {
				q.Types = append(q.Types, t)
			}
		}
	}
	// A system-level search without _type takes the parameters every
	// resource has (_tag, _profile, _security, _source); it then covers
	// every type.
	types := q.Types
	if typ == "" && len(types) == 0 {
		if rt, ok := s.validator.(interface{ ResourceTypes() []string }); ok {
			types = rt.ResourceTypes()
		}
	}
	names := make([]string, 0, len(vals))
	for name := range vals {
		names = append(names, name)
	}
	slices.Sort(names) // a stable clause order, for stable SQL
	for _, name := range names {
		values := vals[name]
		if name == "_type" && typ == "" {
			continue
		}
		if resultParams[name] {
			for _, v := range values {
				if err := s.parseResultParam(q, name, v); err != nil {
					return nil, nil, err
				}
			}
			continue
		}
		for _, v := range values {
			c, err := s.parseParam(types, name, v, 0)
			var u *unsupported
			if errors.As(err, &u) {
				if strict {
					return nil, nil, custodian.Errorf(custodian.EINVALID, "%s", u.msg)
				}
				if !slices.Contains(ignored, name) {
					ignored = append(ignored, name)
				}
				break
			}
			if err != nil {
				return nil, nil, err
			}
			q.Clauses = append(q.Clauses, c)
			if len(q.Types) == 0 && c.Param != "_id" && c.Param != "_lastUpdated" && c.Param != "_content" {
				q.Types = types
			}
		}
	}
	if q.Summary == "count" {
		q.Count, q.CountTotal = 0, true
	}
	return q, ignored, nil
}

func (s *Store) catalog() ParamCatalog {
	c, _ := s.indexer.(ParamCatalog)
	return c
}

// paramInfo finds code on every type of the search; a parameter must exist
// on each of them, with the same kind.
func (s *Store) paramInfo(types []string, code string) (ParamInfo, bool) {
	switch code {
	case "_id":
		return ParamInfo{Kind: KindToken}, true
	case "_lastUpdated":
		return ParamInfo{Kind: KindDate}, true
	}
	if len(types) == 0 || s.indexer == nil {
		return ParamInfo{}, false
	}
	var info ParamInfo
	cat := s.catalog()
	for i, t := range types {
		var pi ParamInfo
		var ok bool
		if cat != nil {
			pi, ok = cat.ParamInfo(t, code)
		} else {
			pi.Kind, ok = s.indexer.Param(t, code)
		}
		if !ok || (i > 0 && pi.Kind != info.Kind) {
			return ParamInfo{}, false
		}
		if i == 0 {
			info = pi
		} else {
			for _, tg := range pi.Targets {
				if !slices.Contains(info.Targets, tg) {
					info.Targets = append(info.Targets, tg)
				}
			}
		}
	}
	return info, true
}

// modifiers are the modifiers each kind supports.
var modifiers = map[ParamKind][]string{
	KindToken:     {"", "missing", "not", "text", "in", "not-in", "of-type", "below", "above"},
	KindReference: {"", "missing", "identifier"},
	KindDate:      {"", "missing"},
	KindString:    {"", "missing", "exact", "contains"},
	KindURI:       {"", "missing", "above", "below"},
	KindNumber:    {"", "missing"},
	KindQuantity:  {"", "missing"},
	KindComposite: {"", "missing"},
}

// parseParam parses one parameter name=value on types: a plain parameter
// with its modifier, a chain (subject:Patient.name) or a reverse chain
// (_has:Observation:patient:code).
func (s *Store) parseParam(types []string, name, raw string, depth int) (Clause, error) {
	if depth > maxChain {
		return Clause{}, custodian.Errorf(custodian.EINVALID, "%s: chains are limited to %d levels", name, maxChain)
	}
	if code, mod, _ := strings.Cut(name, ":"); code == "_text" || code == "_content" {
		if mod != "" {
			return Clause{}, unsupportedf("%s takes no modifier", code)
		}
		if code == "_text" && len(types) == 0 {
			return Clause{}, unsupportedf("_text needs a resource type")
		}
		// Every word must occur (as a prefix of a word or value).
		c := Clause{Param: code, Kind: KindString}
		for _, w := range Words(raw) {
			if len(c.Values) < 16 {
				c.Values = append(c.Values, ClauseValue{Text: w})
			}
		}
		if len(c.Values) == 0 {
			return Clause{}, custodian.Errorf(custodian.EINVALID, "%s has no words to search for", code)
		}
		return c, nil
	}
	if rest, ok := strings.CutPrefix(name, "_has:"); ok {
		return s.parseHas(types, name, rest, raw, depth)
	}
	if head, rest, ok := strings.Cut(name, "."); ok {
		return s.parseChain(types, name, head, rest, raw, depth)
	}
	code, modifier, _ := strings.Cut(name, ":")
	info, ok := s.paramInfo(types, code)
	if !ok {
		return Clause{}, unsupportedf("unknown or unsupported search parameter %q", name)
	}
	if code == "_id" || code == "_lastUpdated" {
		if modifier != "" {
			return Clause{}, unsupportedf("the modifier :%s is not supported on %s", modifier, code)
		}
	} else if info.Kind == KindReference && modifier != "" && !slices.Contains(modifiers[KindReference], modifier) {
		// :[type] on a reference
		if !s.validator.IsResourceType(modifier) {
			return Clause{}, unsupportedf("%q is neither a modifier of %s nor a resource type", modifier, code)
		}
	} else if !slices.Contains(modifiers[info.Kind], modifier) {
		return Clause{}, unsupportedf("the modifier :%s is not supported on %s (a %s parameter)", modifier, code, info.Kind)
	}
	return s.parseClause(code, info, modifier, raw)
}

// parseChain parses subject:Patient.name=x (head subject:Patient, rest name).
func (s *Store) parseChain(types []string, name, head, rest, raw string, depth int) (Clause, error) {
	code, target, _ := strings.Cut(head, ":")
	info, ok := s.paramInfo(types, code)
	if !ok || info.Kind != KindReference {
		return Clause{}, unsupportedf("%q: %s is not a reference parameter of %s, so it cannot be chained", name, code, strings.Join(types, ", "))
	}
	targets := info.Targets
	if target != "" {
		if !s.validator.IsResourceType(target) {
			return Clause{}, custodian.Errorf(custodian.EINVALID, "%q: %q is not a resource type", name, target)
		}
		targets = []string{target}
	}
	// The chained parameter must exist on the targets; types without it
	// are left out (subject.name: Patient and Group have name, Device
	// does not).
	var with []string
	innerName, _, _ := strings.Cut(rest, ".")
	innerCode, _, _ := strings.Cut(innerName, ":")
	for _, t := range targets {
		if _, ok := s.paramInfo([]string{t}, innerCode); ok || strings.HasPrefix(innerName, "_has") {
			with = append(with, t)
		}
	}
	if len(with) == 0 {
		return Clause{}, unsupportedf("%q: none of the types %s can refer to has a search parameter %q (name the type: %s:Type.%s)", name, code, innerCode, code, rest)
	}
	if len(with) > 1 {
		// The kinds must agree for one clause to apply to all.
		kinds := map[ParamKind]bool{}
		for _, t := range with {
			if pi, ok := s.paramInfo([]string{t}, innerCode); ok {
				kinds[pi.Kind] = true
			}
		}
		if len(kinds) > 1 {
			return Clause{}, custodian.Errorf(custodian.EINVALID, "%q: %s means different things on %s; name the type (%s:Type.%s)", name, innerCode, strings.Join(with, ", "), code, rest)
		}
	}
	inner, err := s.parseParam(with, rest, raw, depth+1)
	if err != nil {
		return Clause{}, err
	}
	return Clause{Param: code, Kind: KindReference, Chain: &inner, ChainTypes: with}, nil
}

// parseHas parses _has:Observation:patient:code=x (rest is after "_has:").
func (s *Store) parseHas(types []string, name, rest, raw string, depth int) (Clause, error) {
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Clause{}, custodian.Errorf(custodian.EINVALID, "%q: _has takes the form _has:Type:reference:parameter", name)
	}
	hasType, ref, inner := parts[0], parts[1], parts[2]
	if !s.validator.IsResourceType(hasType) {
		return Clause{}, custodian.Errorf(custodian.EINVALID, "%q: %q is not a resource type", name, hasType)
	}
	info, ok := s.paramInfo([]string{hasType}, ref)
	if !ok || info.Kind != KindReference {
		return Clause{}, custodian.Errorf(custodian.EINVALID, "%q: %s is not a reference parameter of %s", name, ref, hasType)
	}
	if len(types) > 0 && len(info.Targets) > 0 {
		match := false
		for _, t := range types {
			match = match || slices.Contains(info.Targets, t)
		}
		if !match {
			return Clause{}, custodian.Errorf(custodian.EINVALID, "%q: %s.%s never refers to %s", name, hasType, ref, strings.Join(types, ", "))
		}
	}
	c, err := s.parseParam([]string{hasType}, inner, raw, depth+1)
	if err != nil {
		return Clause{}, err
	}
	return Clause{Param: "_has", Has: &c, HasType: hasType, HasParam: ref}, nil
}

func (s *Store) parseResultParam(q *Query, name, v string) error {
	switch name {
	case "_count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return custodian.Errorf(custodian.EINVALID, "_count must be a whole number of 0 or more")
		}
		q.Count = min(n, MaxCount)
	case "_total":
		switch v {
		case "none":
			q.CountTotal = false
		case "accurate", "estimate":
			q.CountTotal = true
		default:
			return custodian.Errorf(custodian.EINVALID, "_total must be none, estimate or accurate")
		}
	case "_cursor":
		q.Cursor = v
	case "_sort":
		q.Sort = q.Sort[:0]
		for _, k := range strings.Split(v, ",") {
			desc := strings.HasPrefix(k, "-")
			code := strings.TrimPrefix(k, "-")
			info, ok := s.paramInfo(q.Types, code)
			if !ok || info.Kind == KindComposite || code == "" {
				return custodian.Errorf(custodian.EINVALID, "_sort: %q is not a search parameter of %s that results can be sorted by", code, strings.Join(q.Types, ", "))
			}
			q.Sort = append(q.Sort, SortKey{Param: code, Kind: info.Kind, Desc: desc})
		}
		if len(q.Sort) > 4 {
			return custodian.Errorf(custodian.EINVALID, "_sort takes at most 4 keys")
		}
	case "_include", "_revinclude", "_include:iterate", "_revinclude:iterate", "_include:recurse", "_revinclude:recurse":
		base, mod, _ := strings.Cut(name, ":")
		inc, err := s.parseInclude(v)
		if err != nil {
			return custodian.Errorf(custodian.EINVALID, "%s: %v", name, err)
		}
		inc.Rev, inc.Iterate = base == "_revinclude", mod != ""
		if len(q.Includes) >= 10 {
			return custodian.Errorf(custodian.EINVALID, "at most 10 _include and _revinclude parameters are allowed")
		}
		q.Includes = append(q.Includes, inc)
	case "_summary":
		switch v {
		case "true", "text", "data", "count", "false":
			q.Summary = v
		default:
			return custodian.Errorf(custodian.EINVALID, "_summary must be true, text, data, count or false")
		}
	case "_elements":
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if strings.Contains(e, ".") {
				_, e, _ = strings.Cut(e, ".") // Patient.name: the type is implied
			}
			if !validElementName(e) {
				return custodian.Errorf(custodian.EINVALID, "_elements: %q is not an element name", e)
			}
			q.Elements = append(q.Elements, e)
		}
	}
	return nil
}

func validElementName(e string) bool {
	if e == "" || len(e) > 64 {
		return false
	}
	for i := 0; i < len(e); i++ {
		c := e[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0 || c == '_' && i == 0) {
			return false
		}
	}
	return true
}

// parseInclude parses Type:param[:target] or *.
func (s *Store) parseInclude(v string) (Include, error) {
	if v == "*" {
		return Include{Param: "*"}, nil
	}
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Include{}, fmt.Errorf("%q is not of the form Type:parameter or Type:parameter:target", v)
	}
	inc := Include{Type: parts[0], Param: parts[1]}
	if !s.validator.IsResourceType(inc.Type) {
		return Include{}, fmt.Errorf("%q is not a resource type", inc.Type)
	}
	if len(parts) == 3 {
		inc.Target = parts[2]
		if !s.validator.IsResourceType(inc.Target) {
			return Include{}, fmt.Errorf("%q is not a resource type", inc.Target)
		}
	}
	if inc.Param == "*" {
		return inc, nil
	}
	info, ok := s.paramInfo([]string{inc.Type}, inc.Param)
	if !ok || info.Kind != KindReference {
		return Include{}, fmt.Errorf("%s is not a reference parameter of %s", inc.Param, inc.Type)
	}
	return inc, nil
}

var prefixes = []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

// cutPrefix splits a comparator prefix off an ordered value.
func cutPrefix(v string) (string, string) {
	if len(v) >= 2 && v[0] >= 'a' && v[0] <= 'z' {
		for _, p := range prefixes {
			if strings.HasPrefix(v, p) {
				return p, v[2:]
			}
		}
	}
	return "eq", v
}

// maxValues bounds the ORed values of one parameter.
const maxValues = 100

func (s *Store) parseClause(code string, info ParamInfo, modifier, raw string) (Clause, error) {
	kind := info.Kind
	c := Clause{Param: code, Kind: kind, Modifier: modifier, Components: info.Components}
	if modifier == "missing" {
		switch raw {
		case "true", "false":
			c.Values = []ClauseValue{{Missing: raw == "true"}}
			return c, nil
		}
		return c, custodian.Errorf(custodian.EINVALID, "%s:missing must be true or false", code)
	}
	vals := splitOr(raw)
	if len(vals) > maxValues {
		return c, custodian.Errorf(custodian.EINVALID, "%s has %d values; at most %d are allowed", code, len(vals), maxValues)
	}
	for _, v := range vals {
		cv, err := s.parseValue(code, kind, info, modifier, v)
		if err != nil {
			return c, err
		}
		c.Values = append(c.Values, cv)
	}
	if kind == KindToken && (modifier == "below" || modifier == "above") {
		c.Modifier = "in" // the codes the hierarchy gave, searched as a value set is
	}
	return c, nil
}

// maxSubsumed bounds the codes one :below value may stand for.
const maxSubsumed = 4000

// CodeHierarchy knows which codes subsume which in the code systems it
// holds, for the token modifiers :below and :above. Package codeset
// implements it for ICD-10-CM and ICD-10-PCS.
type CodeHierarchy interface {
	// Below returns code and every code under it in system, in the forms
	// resources carry them; over reports there were more than max; ok is
	// false when system or code is unknown.
	Below(system, code string, max int) (codes []string, over, ok bool)
	// Above returns code and every code above it.
	Above(system, code string) (codes []string, ok bool)
}

func (s *Store) parseValue(code string, kind ParamKind, info ParamInfo, modifier, v string) (ClauseValue, error) {
	var cv ClauseValue
	if v == "" {
		return cv, custodian.Errorf(custodian.EINVALID, "%s has an empty value", code)
	}
	if len(v) > 2048 {
		return cv, custodian.Errorf(custodian.EINVALID, "%s: the value is too long", code)
	}
	switch kind {
	case KindToken:
		if code == "_id" {
			cv.Text = unescape(v)
			break
		}
		switch modifier {
		case "text":
			cv.Text = NormalizeString(unescape(v))
			return cv, nil
		case "in", "not-in":
			cat := s.catalog()
			var ok bool
			if cat != nil {
				cv.Codes, ok = cat.ValueSet(unescape(v))
			}
			if !ok {
				return cv, custodian.Errorf(custodian.EINVALID, "%s:%s: the value set %q is not one Custodian can expand", code, modifier, v)
			}
			return cv, nil
		case "below", "above":
			sys, val, ok := cutEscaped(v, '|')
			if !ok || sys == "" || val == "" {
				return cv, custodian.Errorf(custodian.EINVALID, "%s:%s takes system|code", code, modifier)
			}
			var codes []string
			var over bool
			if s.Codes != nil {
				if modifier == "below" {
					codes, over, ok = s.Codes.Below(sys, val, maxSubsumed)
				} else {
					codes, ok = s.Codes.Above(sys, val)
				}
			} else {
				ok = false
			}
			if !ok {
				return cv, custodian.Errorf(custodian.EINVALID, "%s:%s: Custodian does not know the hierarchy of %s, or %s is not in it", code, modifier, sys, val)
			}
			if over {
				return cv, custodian.Errorf(custodian.EINVALID, "%s:%s: %s has more than %d codes under it; search on a narrower code", code, modifier, val, maxSubsumed)
			}
			for _, c := range codes {
				cv.Codes = append(cv.Codes, [2]string{sys, c})
			}
			return cv, nil
		case "of-type":
			p0, rest, _ := cutEscaped(v, '|')
			p1, p2, ok := cutEscaped(rest, '|')
			parts := []string{p0, p1, p2}
			if !ok || parts[1] == "" || parts[2] == "" {
				return cv, custodian.Errorf(custodian.EINVALID, "%s:of-type takes system|code|value", code)
			}
			cv.System, cv.Code = "of-type:"+parts[0]+"|"+parts[1], parts[2]
			return cv, nil
		}
		if sys, val, ok := cutEscaped(v, '|'); ok {
			cv.System, cv.Code = sys, val
			if sys == "" && val == "" {
				return cv, custodian.Errorf(custodian.EINVALID, "%s: %q names neither a system nor a code", code, v)
			}
		} else {
			cv.Code, cv.AnySystem = sys, true
		}
	case KindReference:
		if modifier == "identifier" {
			if sys, val, ok := cutEscaped(v, '|'); ok {
				cv.System, cv.Code = sys, val
			} else {
				cv.Code, cv.AnySystem = sys, true
			}
			return cv, nil
		}
		v = unescape(v)
		cv.RefType, cv.RefID = SplitReference(v)
		if modifier != "" {
			if cv.RefType != "" && cv.RefType != modifier {
				return cv, custodian.Errorf(custodian.EINVALID, "%s:%s: %q is not a reference to a %s", code, modifier, v, modifier)
			}
			cv.RefType = modifier
		}
		if cv.RefID == "" {
			return cv, custodian.Errorf(custodian.EINVALID, "%s needs a reference such as Patient/123", code)
		}
	case KindDate:
		cv.Prefix, v = cutPrefix(unescape(v))
		var ok bool
		if cv.Low, cv.High, ok = DateRange(v); !ok {
			return cv, custodian.Errorf(custodian.EINVALID, "%s: %q is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime), optionally after a prefix (eq, ne, gt, lt, ge, le, sa, eb, ap)", code, v)
		}
	case KindString:
		v = unescape(v)
		cv.Text = NormalizeString(v)
		if modifier == "exact" {
			cv.Text = v
		}
	case KindURI:
		cv.Text = unescape(v)
	case KindNumber:
		cv.Prefix, v = cutPrefix(unescape(v))
		var ok bool
		if cv.Num, cv.NumLow, cv.NumHigh, ok = ParseNumber(v); !ok {
			return cv, custodian.Errorf(custodian.EINVALID, "%s: %q is not a number, optionally after a prefix (eq, ne, gt, lt, ge, le, sa, eb, ap)", code, v)
		}
	case KindQuantity:
		return parseQuantity(code, v)
	case KindComposite:
		first, second, ok := cutRaw(v, '$')
		if !ok || first == "" || second == "" {
			return cv, custodian.Errorf(custodian.EINVALID, "%s: a composite value has two parts separated by $", code)
		}
		a, err := s.parseValue(code, info.Components[0], ParamInfo{Kind: info.Components[0]}, "", first)
		if err != nil {
			return cv, err
		}
		b, err := s.parseValue(code, info.Components[1], ParamInfo{Kind: info.Components[1]}, "", second)
		if err != nil {
			return cv, err
		}
		if info.Components[0] == KindReference {
			a.System, a.Code, a.AnySystem = "", a.RefType+"/"+a.RefID, false
			if a.RefType == "" {
				return cv, custodian.Errorf(custodian.EINVALID, "%s: the reference must name its type (Type/id)", code)
			}
		}
		a.Second = &b
		return a, nil
	default:
		return cv, unsupportedf("search by %s parameters (%s) is not supported", kind, code)
	}
	return cv, nil
}

// parseQuantity parses [prefix]number[|system|code] or number||unit.
func parseQuantity(code, v string) (ClauseValue, error) {
	var cv ClauseValue
	cv.Prefix, v = cutPrefix(v)
	num, rest, hasUnit := cutEscaped(v, '|')
	var ok bool
	if cv.Num, cv.NumLow, cv.NumHigh, ok = ParseNumber(num); !ok {
		return cv, custodian.Errorf(custodian.EINVALID, "%s: %q is not a quantity (number, number|system|code or number||unit), optionally after a prefix", code, v)
	}
	if hasUnit {
		sys, unit, ok := cutEscaped(rest, '|')
		if !ok {
			return cv, custodian.Errorf(custodian.EINVALID, "%s: %q is not a quantity (number, number|system|code or number||unit)", code, v)
		}
		cv.System, cv.Code = sys, unit
		if unit != "" && (sys == ucum.System || sys == "") {
			if c, cc, ok := ucum.Canonical(cv.Num, unit); ok {
				lo, _, _ := ucum.Canonical(cv.NumLow, unit)
				hi, _, _ := ucum.Canonical(cv.NumHigh, unit)
				cv.Canon, cv.CanonCode, cv.CanonLo, cv.CanonHi = c, cc, lo, hi
			}
		}
	}
	return cv, nil
}

// ParseNumber parses a FHIR search number (no NaN or infinities) and the
// range its precision implies: 100 covers [99.5, 100.5), 1e2 [50, 150).
func ParseNumber(v string) (num, lo, hi float64, ok bool) {
	if v == "" || len(v) > 64 {
		return 0, 0, 0, false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, 0, 0, false
		}
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, 0, 0, false
	}
	mant, exp := v, 0
	if i := strings.IndexAny(v, "eE"); i >= 0 {
		mant = v[:i]
		if exp, err = strconv.Atoi(strings.TrimPrefix(v[i+1:], "+")); err != nil {
			return 0, 0, 0, false
		}
	}
	decimals := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		decimals = len(mant) - i - 1
	}
	half := 0.5 * math.Pow(10, float64(exp-decimals))
	return n, n - half, n + half, true
}

// SplitReference turns "Patient/1", "1", or an absolute URL ending in
// Patient/1 (optionally with _history) into type and id; anything else is
// kept whole as the id. The index and the search split references alike.
func SplitReference(ref string) (typ, id string) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) >= 2 {
		t, id := parts[len(parts)-2], parts[len(parts)-1]
		if t != "" && t[0] >= 'A' && t[0] <= 'Z' && ValidID(id) {
			return t, id
		}
	}
	return "", ref
}

// splitOr splits a parameter value on commas not escaped with a
// backslash. The pieces keep their escapes (\, \| \$ \\): the parts of
// a value are found with cutEscaped, and unescape removes them.
func splitOr(v string) []string {
	var out []string
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++ // the escaped character is part of the value
		case ',':
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// cutRaw cuts v at the first sep not escaped with a backslash, keeping the
// escapes in both parts.
func cutRaw(v string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case sep:
			return v[:i], v[i+1:], true
		}
	}
	return v, "", false
}

// cutEscaped cuts v at the first unescaped sep and unescapes both parts;
// without a sep, before is all of v unescaped.
func cutEscaped(v string, sep byte) (before, after string, found bool) {
	b, a, ok := cutRaw(v, sep)
	return unescape(b), unescape(a), ok
}

// unescape removes the FHIR search escapes: \, \| \$ and \\.
func unescape(v string) string {
	if !strings.Contains(v, "\\") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			switch v[i+1] {
			case ',', '|', '$', '\\':
				i++
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// NormalizeString folds a string for string-parameter matching: lower case,
// with runs of white space made single spaces.
func NormalizeString(s string) string {
	// Fast path: ASCII already in normal form (most index values) is
	// returned as is; other ASCII is folded in one pass.
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return strings.Join(strings.Fields(strings.ToLower(s)), " ")
		case c >= 'A' && c <= 'Z', c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			clean = false
		case c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' '):
			clean = false
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			space = len(b) > 0
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return string(b)
}
