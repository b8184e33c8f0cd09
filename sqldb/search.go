package sqldb

import (
	"math"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// sqlBuilder turns a parsed query into SQL conditions. Conditions on the
// resources table are written for an alias; chains and _has nest aliases.
type sqlBuilder struct {
	c *conn
	n int // aliases made so far
	// whole says every match is wanted (an accurate _total), not a page:
	// driving clauses are not reconsidered for a page's sake.
	whole bool
	// reconsidered is set when where gave up a driving clause.
	reconsidered bool
	// vis is the query's visibility, which the resources reached through
	// chains and _has must meet too (visibleSQL).
	vis *store.Visibility
}

func (b *sqlBuilder) alias(p string) string {
	b.n++
	return p + strconv.Itoa(b.n)
}

// where is the condition on resources r for q.
func (b *sqlBuilder) where(q *store.Query) (string, []any, error) {
	where := []string{"r.deleted = 0"}
	var args []any
	where, args = visibilitySQL(q.Visible, where, args)
	b.vis = q.Visible
	drive, set := drivingClause(q.Clauses), -1
	if drive >= 0 && len(q.Sort) == 0 && q.Compartment == nil && !b.whole {
		var err error
		first := drive
		if drive, set, err = b.reconsider(q, drive); err != nil {
			return "", nil, err
		}
		b.reconsidered = b.reconsidered || drive != first
	}
	// An index clause's parameter numbers imply the type, and the type
	// condition would tempt the planner to scan every resource of it.
	if len(q.Types) > 0 && (drive < 0 || !impliesType(q.Clauses[drive])) {
		where = append(where, "r.type IN ("+placeholders(len(q.Types))+")")
		for _, t := range q.Types {
			args = append(args, t)
		}
	}
	if cp := q.Compartment; cp != nil {
		var pids []any
		for _, t := range q.Types {
			for _, code := range cp.Params[t] {
				pids = append(pids, b.c.db.paramPids(t, code)...)
			}
		}
		// One set of row ids (the compartment's owner and what refers to
		// it), so the planner drives from it: an OR of the two would walk
		// every resource of the type and test each one.
		w := "(r.type = ? AND r.id = ?)"
		a := []any{cp.Type, cp.ID}
		if len(pids) > 0 {
			w = "r.rid IN (SELECT rid FROM idx_reference WHERE pid IN (" + placeholders(len(pids)) + ") AND ref_type = ? AND ref_id = ?" +
				" UNION ALL SELECT rid FROM resources WHERE type = ? AND id = ?)"
			a = append(append(pids, cp.Type, cp.ID), a...)
		}
		where = append(where, b.c.db.dialect.driveSet(w))
		args = append(args, a...)
	}
	for i, cl := range q.Clauses {
		var w string
		var a []any
		var err error
		if i == set {
			w, a, err = b.hasSet("r", cl)
		} else if w, a, err = b.clause("r", q.Types, cl, i == drive); i == drive {
			w = b.c.db.dialect.driveSet(w)
		}
		if err != nil {
			return "", nil, err
		}
		where = append(where, w)
		args = append(args, a...)
	}
	return strings.Join(where, " AND "), args, nil
}

// probe counts up to limit index rows that match a plain clause (no chain
// or _has) on types, scanning its index table alone; ok is false for a
// clause of another shape.
func (b *sqlBuilder) probe(types []string, cl store.Clause, limit int) (n int, ok bool, err error) {
	sub, args, ok, err := b.probeSQL(types, cl)
	if err != nil || !ok {
		return 0, false, err
	}
	countStatement(b.c.ctx)
	err = b.c.queryRow(`SELECT count(*) FROM (`+sub+` LIMIT ?) t`, b.c.db.dialect.searchArgs(append(args, limit))...).Scan(&n)
	if err != nil {
		return 0, false, translate(err)
	}
	return n, true, nil
}

// probeSQL is the query of the rids (column rid) whose index rows meet a
// plain clause, reading its index table alone; ok is false for a clause
// of another shape.
func (b *sqlBuilder) probeSQL(types []string, cl store.Clause) (string, []any, bool, error) {
	if cl.Chain != nil || cl.Has != nil || driveRank(cl) == 0 || !impliesType(cl) || cl.Param == "_text" {
		return "", nil, false, nil
	}
	w, args, err := b.clause("h", types, cl, true)
	if err != nil {
		return "", nil, false, err
	}
	sub, found := strings.CutPrefix(w, "h.rid IN (")
	if !found || !strings.HasSuffix(sub, ")") || strings.Contains(sub, "h.") {
		return "", nil, false, nil
	}
	return strings.TrimSuffix(sub, ")"), args, true, nil
}

// drivingClause picks the clause that should drive the query (its matches are
// looked up first, the others checked per candidate with EXISTS on the
// index tables' rid): the one likely to match fewest resources, -1 if none
// can (only negations and :missing).
func drivingClause(cls []store.Clause) int {
	best, bestRank := -1, 0
	for i, cl := range cls {
		if r := driveRank(cl); r > bestRank {
			best, bestRank = i, r
		}
	}
	return best
}

func driveRank(cl store.Clause) int {
	switch {
	case cl.Param == "_id":
		return 100
	case cl.Param == "_lastUpdated" || cl.Param == "_content":
		return 0
	case cl.Param == "_text":
		return 20
	case cl.Chain != nil:
		return 50
	case cl.Has != nil:
		return 40
	}
	switch cl.Modifier {
	case "missing", "not", "not-in":
		return 0
	case "text", "contains":
		return 10
	}
	for _, v := range cl.Values {
		if v.Prefix == "ne" {
			return 0
		}
	}
	switch cl.Kind {
	case store.KindReference:
		return 90
	case store.KindToken:
		return 80
	case store.KindString, store.KindURI:
		return 70
	case store.KindComposite:
		return 60
	case store.KindQuantity, store.KindNumber, store.KindDate:
		// A range (date=ge2015) often matches most resources of the type:
		// gathering its matches would cost more than checking candidates
		// in rid order until the page is full. Equality drives.
		for _, v := range cl.Values {
			if v.Prefix != "eq" {
				return 0
			}
		}
		return 30
	}
	return 0
}

// impliesType reports whether a driving clause only finds resources of
// the searched types (through their parameter numbers).
func impliesType(cl store.Clause) bool {
	return cl.Param != "_id" && cl.Param != "_lastUpdated" && cl.Has == nil
}

// pids are the numbers of parameter code on types.
func (b *sqlBuilder) pids(types []string, code string) []any {
	var pids []any
	for _, t := range types {
		// A union parameter's values are partly in its parts' rows
		// (union.go).
		pids = append(pids, b.c.db.paramPids(t, code)...)
	}
	return pids
}

// kindTable is the index table of each kind.
var kindTable = map[store.ParamKind]string{
	store.KindToken: "idx_tok", store.KindReference: "idx_reference", store.KindDate: "idx_date",
	store.KindString: "idx_string", store.KindURI: "idx_uri", store.KindNumber: "idx_number",
	store.KindQuantity: "idx_quantity", store.KindComposite: "idx_composite",
}

// clause turns one clause into a condition on alias (a resources row).
//
// A driving clause is written as alias.rid IN (matches), for the planner to
// start from; the others as EXISTS on the index table's rid, checked for
// each candidate (a condition such as date=ge2000 matches most resources,
// and would otherwise be gathered whole).
func (b *sqlBuilder) clause(alias string, types []string, cl store.Clause, drive bool) (string, []any, error) {
	switch {
	case cl.Has != nil:
		return b.has(alias, cl, drive)
	case cl.Chain != nil:
		return b.chain(alias, types, cl, drive)
	}
	switch cl.Param {
	case "_id":
		var ids []any
		for _, v := range cl.Values {
			ids = append(ids, v.Text)
		}
		if len(types) == 0 {
			return alias + ".id IN (" + placeholders(len(ids)) + ")", ids, nil
		}
		// Through the (type, id) index: written as alias.id IN (…), the
		// planner walks every resource of the type in rid order (the page's
		// order) and checks each id, which grows with the store (375 ms for
		// 50 Encounters among 1.5M).
		x := b.alias("x")
		args := make([]any, 0, len(types)+len(ids))
		for _, t := range types {
			args = append(args, t)
		}
		args = append(args, ids...)
		return alias + ".rid IN (SELECT " + x + ".rid FROM resources " + x + " WHERE " + x + ".type IN (" + placeholders(len(types)) + ") AND " + x + ".id IN (" + placeholders(len(ids)) + "))", args, nil
	case "_text", "_content":
		return b.text(alias, types, cl, drive)
	case "_lastUpdated":
		var ors []string
		var args []any
		for _, v := range cl.Values {
			w, a := datePredicate(v, alias+".ts", alias+".ts")
			ors = append(ors, w)
			args = append(args, a...)
		}
		return "(" + strings.Join(ors, " OR ") + ")", args, nil
	}
	pids := b.pids(types, cl.Param)
	table := kindTable[cl.Kind]
	switch {
	case cl.Modifier == "text":
		table = "idx_string"
	case cl.Modifier == "identifier":
		table = "idx_tok"
	}
	if table == "" {
		return "", nil, custodian.Errorf(custodian.ENOTIMPLEMENTED, "search by %s parameters is not supported", cl.Kind)
	}
	if cl.Modifier == "missing" {
		op := "EXISTS"
		if cl.Values[0].Missing {
			op = "NOT EXISTS"
		}
		if len(pids) == 0 {
			if cl.Values[0].Missing {
				return "1 = 1", nil, nil
			}
			return "1 = 0", nil, nil
		}
		return op + " (SELECT 1 FROM " + table + " WHERE rid = " + alias + ".rid AND pid IN (" + placeholders(len(pids)) + "))", pids, nil
	}
	if len(pids) == 0 {
		if cl.Modifier == "not" || cl.Modifier == "not-in" {
			return "1 = 1", nil, nil
		}
		return "1 = 0", nil, nil
	}
	// Values with ne (and :not, :not-in) select resources with no matching
	// value; the others resources with one.
	var pos, neg []string
	var posArgs, negArgs []any
	var negEach [][]any
	for _, v := range cl.Values {
		w, a, negate, err := valuePredicate(cl, v, drive, b.c.systemArg)
		if err != nil {
			return "", nil, err
		}
		if negate {
			neg = append(neg, w)
			negArgs = append(negArgs, a...)
			negEach = append(negEach, a)
		} else {
			pos = append(pos, w)
			posArgs = append(posArgs, a...)
		}
	}
	sub := func(op string, ors []string, a []any) (string, []any) {
		a = append(append([]any{}, pids...), a...)
		cond := "pid IN (" + placeholders(len(pids)) + ") AND (" + strings.Join(ors, " OR ") + ")"
		if op == "IN" && drive {
			return alias + ".rid IN (SELECT rid FROM " + table + " WHERE " + cond + ")", a
		}
		if op == "NOT IN" {
			op = "NOT EXISTS"
		} else {
			op = "EXISTS"
		}
		return op + " (SELECT 1 FROM " + table + " WHERE rid = " + alias + ".rid AND " + cond + b.c.db.dialect.eachRow() + ")", a
	}
	var parts []string
	var args []any
	if len(pos) > 0 {
		w, a := sub("IN", pos, posArgs)
		parts, args = append(parts, w), append(args, a...)
	}
	if len(neg) > 0 {
		if cl.Modifier == "not" || cl.Modifier == "not-in" {
			// :not=a,b is neither a nor b.
			w, a := sub("NOT IN", neg, negArgs)
			return w, a, nil
		}
		for i := range neg {
			w, a := sub("NOT IN", neg[i:i+1], negEach[i])
			parts, args = append(parts, w), append(args, a...)
		}
	}
	if len(parts) == 1 {
		return parts[0], args, nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args, nil
}

// valuePredicate is the condition on an index row for one value; negate
// says the resource must have no row that meets it.
//
// drive says the predicate selects rows by value (alias.rid IN …); otherwise
// it checks one resource's rows (EXISTS … WHERE rid = …).
//
// idx_tok keeps a token's system as a number (token_system.go): sysArg
// gives the value to bind for a system.
func valuePredicate(cl store.Clause, v store.ClauseValue, drive bool, sysArg func(string) (any, error)) (string, []any, bool, error) {
	switch cl.Modifier {
	case "text":
		return "(value >= ? AND value < ?)", []any{v.Text, v.Text + "\U0010FFFF"}, false, nil
	case "identifier":
		sys, err := tokenSystemArg(v, sysArg)
		if err != nil {
			return "", nil, false, err
		}
		w, a := tokenPredicate(v, sys, "sid", "code")
		return w, a, false, nil
	case "in", "not-in":
		codeCol := "code"
		if !drive && len(v.Codes) > 8 {
			// Checking one resource, its few rows are read and each code
			// looked up in the list; used as an index, a long list would
			// be one b-tree probe per code per resource.
			codeCol = "code || ''"
		}
		w, a, err := codesPredicate(v.Codes, codeCol, sysArg)
		if err != nil {
			return "", nil, false, err
		}
		return w, a, cl.Modifier == "not-in", nil
	}
	switch cl.Kind {
	case store.KindToken:
		sys, err := tokenSystemArg(v, sysArg)
		if err != nil {
			return "", nil, false, err
		}
		w, a := tokenPredicate(v, sys, "sid", "code")
		return w, a, cl.Modifier == "not", nil
	case store.KindReference:
		if v.RefType != "" {
			return "(ref_id = ? AND ref_type = ?)", []any{v.RefID, v.RefType}, false, nil
		}
		return "ref_id = ?", []any{v.RefID}, false, nil
	case store.KindDate:
		if v.Prefix == "ne" {
			v.Prefix = "eq"
			w, a := datePredicate(v, "low", "high")
			return w, a, true, nil
		}
		w, a := datePredicate(v, "low", "high")
		return w, a, false, nil
	case store.KindString:
		switch cl.Modifier {
		case "exact":
			return "exact = ?", []any{v.Text}, false, nil
		case "contains":
			return `value LIKE ? ESCAPE '\'`, []any{"%" + likeEscape(v.Text) + "%"}, false, nil
		}
		return "(value >= ? AND value < ?)", []any{v.Text, v.Text + "\U0010FFFF"}, false, nil
	case store.KindURI:
		switch cl.Modifier {
		case "below":
			return `value LIKE ? ESCAPE '\'`, []any{likeEscape(v.Text) + "%"}, false, nil
		case "above":
			prefixes := uriPrefixes(v.Text)
			return "value IN (" + placeholders(len(prefixes)) + ")", prefixes, false, nil
		}
		return "value = ?", []any{v.Text}, false, nil
	case store.KindNumber:
		w, a, negate := numPredicate(v.Prefix, v.Num, v.NumLow, v.NumHigh, "low", "high")
		return w, a, negate, nil
	case store.KindQuantity:
		w, a, negate := quantityPredicate(v, "system", "code", "unit", "low", "high", "ccode", "clow", "chigh")
		return w, a, negate, nil
	case store.KindComposite:
		w, a := tokenPredicate(v, v.System, "system1", "code1")
		s := v.Second
		var w2 string
		var a2 []any
		switch cl.Components[1] {
		case store.KindToken:
			w2, a2 = tokenPredicate(*s, s.System, "system2", "code2")
		case store.KindQuantity:
			w2, a2, _ = quantityPredicate(*s, "system2", "code2", "code2", "low2", "high2", "code2", "low2", "high2")
		case store.KindDate:
			w2, a2 = datePredicate(*s, "low2", "high2")
		case store.KindString:
			w2, a2 = "(code2 >= ? AND code2 < ?)", []any{s.Text, s.Text + "\U0010FFFF"}
		default:
			return "", nil, false, custodian.Errorf(custodian.ENOTIMPLEMENTED, "composite %s is not supported", cl.Param)
		}
		return "(" + w + " AND " + w2 + ")", append(a, a2...), false, nil
	}
	return "", nil, false, custodian.Errorf(custodian.ENOTIMPLEMENTED, "search by %s parameters is not supported", cl.Kind)
}

// tokenPredicate matches a token value; sys is what to bind for its
// system in sysCol (the system, or its number).
func tokenPredicate(v store.ClauseValue, sys any, sysCol, codeCol string) (string, []any) {
	switch {
	case v.AnySystem:
		return codeCol + " = ?", []any{v.Code}
	case v.Code == "":
		return sysCol + " = ?", []any{sys}
	default:
		return "(" + codeCol + " = ? AND " + sysCol + " = ?)", []any{v.Code, sys}
	}
}

// tokenSystemArg is the number to bind for v's system, if it has one.
func tokenSystemArg(v store.ClauseValue, sysArg func(string) (any, error)) (any, error) {
	if v.AnySystem {
		return nil, nil
	}
	return sysArg(v.System)
}

// codesPredicate matches any of a value set's codes in idx_tok, grouped by
// system (bound as sysArg gives it).
func codesPredicate(codes [][2]string, codeCol string, sysArg func(string) (any, error)) (string, []any, error) {
	if len(codes) == 0 {
		return "1 = 0", nil, nil
	}
	bySys := map[string][]any{}
	var order []string
	for _, c := range codes {
		if _, ok := bySys[c[0]]; !ok {
			order = append(order, c[0])
		}
		bySys[c[0]] = append(bySys[c[0]], c[1])
	}
	var ors []string
	var args []any
	for _, sys := range order {
		cs := bySys[sys]
		sid, err := sysArg(sys)
		if err != nil {
			return "", nil, err
		}
		ors = append(ors, "(sid = ? AND "+codeCol+" IN ("+placeholders(len(cs))+"))")
		args = append(append(args, sid), cs...)
	}
	return "(" + strings.Join(ors, " OR ") + ")", args, nil
}

// numPredicate compares a stored range [lowCol, highCol] with a search
// number n whose precision covers [lo, hi).
func numPredicate(prefix string, n, lo, hi float64, lowCol, highCol string) (string, []any, bool) {
	switch prefix {
	case "ne":
		return "(" + lowCol + " >= ? AND " + highCol + " < ?)", []any{lo, hi}, true
	case "gt":
		return highCol + " > ?", []any{n}, false
	case "lt":
		return lowCol + " < ?", []any{n}, false
	case "ge":
		return highCol + " >= ?", []any{n}, false
	case "le":
		return lowCol + " <= ?", []any{n}, false
	case "sa":
		return lowCol + " > ?", []any{n}, false
	case "eb":
		return highCol + " < ?", []any{n}, false
	case "ap":
		d := math.Abs(n) * 0.1
		return "(" + lowCol + " <= ? AND " + highCol + " >= ?)", []any{n + d, n - d}, false
	}
	return "(" + lowCol + " >= ? AND " + highCol + " < ?)", []any{lo, hi}, false
}

// quantityPredicate matches a quantity: in UCUM base units when the search
// unit converts, otherwise by system and code (or unit) as written.
func quantityPredicate(v store.ClauseValue, sysCol, codeCol, unitCol, lowCol, highCol, ccodeCol, clowCol, chighCol string) (string, []any, bool) {
	raw, rawArgs, negate := numPredicate(v.Prefix, v.Num, v.NumLow, v.NumHigh, lowCol, highCol)
	var unitCond string
	var unitArgs []any
	switch {
	case v.Code != "" && v.System != "":
		unitCond, unitArgs = "("+sysCol+" = ? AND "+codeCol+" = ?)", []any{v.System, v.Code}
	case v.Code != "":
		unitCond, unitArgs = "("+codeCol+" = ? OR "+unitCol+" = ?)", []any{v.Code, v.Code}
	case v.System != "":
		unitCond, unitArgs = sysCol+" = ?", []any{v.System}
	}
	w, a := raw, rawArgs
	if unitCond != "" {
		w, a = "("+unitCond+" AND "+raw+")", append(unitArgs, rawArgs...)
	}
	if v.CanonCode != "" {
		cw, ca, _ := numPredicate(v.Prefix, v.Canon, v.CanonLo, v.CanonHi, clowCol, chighCol)
		w = "((" + ccodeCol + " = ? AND " + cw + ") OR " + w + ")"
		a = append(append([]any{v.CanonCode}, ca...), a...)
	}
	return w, a, negate
}

// likeEscape escapes LIKE wildcards; the SQL says ESCAPE '\'.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// uriPrefixes are the values :above matches: the uri and each of its
// parents, cut before a "/".
func uriPrefixes(u string) []any {
	out := []any{u}
	for i := len(u) - 1; i > 0 && len(out) < 64; i-- {
		if u[i] == '/' {
			out = append(out, u[:i])
		}
	}
	return out
}

// text is _text (words of the narrative, indexed as _text strings) or
// _content (those and every other string value of the resource): each word
// must begin one of them.
func (b *sqlBuilder) text(alias string, types []string, cl store.Clause, drive bool) (string, []any, error) {
	var pids []any
	if cl.Param == "_text" {
		if pids = b.pids(types, "_text"); len(pids) == 0 {
			return "1 = 0", nil, nil
		}
	}
	var parts []string
	var args []any
	for i, v := range cl.Values {
		cond := "value >= ? AND value < ?"
		a := []any{v.Text, v.Text + "\U0010FFFF"}
		if len(pids) > 0 {
			cond = "pid IN (" + placeholders(len(pids)) + ") AND " + cond
			a = append(append([]any{}, pids...), a...)
		}
		if drive && i == 0 && len(pids) > 0 {
			parts = append(parts, alias+".rid IN (SELECT rid FROM idx_string WHERE "+cond+")")
		} else {
			parts = append(parts, "EXISTS (SELECT 1 FROM idx_string WHERE rid = "+alias+".rid AND "+cond+")")
		}
		args = append(args, a...)
	}
	return "(" + strings.Join(parts, " AND ") + ")", args, nil
}

// chain is a chained clause: resources whose reference Param points to a
// resource of ChainTypes that meets Chain. Driving, it starts from the
// referenced resources that match; otherwise it follows the candidate's
// references.
func (b *sqlBuilder) chain(alias string, types []string, cl store.Clause, drive bool) (string, []any, error) {
	pids := b.pids(types, cl.Param)
	if len(pids) == 0 || len(cl.ChainTypes) == 0 {
		return "1 = 0", nil, nil
	}
	x, t := b.alias("x"), b.alias("c")
	inner, innerArgs, err := b.clause(t, cl.ChainTypes, *cl.Chain, drive)
	if err != nil {
		return "", nil, err
	}
	args := append([]any{}, pids...)
	if drive {
		// Start from the referenced resources that match (CROSS JOIN keeps
		// that order in SQLite; elsewhere it is an ordinary join).
		w := alias + ".rid IN (SELECT " + x + ".rid FROM resources " + t + " CROSS JOIN idx_reference " + x + " WHERE " +
			x + ".ref_type = " + t + ".type AND " + x + ".ref_id = " + t + ".id AND " + x + ".pid IN (" + placeholders(len(pids)) + ") AND " + t + ".deleted = 0"
		if driveRank(*cl.Chain) == 0 || !impliesType(*cl.Chain) {
			w += " AND " + t + ".type IN (" + placeholders(len(cl.ChainTypes)) + ")"
			for _, ct := range cl.ChainTypes {
				args = append(args, ct)
			}
		}
		vis, visArgs := b.visibleSQL(t)
		return w + " AND " + inner + " AND " + vis + ")", append(append(args, innerArgs...), visArgs...), nil
	}
	for _, ct := range cl.ChainTypes {
		args = append(args, ct)
	}
	vis, visArgs := b.visibleSQL(t)
	return "EXISTS (SELECT 1 FROM idx_reference " + x + " JOIN resources " + t + " ON " + t + ".type = " + x + ".ref_type AND " + t + ".id = " + x + ".ref_id WHERE " +
		x + ".rid = " + alias + ".rid AND " + x + ".pid IN (" + placeholders(len(pids)) + ") AND " + t + ".deleted = 0 AND " + t + ".type IN (" +
		placeholders(len(cl.ChainTypes)) + ") AND " + inner + " AND " + vis + ")", append(append(args, innerArgs...), visArgs...), nil
}

// sortKey is the SQL expression of one _sort key for resources r. A
// resource without a value sorts last in either direction.
func (b *sqlBuilder) sortKey(types []string, k store.SortKey) (string, []any, error) {
	switch k.Param {
	case "_id":
		return "r.id", nil, nil
	case "_lastUpdated":
		return "r.ts", nil, nil
	}
	pids := b.pids(types, k.Param)
	if len(pids) == 0 {
		pids = []any{int64(-1)}
	}
	agg, col := "MIN", ""
	if k.Desc {
		agg = "MAX"
	}
	switch k.Kind {
	case store.KindDate:
		// Dates sort by when each value starts: the earliest start first,
		// or the latest first for -date (so the one order is the other
		// reversed, and the (pid, low) index can give either).
		col = "low"
	case store.KindNumber, store.KindQuantity:
		col = "low"
		if k.Desc {
			col = "high"
		}
	case store.KindString, store.KindURI:
		col = "value"
	case store.KindToken:
		col = "code"
	case store.KindReference:
		col = "ref_id"
	default:
		return "", nil, custodian.Errorf(custodian.EINVALID, "_sort by %s is not supported", k.Param)
	}
	var missing any
	switch sortNumeric(k) {
	case "int":
		missing = int64(math.MaxInt64)
		if k.Desc {
			missing = int64(math.MinInt64)
		}
	case "real":
		missing = math.MaxFloat64
		if k.Desc {
			missing = -math.MaxFloat64
		}
	default:
		missing = "\U0010FFFF"
		if k.Desc {
			missing = ""
		}
	}
	e := "COALESCE((SELECT " + agg + "(" + col + ") FROM " + kindTable[k.Kind] + " WHERE rid = r.rid AND pid IN (" + placeholders(len(pids)) + ")), ?)"
	return e, append(pids, missing), nil
}

// datePredicate is the FHIR date comparison of a search value with a stored
// range [lowCol, highCol] (inclusive), per the prefix.
func datePredicate(v store.ClauseValue, lowCol, highCol string) (string, []any) {
	pl, ph := v.Low, v.High
	within := "(" + lowCol + " >= ? AND " + highCol + " <= ?)"
	switch v.Prefix {
	case "ne":
		return "NOT " + within, []any{pl, ph}
	case "gt":
		return highCol + " > ?", []any{ph}
	case "lt":
		return lowCol + " < ?", []any{pl}
	case "ge":
		return "(" + highCol + " > ? OR " + within + ")", []any{ph, pl, ph}
	case "le":
		return "(" + lowCol + " < ? OR " + within + ")", []any{pl, pl, ph}
	case "sa":
		return lowCol + " > ?", []any{ph}
	case "eb":
		return highCol + " < ?", []any{pl}
	case "ap":
		d := max((ph-pl)/10, 86_400_000)
		return "(" + lowCol + " <= ? AND " + highCol + " >= ?)", []any{ph + d, pl - d}
	default: // eq
		// low <= ph follows from the others; it bounds the index range
		// on (pid, low, …), which would otherwise run to the last value.
		return "(" + lowCol + " >= ? AND " + lowCol + " <= ? AND " + highCol + " <= ?)", []any{pl, ph, ph}
	}
}
