package sqldb

import (
	"context"

	"github.com/custodian-him/custodian/store"
)

// A clause that matches many resources finds a page (in row-id order)
// sooner by checking candidates in that order than by gathering all its
// matches first: patients with a common diagnosis, conditions under a
// broad code. reconsider counts a driving clause's matches from its index
// alone, no further than a probe, and gives up driving when they are
// dense enough among the searched types' row ids.
const (
	// denseProbe and denseScan: a clause with at least denseProbe
	// matches does not drive when a page is expected within denseScan
	// candidates.
	denseProbe = 5000
	denseScan  = 20000
)

// reconsider returns the clause to drive q (drive, or -1 for none) and the
// _has clause to check against the set of its referrers (-1 for none).
func (b *sqlBuilder) reconsider(q *store.Query, drive int) (int, int, error) {
	cl := q.Clauses[drive]
	if cl.Has != nil {
		return b.reconsiderHas(q, drive)
	}
	n, ok, err := b.probe(q.Types, cl, denseProbe)
	if err != nil || !ok || n < denseProbe {
		return drive, -1, err
	}
	lo, hi, err := b.c.ridSpan(q.Types)
	if err != nil {
		return drive, -1, err
	}
	if float64(q.Count+1)*float64(hi-lo+1)/float64(n) <= denseScan {
		return -1, -1, nil
	}
	return drive, -1, nil
}

// A _has (Patient?_has:Condition:patient:code=I10) is answered one of
// three ways:
//
//   - gather: every referrer that meets the inner clause (every Condition
//     coded I10), the distinct resources they refer to, then the page of
//     those in row-id order. Its cost grows with the referrers.
//   - walk: the candidates (Patients) in row-id order, each one's
//     referrers read from the reference index and each checked in the
//     inner clause's index, until the page is full. Its cost grows with
//     the candidates walked (a page divided by the share that match) and
//     their referrers.
//   - set: the walk, with each referrer looked up in the set of the inner
//     clause's matches, read once from its index (a sequential read, then
//     lookups in memory instead of index probes).
//
// The costs below are per step, in microseconds as measured on SQLite at
// 1M resources (bench search); only their ratios matter. reconsiderHas
// estimates each plan's steps from the index and takes the cheapest.
const (
	costGather    = 1.6  // a referrer's reference gathered: its row, its target kept once
	costSetRow    = 0.25 // a referrer read into the set
	costSetRef    = 0.2  // a candidate's referrer looked up in the set
	costProbeRef  = 0.8  // a candidate's referrer checked in the inner clause's index
	costCandidate = 1.5  // a candidate walked: its row and its referrers' range

	// hasSample is how many referrers the distinct-target sample reads;
	// candidateSample how many candidates the referrers-per-candidate
	// sample reads; hasCount bounds the referrers counted.
	hasSample       = 128
	candidateSample = 32
	hasCount        = 50000
)

// HasPlan is how a _has clause is answered.
type HasPlan int

// The ways of answering a _has.
const (
	HasByCost HasPlan = iota // the cheapest by estimate (the default)
	HasGather
	HasWalk
	HasSet
)

type hasPlanKey struct{}

// WithHasPlan returns a context under which searches answer every _has
// that could go any of the three ways (gather, walk, set) the way plan
// says instead of by estimated cost: for tests that check each way gives
// the same results, and for benchmarks that compare them.
func WithHasPlan(ctx context.Context, plan HasPlan) context.Context {
	return context.WithValue(ctx, hasPlanKey{}, plan)
}

// reconsiderHas is reconsider for a _has whose inner clause reads one
// index table: gather (it drives), walk (-1, -1) or set (-1, drive).
func (b *sqlBuilder) reconsiderHas(q *store.Query, drive int) (int, int, error) {
	cl := q.Clauses[drive]
	pids := b.pids([]string{cl.HasType}, cl.HasParam)
	sub, args, ok, err := b.probeSQL([]string{cl.HasType}, *cl.Has)
	if err != nil || !ok || len(pids) == 0 || len(q.Types) == 0 {
		return drive, -1, err
	}
	switch forced, _ := b.c.ctx.Value(hasPlanKey{}).(HasPlan); forced {
	case HasGather:
		return drive, -1, nil
	case HasWalk:
		return -1, -1, nil
	case HasSet:
		return -1, drive, nil
	}
	// The first referrers: their reference rows, the distinct resources
	// they refer to.
	countStatement(b.c.ctx)
	var sampled, refRows, targets int
	err = b.c.queryRow(`SELECT count(DISTINCT t.rid), count(x.rid), count(DISTINCT x.ref_type || '/' || x.ref_id) FROM (`+sub+` LIMIT ?) t
		LEFT JOIN idx_reference x ON x.rid = t.rid AND x.pid IN (`+placeholders(len(pids))+`)`,
		b.c.db.dialect.searchArgs(append(append(args, hasSample), pids...))...).Scan(&sampled, &refRows, &targets)
	if err != nil {
		return drive, -1, translate(err)
	}
	if refRows < hasSample || targets == 0 {
		return drive, -1, nil // few references: gathering them is cheap
	}
	est, err := b.candidates(q.Types, pids)
	if err != nil || est.n == 0 {
		return drive, -1, err
	}
	est.page = float64(q.Count + 1)
	est.perReferrer = float64(targets) / float64(sampled)
	est.refsPerReferrer = float64(refRows) / float64(sampled)
	n := sampled
	if sampled == hasSample {
		// Walking gets cheaper as the referrers grow (more candidates
		// match) and the others dearer: count the referrers only as far
		// as the walk can lose.
		countStatement(b.c.ctx)
		if err := b.c.queryRow(`SELECT count(*) FROM (`+sub+` LIMIT ?) t`, b.c.db.dialect.searchArgs(append(args, est.crossover()))...).Scan(&n); err != nil {
			return drive, -1, translate(err)
		}
	}
	switch est.cheapest(float64(n)) {
	case HasGather:
		return drive, -1, nil
	case HasSet:
		return -1, drive, nil
	}
	return -1, -1, nil
}

