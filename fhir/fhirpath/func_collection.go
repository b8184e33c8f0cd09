package fhirpath

// Existence, filtering, subsetting and combining functions (FHIRPath § 5.1–5.4).

func fnEmpty(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	return boolColl(len(focus) == 0), nil
}

func fnExists(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	if len(args) == 0 {
		return boolColl(len(focus) > 0), nil
	}
	if len(focus) == 0 {
		return boolColl(false), nil
	}
	sub := ec.scoped(nil, 0)
	for i := range focus {
		ok, err := sub.criterion(args[0], focus, i)
		if err != nil {
			return nil, err
		}
		if ok {
			return boolColl(true), nil
		}
	}
	return boolColl(false), nil
}

// criterion evaluates a boolean lambda argument for item i of focus; ec is a scope made
// by scoped, reused across items to save allocations.
func (ec *evalCtx) criterion(n node, focus Collection, i int) (bool, error) {
	one := focus[i : i+1 : i+1]
	ec.this, ec.index = one, i
	r, err := n.eval(ec, one)
	if err != nil {
		return false, err
	}
	b, err := toBool3(r, "criteria")
	return b == bTrue, err
}

func fnAll(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	if len(focus) == 0 {
		return boolColl(true), nil
	}
	sub := ec.scoped(nil, 0)
	for i := range focus {
		ok, err := sub.criterion(args[0], focus, i)
		if err != nil {
			return nil, err
		}
		if !ok {
			return boolColl(false), nil
		}
	}
	return boolColl(true), nil
}

// boolAgg builds allTrue (all, true), anyTrue, allFalse, anyFalse.
func boolAgg(all, want bool) funcImpl {
	return func(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
		for _, it := range focus {
			v, _ := it.system()
			b, ok := v.(bool)
			if !ok {
				return nil, execErrorf("expected Boolean items, got %s", it.Type())
			}
			if all && b != want {
				return boolColl(false), nil
			}
			if !all && b == want {
				return boolColl(true), nil
			}
		}
		return boolColl(all), nil
	}
}

func fnSubsetOf(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	other, err := ec.arg(args[0])
	if err != nil {
		return nil, err
	}
	for _, it := range focus {
		if !containsItem(other, it) {
			return boolColl(false), nil
		}
	}
	return boolColl(true), nil
}

func fnSupersetOf(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	other, err := ec.arg(args[0])
	if err != nil {
		return nil, err
	}
	for _, it := range other {
		if !containsItem(focus, it) {
			return boolColl(false), nil
		}
	}
	return boolColl(true), nil
}

func fnCount(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	return Collection{systemItem(int64(len(focus)))}, nil
}

func fnDistinct(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	return union(focus, nil), nil
}

func fnIsDistinct(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	return boolColl(len(union(focus, nil)) == len(focus)), nil
}

func fnWhere(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	var out Collection
	if len(focus) == 0 {
		return nil, nil
	}
	sub := ec.scoped(nil, 0)
	for i := range focus {
		ok, err := sub.criterion(args[0], focus, i)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, focus[i])
		}
	}
	return out, nil
}

