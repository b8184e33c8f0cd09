package fhirpath

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// String functions (FHIRPath § 5.6). Positions and lengths count characters (runes).

// stringInput returns the single string input; ok is false for empty input. A non-string
// input is an error.
func stringInput(focus Collection, fn string) (string, bool, error) {
	it, ok, err := singleInput(focus, fn)
	if err != nil || !ok {
		return "", false, err
	}
	v, ok := it.system()
	if !ok {
		if _, isMap := it.val.(map[string]any); isMap {
			return "", false, &Error{Kind: SemanticError, Pos: -1, Msg: fn + "() requires a String input, got " + it.Type()}
		}
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, &Error{Kind: SemanticError, Pos: -1, Msg: fn + "() requires a String input, got " + it.Type()}
	}
	return s, true, nil
}

// stringArg evaluates a single string argument; ok is false when it is empty.
func (ec *evalCtx) stringArg(n node) (string, bool, error) {
	c, err := ec.arg(n)
	if err != nil || len(c) == 0 {
		return "", false, err
	}
	if len(c) > 1 {
		return "", false, execErrorf("expected a single string argument")
	}
	v, _ := c[0].system()
	s, ok := v.(string)
	if !ok {
		return "", false, execErrorf("expected a string argument, got %s", c[0].Type())
	}
	return s, true, nil
}

func fnIndexOf(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	s, ok, err := stringInput(focus, "indexOf")
	if err != nil || !ok {
		return nil, err
	}
	sub, ok, err := ec.stringArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	i := strings.Index(s, sub)
	if i > 0 {
		i = utf8.RuneCountInString(s[:i])
	}
	return Collection{systemItem(int64(i))}, nil
}

func fnLastIndexOf(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	s, ok, err := stringInput(focus, "lastIndexOf")
	if err != nil || !ok {
		return nil, err
	}
	sub, ok, err := ec.stringArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	i := strings.LastIndex(s, sub)
	if i > 0 {
		i = utf8.RuneCountInString(s[:i])
	}
	return Collection{systemItem(int64(i))}, nil
}

func fnSubstring(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	s, ok, err := stringInput(focus, "substring")
	if err != nil || !ok {
		return nil, err
	}
	start, ok, err := ec.intArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	r := []rune(s)
	if start < 0 || int(start) >= len(r) {
		return nil, nil
	}
	end := int64(len(r))
	if len(args) == 2 {
		n, ok, err := ec.intArg(args[1])
		if err != nil {
			return nil, err
		}
		if ok {
			end = min(start+max(n, 0), end)
		}
	}
	return Collection{systemItem(string(r[start:end]))}, nil
}

func strPredicate(kind string) funcImpl {
	return func(ec *evalCtx, focus Collection, args []node) (Collection, error) {
		s, ok, err := stringInput(focus, kind)
		if err != nil || !ok {
			return nil, err
		}
		sub, ok, err := ec.stringArg(args[0])
		if err != nil || !ok {
			return nil, err
		}
		switch kind {
		case "startsWith":
			return boolColl(strings.HasPrefix(s, sub)), nil
		case "endsWith":
			return boolColl(strings.HasSuffix(s, sub)), nil
		}
		return boolColl(strings.Contains(s, sub)), nil
	}
}

func strMap(kind string) funcImpl {
	return func(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
		s, ok, err := stringInput(focus, kind)
		if err != nil || !ok {
			return nil, err
		}
		switch kind {
		case "upper":
			s = strings.ToUpper(s)
		case "lower":
			s = strings.ToLower(s)
		default:
			s = strings.TrimSpace(s)
		}
		return Collection{systemItem(s)}, nil
	}
}

func fnToChars(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	s, ok, err := stringInput(focus, "toChars")
	if err != nil || !ok {
		return nil, err
	}
	var out Collection
	for _, r := range s {
		out = append(out, systemItem(string(r)))
	}
	return out, nil
}

func fnReplace(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	s, ok, err := stringInput(focus, "replace")
	if err != nil || !ok {
		return nil, err
	}
	pat, ok, err := ec.stringArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	rep, ok, err := ec.stringArg(args[1])
	if err != nil || !ok {
		return nil, err
	}
	return Collection{systemItem(strings.ReplaceAll(s, pat, rep))}, nil
}