// hasEstimate holds what the cost of a _has plan depends on.
type hasEstimate struct {
	n           float64 // candidates (resources of the searched types)
	refs        float64 // referrers per candidate
	perReferrer float64 // distinct targets per referrer
	// refsPerReferrer is the reference rows per referrer.
	refsPerReferrer float64
	page            float64 // matches wanted
}

// candidates estimates the candidates of types and their referrers through
// pids from the first candidateSample of them: how many reference rows
// each has, and how densely the types fill their row-id span.
func (b *sqlBuilder) candidates(types []string, pids []any) (hasEstimate, error) {
	countStatement(b.c.ctx)
	args := make([]any, 0, len(types)+len(pids)+1)
	for _, t := range types {
		args = append(args, t)
	}
	args = append(append(args, candidateSample), pids...)
	var cands, first, last, refs int64
	err := b.c.queryRow(`SELECT count(DISTINCT c.rid), COALESCE(min(c.rid), 0), COALESCE(max(c.rid), 0), count(x.rid)
		FROM (SELECT rid, type, id FROM resources WHERE type IN (`+placeholders(len(types))+`) AND deleted = 0 ORDER BY rid LIMIT ?) c
		LEFT JOIN idx_reference x ON x.pid IN (`+placeholders(len(pids))+`) AND x.ref_id = c.id AND x.ref_type = c.type`,
		args...).Scan(&cands, &first, &last, &refs)
	if err != nil || cands == 0 {
		return hasEstimate{}, translate(err)
	}
	e := hasEstimate{n: float64(cands), refs: float64(refs) / float64(cands)}
	if cands == candidateSample {
		lo, hi, err := b.c.ridSpan(types)
		if err != nil {
			return hasEstimate{}, err
		}
		density := float64(cands) / float64(last-first+1)
		e.n = max(e.n, density*float64(hi-lo+1))
	}
	return e, nil
}

// walked is how many candidates a walk reads to fill the page when n
// referrers match.
func (e hasEstimate) walked(n float64) float64 {
	matching := min(e.n, e.perReferrer*n)
	if matching <= e.page {
		return e.n
	}
	return min(e.n, e.page*e.n/matching)
}

func (e hasEstimate) walkCost(n float64) float64 {
	return e.walked(n) * (costCandidate + e.refs*costProbeRef)
}

func (e hasEstimate) setCost(n float64) float64 {
	return n*costSetRow + e.walked(n)*(costCandidate+e.refs*costSetRef)
}

func (e hasEstimate) gatherCost(n float64) float64 { return n * e.refsPerReferrer * costGather }

// cheapest is the plan of least cost with n referrers.
func (e hasEstimate) cheapest(n float64) HasPlan {
	g, w, s := e.gatherCost(n), e.walkCost(n), e.setCost(n)
	switch {
	case w <= g && w <= s:
		return HasWalk
	case s <= g:
		return HasSet
	}
	return HasGather
}

