package fhirpath

import (
	"strings"
	"time"
)

// Tree navigation, utility functions and the FHIR-specific additions (FHIR R4 § 2.1.9.1).

func fnChildren(ec *evalCtx, focus Collection, _ []node) (Collection, error) {
	var out Collection
	for _, it := range focus {
		out = ec.childrenOf(out, it)
	}
	return out, nil
}

func fnDescendants(ec *evalCtx, focus Collection, _ []node) (Collection, error) {
	var out Collection
	queue := focus
	for len(queue) > 0 {
		if err := ec.ctx.Err(); err != nil {
			return nil, err
		}
		var next Collection
		for _, it := range queue {
			next = ec.childrenOf(next, it)
		}
		out = append(out, next...)
		queue = next
	}
	return out, nil
}

func fnTrace(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	name, err := ec.arg(args[0])
	if err != nil {
		return nil, err
	}
	if ec.env.Trace == nil {
		return focus, nil
	}
	shown := focus
	if len(args) == 2 {
		if shown, err = fnSelect(ec, focus, args[1:]); err != nil {
			return nil, err
		}
	}
	label := ""
	if len(name) == 1 {
		label = name[0].String()
	}
	ec.env.Trace(label, shown)
	return focus, nil
}

func (ec *evalCtx) clock() time.Time { return ec.now }

func fnNow(ec *evalCtx, _ Collection, _ []node) (Collection, error) {
	return Collection{systemItem(fromTime(ec.clock(), KindDateTime, PrecisionMillisecond, true))}, nil
}

func fnToday(ec *evalCtx, _ Collection, _ []node) (Collection, error) {
	return Collection{systemItem(fromTime(ec.clock(), KindDate, PrecisionDay, false))}, nil
}

func fnTimeOfDay(ec *evalCtx, _ Collection, _ []node) (Collection, error) {
	t := fromTime(ec.clock(), KindTime, PrecisionMillisecond, false)
	return Collection{systemItem(t)}, nil
}

func fnExtension(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	urlc, err := ec.arg(args[0])
	if err != nil || len(urlc) == 0 {
		return nil, err
	}
	url := urlc[0].String()
	var out Collection
	ext := &memberNode{name: "extension", ext: "_extension"}
	for _, it := range focus {
		exts, err := ec.member(nil, it, ext)
		if err != nil {
			return nil, err
		}
		for _, e := range exts {
			if m, ok := e.val.(map[string]any); ok && m["url"] == url {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func fnHasValue(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	if len(focus) != 1 {
		return boolColl(false), nil
	}
	_, ok := focus[0].system()
	_, isMap := focus[0].val.(map[string]any)
	return boolColl(ok && !isMap), nil
}

func fnGetValue(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	if len(focus) != 1 {
		return nil, nil
	}
	v, ok := focus[0].system()
	if _, isMap := focus[0].val.(map[string]any); !ok || isMap {
		return nil, nil
	}
	return Collection{systemItem(v)}, nil
}

// fnResolve implements resolve() (FHIR R4 § 2.1.9.1.3).
func fnResolve(ec *evalCtx, focus Collection, _ []node) (Collection, error) {
	var out Collection
	for _, it := range focus {
		ref := ""
		switch v := it.val.(type) {
		case string:
			ref = v
		case map[string]any:
			ref, _ = v["reference"].(string)
		}
		if ref == "" {
			continue
		}
		if ec.env.Resolve != nil {
			r, err := ec.env.Resolve(ec.ctx, ref)
			if err != nil {
				return nil, err
			}
			if r != nil {
				out = append(out, toCollection(r)...)
			}
			continue
		}
		if r := ec.resolveLocal(ref, it); r != nil {
			out = append(out, NewItem(r, ""))
		}
	}
	return out, nil
}

// resolveLocal resolves a reference without a resolver: contained resources, Bundle
// entries, or a stub carrying the type and id of a literal reference.
func (ec *evalCtx) resolveLocal(ref string, it Item) any {
	for _, root := range ec.root {
		m, ok := root.val.(map[string]any)
		if !ok {
			continue
		}
		if strings.HasPrefix(ref, "#") {
			contained, _ := m["contained"].([]any)
			for _, c := range contained {
				if cm, ok := c.(map[string]any); ok && cm["id"] == ref[1:] {
					return cm
				}
			}
			return nil
		}
		entries, _ := m["entry"].([]any)
		for _, e := range entries {
			if em, ok := e.(map[string]any); ok && em["fullUrl"] == ref {
				return em["resource"]
			}
		}
	}
	if strings.HasPrefix(ref, "urn:") || !strings.Contains(ref, "/") {
		// A urn: or logical reference names no type; Reference.type may.
		m, _ := it.val.(map[string]any)
		typ, _ := m["type"].(string)
		if typ == "" {
			return nil
		}
		return map[string]any{"resourceType": typ[strings.LastIndexByte(typ, '/')+1:]}
	}
	ref, _, _ = strings.Cut(ref, "/_history/")
	slash := strings.LastIndexByte(ref, '/')
	typ, id := ref[:slash], ref[slash+1:]
	typ = typ[strings.LastIndexByte(typ, '/')+1:]
	if typ == "" || typ[0] < 'A' || typ[0] > 'Z' || id == "" {
		return nil
	}
	if ec.model != nil && ec.model.Kind(typ) != KindResource {
		return nil
	}
	return map[string]any{"resourceType": typ, "id": id}
}

func fnMemberOf(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	vs, err := ec.arg(args[0])
	if err != nil || len(vs) == 0 || len(focus) != 1 || ec.env.MemberOf == nil {
		return nil, err
	}
	ok, err := ec.env.MemberOf(ec.ctx, focus[0], vs[0].String())
	if err != nil {
		return nil, err
	}
	return boolColl(ok), nil
}

// fnConformsTo checks only the base resource type of core profiles; other profiles need
// a validator and yield empty.
func fnConformsTo(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	urlc, err := ec.arg(args[0])
	if err != nil || len(urlc) == 0 || len(focus) != 1 {
		return nil, err
	}
	url := urlc[0].String()
	const core = "http://hl7.org/fhir/StructureDefinition/"
	if !strings.HasPrefix(url, core) {
		return nil, execErrorf("conformsTo(): unknown profile")
	}
	return boolColl(ec.derivesFrom(focus[0].typ, url[len(core):])), nil
}