// compileRegex compiles a FHIRPath regular expression; full anchors it to the whole string.
func compileRegex(pat string, full bool) (*regexp.Regexp, error) {
	if full {
		pat = `^(?:` + pat + `)$`
	}
	re, err := regexp.Compile(`(?s)` + pat)
	if err != nil {
		return nil, execErrorf("invalid regular expression")
	}
	return re, nil
}

func fnMatches(full bool) funcImpl {
	return func(ec *evalCtx, focus Collection, args []node) (Collection, error) {
		s, ok, err := stringInput(focus, "matches")
		if err != nil || !ok {
			return nil, err
		}
		pat, ok, err := ec.stringArg(args[0])
		if err != nil || !ok {
			return nil, err
		}
		re, err := compileRegex(pat, full)
		if err != nil {
			return nil, err
		}
		return boolColl(re.MatchString(s)), nil
	}
}

func fnReplaceMatches(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	s, ok, err := stringInput(focus, "replaceMatches")
	if err != nil || !ok {
		return nil, err
	}
	pat, ok, err := ec.stringArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	rep, ok, err := ec.stringArg(args[1])
	if err != nil || !ok {
		return nil, err
	}
	if pat == "" {
		return Collection{systemItem(s)}, nil
	}
	re, err := compileRegex(pat, false)
	if err != nil {
		return nil, err
	}
	return Collection{systemItem(re.ReplaceAllString(s, rep))}, nil
}

func fnLength(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	s, ok, err := stringInput(focus, "length")
	if err != nil || !ok {
		return nil, err
	}
	return Collection{systemItem(int64(utf8.RuneCountInString(s)))}, nil
}

func fnSplit(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	s, ok, err := stringInput(focus, "split")
	if err != nil || !ok {
		return nil, err
	}
	sep, ok, err := ec.stringArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	var out Collection
	for _, p := range strings.Split(s, sep) {
		out = append(out, systemItem(p))
	}
	return out, nil
}

func fnJoin(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	sep := ""
	if len(args) == 1 {
		s, _, err := ec.stringArg(args[0])
		if err != nil {
			return nil, err
		}
		sep = s
	}
	parts := make([]string, 0, len(focus))
	for _, it := range focus {
		s, ok := toStringValue(it)
		if !ok {
			return nil, execErrorf("join() requires string items")
		}
		parts = append(parts, s)
	}
	return Collection{systemItem(strings.Join(parts, sep))}, nil
}

func fnEncode(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	s, ok, err := stringInput(focus, "encode")
	if err != nil || !ok {
		return nil, err
	}
	enc, ok, err := ec.stringArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	switch enc {
	case "hex":
		return Collection{systemItem(hex.EncodeToString([]byte(s)))}, nil
	case "base64":
		return Collection{systemItem(base64.StdEncoding.EncodeToString([]byte(s)))}, nil
	case "urlbase64":
		return Collection{systemItem(base64.URLEncoding.EncodeToString([]byte(s)))}, nil
	}
	return nil, nil
}

func fnDecode(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	s, ok, err := stringInput(focus, "decode")
	if err != nil || !ok {
		return nil, err
	}
	enc, ok, err := ec.stringArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	var b []byte
	switch enc {
	case "hex":
		b, err = hex.DecodeString(s)
	case "base64":
		b, err = base64.StdEncoding.DecodeString(s)
	case "urlbase64":
		b, err = base64.URLEncoding.DecodeString(s)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, nil
	}
	return Collection{systemItem(string(b))}, nil
}

func fnEscape(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	s, ok, err := stringInput(focus, "escape")
	if err != nil || !ok {
		return nil, err
	}
	kind, ok, err := ec.stringArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	switch kind {
	case "html":
		return Collection{systemItem(htmlEscaper.Replace(s))}, nil
	case "json":
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		out := strings.TrimSuffix(b.String(), "\n")
		return Collection{systemItem(out[1 : len(out)-1])}, nil
	}
	return nil, nil
}

func fnUnescape(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	s, ok, err := stringInput(focus, "unescape")
	if err != nil || !ok {
		return nil, err
	}
	kind, ok, err := ec.stringArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	switch kind {
	case "html":
		return Collection{systemItem(html.UnescapeString(s))}, nil
	case "json":
		return Collection{systemItem(unescapeJSON(s))}, nil
	}
	return nil, nil
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// unescapeJSON decodes JSON string escapes, leaving anything else as it is.
func unescapeJSON(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				var r rune
				if _, err := fmt.Sscanf(s[i+1:i+5], "%04x", &r); err == nil {
					b.WriteRune(r)
					i += 4
					continue
				}
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
