package store

import (
	"net/url"
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
// the self link can leave it out.
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
			q.Types = append(q.Types, t)
		}
	}
	for name, values := range vals {
		if name == "_type" && typ == "" {
			continue
		}
		if resultParams[name] {
			if err := parseResultParam(q, name, values[len(values)-1]); err != nil {
				return nil, nil, err
			}
			continue
		}
		code, modifier, _ := strings.Cut(name, ":")
		kind, ok := s.paramKind(q.Types, code)
		if !ok {
			if strict {
				return nil, nil, custodian.Errorf(custodian.EINVALID, "unknown or unsupported search parameter %q", name)
			}
			ignored = append(ignored, name)
			continue
		}
		for _, v := range values {
			c, err := parseClause(code, kind, modifier, v)
			if err != nil {
				return nil, nil, err
			}
			q.Clauses = append(q.Clauses, c)
		}
	}
	return q, ignored, nil
}

// paramKind finds the kind of code for every type of the search; a
// parameter must exist on each of them.
func (s *Store) paramKind(types []string, code string) (ParamKind, bool) {
	switch code {
	case "_id":
		return KindToken, true
	case "_lastUpdated":
		return KindDate, true
	}
	if len(types) == 0 || s.indexer == nil {
		return "", false
	}
	var kind ParamKind
	for _, t := range types {
		k, ok := s.indexer.Param(t, code)
		if !ok || (kind != "" && k != kind) {
			return "", false
		}
		kind = k
	}
	return kind, true
}

func parseResultParam(q *Query, name, v string) error {
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
		case "accurate", "estimate":
			q.CountTotal = true
		default:
			return custodian.Errorf(custodian.EINVALID, "_total must be none, estimate or accurate")
		}
	case "_cursor":
		q.Cursor = v
	}
	return nil
}

var datePrefixes = []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

func parseClause(code string, kind ParamKind, modifier, raw string) (Clause, error) {
	c := Clause{Param: code, Kind: kind, Modifier: modifier}
	if modifier != "" && !(kind == KindReference && modifier != "missing") {
		return c, custodian.Errorf(custodian.ENOTIMPLEMENTED, "the modifier :%s on %s is not supported yet", modifier, code)
	}
	for _, v := range splitOr(raw) {
		var cv ClauseValue
		switch kind {
		case KindToken:
			if code == "_id" {
				cv.Text = v
				break
			}
			if sys, val, ok := strings.Cut(v, "|"); ok {
				cv.System, cv.Code = sys, val
			} else {
				cv.Code, cv.AnySystem = v, true
			}
		case KindReference:
			cv.RefType, cv.RefID = splitReference(v)
			if modifier != "" {
				cv.RefType = modifier
			}
			if cv.RefID == "" {
				return c, custodian.Errorf(custodian.EINVALID, "%s needs a reference such as Patient/123", code)
			}
		case KindDate:
			cv.Prefix = "eq"
			for _, p := range datePrefixes {
				if strings.HasPrefix(v, p) {
					cv.Prefix, v = p, v[2:]
					break
				}
			}
			var ok bool
			if cv.Low, cv.High, ok = DateRange(v); !ok {
				return c, custodian.Errorf(custodian.EINVALID, "%s: %q is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)", code, v)
			}
		case KindString, KindURI:
			cv.Text = v
			if kind == KindString {
				cv.Text = NormalizeString(v)
			}
		default:
			return c, custodian.Errorf(custodian.ENOTIMPLEMENTED, "search by %s parameters (%s) is not supported yet", kind, code)
		}
		c.Values = append(c.Values, cv)
	}
	return c, nil
}

// splitOr splits a parameter value on commas not escaped with a backslash,
// and removes the FHIR escapes (\, \| \$ \\).
func splitOr(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v) && v[i+1] == ',':
			cur.WriteByte(',')
			i++
		case v[i] == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(v[i])
		}
	}
	return append(out, cur.String())
}

// splitReference turns "Patient/1", "1", or an absolute URL ending in
// Patient/1 (optionally with _history) into type and id.
func splitReference(v string) (typ, id string) {
	if i := strings.Index(v, "/_history/"); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, "/")
	if len(parts) == 1 {
		return "", parts[0]
	}
	return parts[len(parts)-2], parts[len(parts)-1]
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