// crossover is the fewest referrers (at most hasCount) for which the walk
// is the cheapest plan; counting further would not change the choice.
func (e hasEstimate) crossover() int {
	lo, hi := hasSample, hasCount
	if e.cheapest(float64(hi)) != HasWalk {
		return hi
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if e.cheapest(float64(mid)) == HasWalk {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// ridOnly reports whether a clause's condition on a resource reads only
// its row id (the index tables), so it can be written on an index row's
// rid instead of a resources row.
func ridOnly(cl store.Clause) bool {
	return cl.Param != "_id" && cl.Param != "_lastUpdated" && cl.Has == nil
}

// has is a reverse chain: resources that a resource of HasType refers to
// through HasParam, where that resource meets Has. Driving, it starts from
// the referring resources that match (gather); otherwise it reads the
// candidate's referrers and checks each (walk).
//
// A resource's index rows are removed when it is deleted, so a referrer
// found through the reference index is a current one and needs no row of
// its own unless its condition reads one (_id, _lastUpdated, a further
// _has).
func (b *sqlBuilder) has(alias string, cl store.Clause, drive bool) (string, []any, error) {
	pids := b.pids([]string{cl.HasType}, cl.HasParam)
	if len(pids) == 0 {
		return "1 = 0", nil, nil
	}
	x, t := b.alias("x"), b.alias("h")
	// The plans that read the inner clause's index alone never see the
	// referrer's row, so its visibility: they are for searches that hide
	// nothing.
	if drive && !b.hides() {
		if sub, subArgs, ok, err := b.probeSQL([]string{cl.HasType}, *cl.Has); err != nil {
			return "", nil, err
		} else if ok {
			// The matching referrers from the inner clause's index, the
			// distinct targets of their references, the targets' rows.
			d, p := b.alias("d"), b.alias("p")
			w := alias + ".rid IN (SELECT " + p + ".rid FROM (SELECT DISTINCT " + x + ".ref_type AS rt, " + x + ".ref_id AS ri FROM (" + sub + ") " + t +
				" CROSS JOIN idx_reference " + x + " WHERE " + x + ".rid = " + t + ".rid AND " + x + ".pid IN (" + placeholders(len(pids)) + ")) " + d +
				" CROSS JOIN resources " + p + " WHERE " + p + ".type = " + d + ".rt AND " + p + ".id = " + d + ".ri)"
			return w, append(subArgs, pids...), nil
		}
	}
	inner, innerArgs, err := b.clause(t, []string{cl.HasType}, *cl.Has, drive)
	if err != nil {
		return "", nil, err
	}
	vis, visArgs := b.visibleSQL(t)
	args := append(append([]any{}, pids...), innerArgs...)
	if drive {
		// Start from the referring resources that match.
		p := b.alias("p")
		w := alias + ".rid IN (SELECT " + p + ".rid FROM resources " + t + " CROSS JOIN idx_reference " + x + " CROSS JOIN resources " + p +
			" WHERE " + x + ".rid = " + t + ".rid AND " + p + ".type = " + x + ".ref_type AND " + p + ".id = " + x + ".ref_id AND " +
			x + ".pid IN (" + placeholders(len(pids)) + ") AND " + t + ".deleted = 0 AND " + inner
		if driveRank(*cl.Has) == 0 || !impliesType(*cl.Has) {
			w += " AND " + t + ".type = ?"
			args = append(args, cl.HasType)
		}
		return w + " AND " + vis + ")", append(args, visArgs...), nil
	}
	if ridOnly(*cl.Has) && !b.hides() {
		// The inner condition on the reference row's rid.
		inner, innerArgs, err = b.clause(x, []string{cl.HasType}, *cl.Has, false)
		if err != nil {
			return "", nil, err
		}
		return "EXISTS (SELECT 1 FROM idx_reference " + x + " WHERE " + x + ".pid IN (" + placeholders(len(pids)) + ") AND " +
			x + ".ref_id = " + alias + ".id AND " + x + ".ref_type = " + alias + ".type AND " + inner + ")", append(append([]any{}, pids...), innerArgs...), nil
	}
	return "EXISTS (SELECT 1 FROM idx_reference " + x + " JOIN resources " + t + " ON " + t + ".rid = " + x + ".rid WHERE " +
		x + ".pid IN (" + placeholders(len(pids)) + ") AND " + x + ".ref_id = " + alias + ".id AND " + x + ".ref_type = " + alias +
		".type AND " + t + ".deleted = 0 AND " + inner + " AND " + vis + ")", append(args, visArgs...), nil
}

// hasSet is a _has checked per candidate against the set of referrers
// that meet the inner clause, read once from its index: the candidate's
// referrers are looked up in it. On SQLite a unary + keeps the rid from
// being used to search the reference index (one probe per member of the
// set); PostgreSQL needs another form (Dialect.memberOf).
// reconsiderHas chooses it only for an inner clause probeSQL can read.
func (b *sqlBuilder) hasSet(alias string, cl store.Clause) (string, []any, error) {
	pids := b.pids([]string{cl.HasType}, cl.HasParam)
	sub, subArgs, ok, err := b.probeSQL([]string{cl.HasType}, *cl.Has)
	if err != nil || !ok || len(pids) == 0 || b.hides() {
		return b.has(alias, cl, false)
	}
	x := b.alias("x")
	return "EXISTS (SELECT 1 FROM idx_reference " + x + " WHERE " + x + ".pid IN (" + placeholders(len(pids)) + ") AND " +
		x + ".ref_id = " + alias + ".id AND " + x + ".ref_type = " + alias + ".type AND " + b.c.db.dialect.memberOf(x+".rid", sub) + b.c.db.dialect.eachRow() + ")", append(append([]any{}, pids...), subArgs...), nil
}
