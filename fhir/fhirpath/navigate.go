package fhirpath

import "strings"

// member appends the children of it called n.name to out (FHIRPath § 4.1 path selection).
func (ec *evalCtx) member(out Collection, it Item, n *memberNode) (Collection, error) {
	m, ok := it.val.(map[string]any)
	if !ok || it.typ == "" {
		// A primitive has no children except its id and extensions.
		if it.ext != nil && (n.name == "extension" || n.name == "id") {
			typ := "Extension"
			if n.name == "id" {
				typ = "string"
			}
			return ec.appendValues(out, it.ext[n.name], nil, typ), nil
		}
		return out, nil
	}
	parent := it.typ
	if ec.model != nil && ec.model.Kind(parent) != KindUnknown {
		info, ok := ec.model.Element(parent, n.name)
		if ok {
			if !info.Choice {
				typ := ""
				if len(info.Types) == 1 {
					typ = info.Types[0]
				}
				return ec.appendValues(out, m[n.name], m[n.ext], typ), nil
			}
			return ec.appendChoice(out, m, n.name, info.Types), nil
		}
		if base, ok := choiceBase(n.name); ok {
			if info, ok := ec.model.Element(parent, base); ok && info.Choice {
				return nil, &Error{Kind: SemanticError, Pos: n.at,
					Msg: "choice element " + parent + "." + base + "[x] must be navigated as " + base + ", not " + n.name}
			}
		}
		if ec.env.Strict {
			return nil, &Error{Kind: SemanticError, Pos: n.at, Msg: "unknown element " + parent + "." + n.name}
		}
	}
	v, ext := m[n.name], m[n.ext]
	if v == nil && ext == nil {
		return ec.appendChoice(out, m, n.name, nil), nil
	}
	return ec.appendValues(out, v, ext, ""), nil
}

func isChoiceType(typ string) bool {
	_, prim := fhirPrimitiveBase[typ]
	return prim || choiceDataTypes[typ]
}

// choiceBase splits a concrete choice name ("valueQuantity") into its base ("value").
func choiceBase(name string) (string, bool) {
	for i := len(name) - 1; i > 0; i-- {
		if name[i] >= 'A' && name[i] <= 'Z' {
			// the type suffix starts at the first capital letter
			j := i
			for k := i - 1; k > 0; k-- {
				if name[k] >= 'A' && name[k] <= 'Z' {
					j = k
				}
			}
			return name[:j], true
		}
	}
	return "", false
}

// appendChoice appends the value of a choice element stored under name+Type keys.
func (ec *evalCtx) appendChoice(out Collection, m map[string]any, name string, types []string) Collection {
	if len(types) > 0 && len(name)+32 < 64 {
		// Look the candidate keys up directly. The key is built in a stack buffer; a map
		// index with string(bytes) does not allocate.
		var buf [64]byte
		for _, t := range types {
			if len(name)+1+len(t) > len(buf) {
				continue
			}
			key := append(append(append(buf[:0], '_'), name...), t...)
			if c := key[len(name)+1]; c >= 'a' && c <= 'z' {
				key[len(name)+1] = c - 'a' + 'A'
			}
			v, hasV := m[string(key[1:])]
			var ext any
			if _, isMap := v.(map[string]any); !isMap {
				ext = m[string(key)]
			}
			if hasV || ext != nil {
				out = ec.appendValues(out, v, ext, t)
			}
		}
		return out
	}
	for k, v := range m {
		if len(k) > len(name) && k[:len(name)] == name && k[len(name)] >= 'A' && k[len(name)] <= 'Z' {
			typ := choiceSuffixType(k[len(name):], types)
			if !isChoiceType(typ) {
				continue
			}
			var ext any
			if _, isMap := v.(map[string]any); !isMap {
				ext = m["_"+k]
			}
			out = ec.appendValues(out, v, ext, typ)
		} else if len(k) > len(name)+1 && k[0] == '_' && k[1:len(name)+1] == name && k[len(name)+1] >= 'A' && k[len(name)+1] <= 'Z' {
			if _, has := m[k[1:]]; !has {
				if typ := choiceSuffixType(k[len(name)+1:], types); isChoiceType(typ) {
					out = ec.appendValues(out, nil, v, typ)
				}
			}
		}
	}
	return out
}

// appendValues appends the item(s) for a JSON value v and its primitive extension
// sibling ext, aligning arrays by index.
func (ec *evalCtx) appendValues(out Collection, v, ext any, typ string) Collection {
	switch arr := v.(type) {
	case []any:
		extArr, _ := ext.([]any)
		for i, e := range arr {
			var x any
			if i < len(extArr) {
				x = extArr[i]
			}
			out = ec.appendOne(out, e, x, typ)
		}
		return out
	case nil:
		if extArr, ok := ext.([]any); ok {
			for _, x := range extArr {
				out = ec.appendOne(out, nil, x, typ)
			}
			return out
		}
	}
	return ec.appendOne(out, v, ext, typ)
}

func (ec *evalCtx) appendOne(out Collection, v, ext any, typ string) Collection {
	xm, _ := ext.(map[string]any)
	if v == nil && xm == nil {
		return out
	}
	if typ == "" || typ == "Resource" || typ == "DomainResource" || typ == "Element" {
		if v != nil {
			typ = inferType(v)
		} else if typ == "" {
			typ = "string"
		}
	}
	return append(out, Item{typ: typ, val: v, ext: xm})
}

// childrenOf appends all child nodes of it, in JSON key order of the model when known.
func (ec *evalCtx) childrenOf(out Collection, it Item) Collection {
	m, ok := it.val.(map[string]any)
	if !ok || it.typ == "" {
		if it.ext != nil {
			out = ec.appendValues(out, it.ext["extension"], nil, "Extension")
		}
		return out
	}
	for k, v := range m {
		if k == "resourceType" {
			continue
		}
		if k[0] == '_' {
			if _, has := m[k[1:]]; !has {
				out = ec.appendValues(out, nil, v, ec.childType(it.typ, k[1:]))
			}
			continue
		}
		var ext any
		if _, isMap := v.(map[string]any); !isMap {
			ext = m["_"+k]
		}
		out = ec.appendValues(out, v, ext, ec.childType(it.typ, k))
	}
	return out
}

// childType finds the type of JSON key k of a node of type parent.
func (ec *evalCtx) childType(parent, k string) string {
	if ec.model == nil {
		return ""
	}
	if info, ok := ec.model.Element(parent, k); ok && !info.Choice && len(info.Types) == 1 {
		return info.Types[0]
	}
	if base, ok := choiceBase(k); ok {
		if info, ok := ec.model.Element(parent, base); ok && info.Choice {
			return choiceSuffixType(k[len(base):], info.Types)
		}
	}
	return ""
}

// isBackbone reports whether a type name is a backbone element path.
func isBackbone(typ string) bool {
	return strings.IndexByte(typ, '.') > 0 && !strings.HasPrefix(typ, "System.") && !strings.HasPrefix(typ, "FHIR.")
}
