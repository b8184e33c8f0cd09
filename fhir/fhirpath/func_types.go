package fhirpath

import "strings"

// Type operators and functions (FHIRPath § 6.3, § 5.2 ofType, § 11 reflection).

// typeMatches reports whether it is of type name (or a subtype). name may be qualified
// with "System." or "FHIR.". An unknown type name is an error.
func (ec *evalCtx) typeMatches(it Item, name string) (bool, error) {
	ns, local := "", name
	if i := strings.IndexByte(name, '.'); i >= 0 && (name[:i] == "System" || name[:i] == "FHIR") {
		ns, local = name[:i], name[i+1:]
	}
	fhirOK := ns != "System" && (isKnownFHIRType(ec.model, local) || isBackbone(local))
	sysOK := ns != "FHIR" && systemTypes[local]
	if !fhirOK && !sysOK {
		if ns == "System" {
			return false, nil
		}
		return false, execErrorf("unknown type %s", name)
	}
	if it.typ == "" {
		if !sysOK {
			return false, nil
		}
		return local == "Any" || "System."+local == it.Type(), nil
	}
	if !fhirOK {
		return false, nil
	}
	return ec.itemDerivesFrom(it, local), nil
}

// castMatches is typeMatches for as and ofType: the official tests expect a FHIR
// primitive to match only its own type there (Patient.gender.as(string) is empty, while
// Patient.gender.is(string) is true), whereas complex types and resources match subtypes
// (an Age value is a Quantity).
func (ec *evalCtx) castMatches(it Item, name string) (bool, error) {
	ok, err := ec.typeMatches(it, name)
	if !ok || err != nil || it.typ == "" {
		return ok, err
	}
	if _, prim := fhirPrimitiveBase[it.typ]; prim {
		local := name[strings.LastIndexByte(name, '.')+1:]
		return it.typ == local, nil
	}
	return true, nil
}

func (ec *evalCtx) isType(c Collection, name string) (Collection, error) {
	if len(c) == 0 {
		return nil, nil
	}
	if len(c) > 1 {
		return nil, execErrorf("is: operand is a collection of %d items", len(c))
	}
	ok, err := ec.typeMatches(c[0], name)
	if err != nil {
		return nil, err
	}
	return boolColl(ok), nil
}

func (ec *evalCtx) asType(c Collection, name string) (Collection, error) {
	if len(c) == 0 {
		return nil, nil
	}
	if len(c) > 1 {
		return nil, execErrorf("as: operand is a collection of %d items", len(c))
	}
	ok, err := ec.castMatches(c[0], name)
	if err != nil || !ok {
		return nil, err
	}
	return c, nil
}

// typeArg returns the type name that newFunc stored as the literal argument.
func typeArg(args []node) string {
	return args[0].(*literalNode).val[0].val.(string)
}

func fnIs(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	return ec.isType(focus, typeArg(args))
}

func fnAs(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	return ec.asType(focus, typeArg(args))
}

func fnOfType(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	name := typeArg(args)
	var out Collection
	for _, it := range focus {
		ok, err := ec.castMatches(it, name)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// fnType returns TypeInfo-like nodes {namespace, name} (FHIRPath § 11).
func fnType(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	out := make(Collection, 0, len(focus))
	for _, it := range focus {
		t := it.Type()
		ns, name := "FHIR", t
		if strings.HasPrefix(t, "System.") {
			ns, name = "System", t[len("System."):]
		}
		out = append(out, Item{typ: "TypeInfo", val: map[string]any{"namespace": ns, "name": name}})
	}
	return out, nil
}