func fnSelect(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	if len(focus) == 1 {
		return args[0].eval(ec.scoped(focus, 0), focus)
	}
	if len(focus) == 0 {
		return nil, nil
	}
	var out Collection
	sub := ec.scoped(nil, 0)
	for i := range focus {
		one := focus[i : i+1 : i+1]
		sub.this, sub.index = one, i
		r, err := args[0].eval(sub, one)
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	return out, nil
}

// maxRepeatItems bounds repeat(), whose projection may generate new values forever
// (repeat($this + 1)).
const maxRepeatItems = 10000

func fnRepeat(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	var out Collection
	queue := focus
	for len(queue) > 0 {
		if err := ec.ctx.Err(); err != nil {
			return nil, err
		}
		var next Collection
		for i := range queue {
			one := queue[i : i+1 : i+1]
			r, err := args[0].eval(ec.scoped(one, i), one)
			if err != nil {
				return nil, err
			}
			if len(out)+len(r) > maxRepeatItems {
				return nil, execErrorf("repeat() produced more than %d items", maxRepeatItems)
			}
			for _, it := range r {
				if !containsItem(out, it) {
					out = append(out, it)
					next = append(next, it)
				}
			}
		}
		queue = next
	}
	return out, nil
}

func fnSingle(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	if len(focus) > 1 {
		return nil, execErrorf("single() applied to a collection of %d items", len(focus))
	}
	return focus, nil
}

func fnFirst(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	if len(focus) == 0 {
		return nil, nil
	}
	return focus[:1:1], nil
}

func fnLast(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	if len(focus) == 0 {
		return nil, nil
	}
	return focus[len(focus)-1:], nil
}

func fnTail(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	if len(focus) <= 1 {
		return nil, nil
	}
	return focus[1:], nil
}

func fnSkip(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	n, ok, err := ec.intArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	if n <= 0 {
		return focus, nil
	}
	if int(n) >= len(focus) {
		return nil, nil
	}
	return focus[n:], nil
}

func fnTake(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	n, ok, err := ec.intArg(args[0])
	if err != nil || !ok {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	if int(n) >= len(focus) {
		return focus, nil
	}
	return focus[:n:n], nil
}

func (ec *evalCtx) intArg(n node) (int64, bool, error) {
	c, err := ec.arg(n)
	if err != nil {
		return 0, false, err
	}
	return singletonInt(c)
}

func fnIntersect(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	other, err := ec.arg(args[0])
	if err != nil {
		return nil, err
	}
	var out Collection
	for _, it := range focus {
		if containsItem(other, it) && !containsItem(out, it) {
			out = append(out, it)
		}
	}
	return out, nil
}

func fnExclude(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	other, err := ec.arg(args[0])
	if err != nil {
		return nil, err
	}
	var out Collection
	for _, it := range focus {
		if !containsItem(other, it) {
			out = append(out, it)
		}
	}
	return out, nil
}

func fnUnion(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	other, err := ec.arg(args[0])
	if err != nil {
		return nil, err
	}
	return union(focus, other), nil
}

func fnCombine(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	other, err := ec.arg(args[0])
	if err != nil {
		return nil, err
	}
	out := make(Collection, 0, len(focus)+len(other))
	return append(append(out, focus...), other...), nil
}

func fnIif(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	if len(focus) > 1 {
		return nil, execErrorf("iif() applied to a collection of %d items", len(focus))
	}
	sub := ec
	if len(focus) == 1 {
		c := *ec
		c.this = focus
		sub = &c
	}
	c, err := args[0].eval(sub, sub.this)
	if err != nil {
		return nil, err
	}
	if len(c) > 1 {
		return nil, &Error{Kind: SemanticError, Pos: -1, Msg: "iif() criterion is a collection"}
	}
	cond := false
	if len(c) == 1 {
		v, _ := c[0].system()
		b, ok := v.(bool)
		if !ok {
			return nil, &Error{Kind: SemanticError, Pos: -1, Msg: "iif() criterion is not a Boolean"}
		}
		cond = b
	}
	if cond {
		return args[1].eval(sub, sub.this)
	}
	if len(args) == 3 {
		return args[2].eval(sub, sub.this)
	}
	return nil, nil
}

func fnNot(_ *evalCtx, focus Collection, _ []node) (Collection, error) {
	b, err := toBool3(focus, "not()")
	if err != nil {
		return nil, err
	}
	switch b {
	case bTrue:
		return boolColl(false), nil
	case bFalse:
		return boolColl(true), nil
	}
	return nil, nil
}

func fnAggregate(ec *evalCtx, focus Collection, args []node) (Collection, error) {
	var total Collection
	if len(args) == 2 {
		var err error
		if total, err = ec.arg(args[1]); err != nil {
			return nil, err
		}
	}
	for i := range focus {
		one := focus[i : i+1 : i+1]
		sub := ec.scoped(one, i)
		sub.total = total
		r, err := args[0].eval(sub, one)
		if err != nil {
			return nil, err
		}
		total = r
	}
	return total, nil
}

func fnTrue(*evalCtx, Collection, []node) (Collection, error) { return boolColl(true), nil }
