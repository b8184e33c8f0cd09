package fhirapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/mpi"
	"github.com/custodian-him/custodian/store"
)

const (
	matchDefinition = "http://hl7.org/fhir/OperationDefinition/Patient-match"
	matchGradeURL   = "http://hl7.org/fhir/StructureDefinition/match-grade"
	// matchDefaultCount is how many matches $match returns when the
	// client does not say; matchMaxCount the most it returns.
	matchDefaultCount = 10
	matchMaxCount     = 100
	// probableScore is the match probability from which a match that is
	// not certain is graded probable rather than possible.
	probableScore = 0.9
)

// MatchOperations serve POST /fhir/Patient/$match (FHIR R4
// OperationDefinition Patient-match) against the master patient index ix,
// reading the matched Patients from st as the caller (so access rules and
// the audit trail apply; a match the caller may not see is left out).
//
// Input: resource (a Patient, required), onlyCertainMatches (boolean),
// count (integer, default 10, at most 100). Output: a searchset Bundle of
// Patients, best first, each with search.mode "match", search.score (the
// match probability) and the match-grade extension: "certain" for an
// automatic link, "probable" for a review-band match scoring at least
// 0.9, "possible" below. With onlyCertainMatches the Bundle holds the one
// certain match, or none (with an informational OperationOutcome) when
// no match or several matches are certain, as the R4 definition asks.
// baseURL is the API's absolute base for fullUrl ("" takes it from the
// request).
func MatchOperations(st *store.Store, ix *mpi.Index, baseURL string) []Operation {
	m := &matchAPI{st: st, ix: ix, base: baseURL}
	return []Operation{
		{Pattern: "POST /fhir/Patient/$match", Name: "match", Type: "Patient", Definition: matchDefinition, Handle: m.match},
	}
}

type matchAPI struct {
	st   *store.Store
	ix   *mpi.Index
	base string
}

func (m *matchAPI) match(w http.ResponseWriter, r *http.Request) error {
	p, err := ReadParams(w, r)
	if err != nil {
		return err
	}
	res := p.Resource("resource")
	if res == nil {
		return custodian.Errorf(custodian.EINVALID, "the resource parameter (a Patient) is required")
	}
	if res["resourceType"] != "Patient" {
		return custodian.Errorf(custodian.EINVALID, "the resource parameter must be a Patient")
	}
	onlyCertain := false
	switch v := p.Get("onlyCertainMatches"); v {
	case "", "false":
	case "true":
		onlyCertain = true
	default:
		return custodian.Errorf(custodian.EINVALID, "onlyCertainMatches %q is not true or false", v)
	}
	count := matchDefaultCount
	if v := p.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return custodian.Errorf(custodian.EINVALID, "count %q is not a positive whole number", v)
		}
		count = min(n, matchMaxCount)
	}
	body, err := json.Marshal(res)
	if err != nil {
		return custodian.Wrap(custodian.EINVALID, err, "the Patient cannot be read")
	}
	rec, err := mpi.PatientRecord(body)
	if err != nil {
		return err
	}
	all, err := m.ix.MatchRecord(r.Context(), rec, 0, 0)
	if err != nil {
		return err
	}
	matches := all[:0]
	for _, x := range all {
		if x.Class != mpi.NonMatch { // plainly a different person
			matches = append(matches, x)
		}
	}
	var note string
	if onlyCertain {
		certain := matches[:0:0]
		for _, x := range matches {
			if x.Class == mpi.AutoLink {
				certain = append(certain, x)
			}
		}
		switch {
		case len(certain) > 1:
			note = strconv.Itoa(len(certain)) + " records match with certainty (they may be duplicates of each other); none is returned"
			certain = nil
		case len(certain) == 0 && len(matches) > 0:
			note = strconv.Itoa(len(matches)) + " records may match, none with certainty"
		}
		matches = certain
	}
	base := m.base
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host + "/fhir"
	}
	base = strings.TrimSuffix(base, "/")
	type found struct {
		body  []byte
		id    string
		score float64
		grade string
	}
	var out []found
	for _, x := range matches {
		if len(out) == count {
			break
		}
		pr, err := m.st.Read(r.Context(), "Patient", x.ID)
		switch custodian.ErrorCode(err) {
		case "":
		case custodian.ENOTFOUND, custodian.EGONE, custodian.EFORBIDDEN:
			continue // gone since it was indexed, or not the caller's to see
		default:
			return err
		}
		grade := "possible"
		switch {
		case x.Class == mpi.AutoLink:
			grade = "certain"
		case x.Probability >= probableScore:
			grade = "probable"
		}
		out = append(out, found{pr.Body, pr.ID, x.Probability, grade})
	}
	bw := newBundle("searchset", int64(len(out)), nil)
	for _, f := range out {
		search := map[string]any{"mode": "match", "score": json.Number(strconv.FormatFloat(f.score, 'f', 4, 64)),
			"extension": []any{map[string]any{"url": matchGradeURL, "valueCode": f.grade}}}
		bw.add(str("fullUrl", base+"/Patient/"+f.id), raw("resource", f.body), obj("search", search))
	}
	if note != "" {
		oo := map[string]any{"resourceType": "OperationOutcome",
			"issue": []any{map[string]any{"severity": "information", "code": "informational", "diagnostics": note}}}
		bw.add(obj("resource", oo), obj("search", map[string]any{"mode": "outcome"}))
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(bw.bytes())
	return err
}

// MatchWatcher keeps ix current with the store: every Patient version a
// write adds is put in the index (a delete takes it out). Register it in
// store.Store.Watchers. A Patient that cannot be read is logged and left
// as it was.
func MatchWatcher(ix *mpi.Index, log *slog.Logger) store.Watcher {
	return func(ctx context.Context, versions []*store.Resource) {
		for _, v := range versions {
			if v.Type != "Patient" {
				continue
			}
			if v.Deleted || v.Body == nil {
				ix.Remove(v.ID)
				continue
			}
			rec, err := mpi.PatientRecord(v.Body)
			if err == nil {
				err = ix.Put(rec)
			}
			if err != nil && log != nil {
				log.Warn("mpi: a Patient version was not indexed", "id", v.ID, "version", v.VersionID, "err", err)
			}
		}
	}
}

// MinFitPatients is the fewest Patients a model is fitted to; with fewer
// the index keeps mpi.DefaultModel.
const MinFitPatients = 1000

// BuildMatchIndex returns a live index over every current Patient of st
// (LoadMatchIndex into a new index).
func BuildMatchIndex(ctx context.Context, st *store.Store) (*mpi.Index, error) {
	ix := mpi.NewIndex(mpi.DefaultModel())
	if _, err := LoadMatchIndex(ctx, st, ix); err != nil {
		return nil, err
	}
	return ix, nil
}

// matchLoadBatch is how many Patients LoadMatchIndex reads before it
// indexes them together (normalised on every core): matches are found
// among those read so far while the rest load.
const matchLoadBatch = 50_000

// LoadMatchIndex adds every current Patient of st to ix, reading them in
// pages as the actor of ctx (a system actor allowed to search Patients),
// then, with at least MinFitPatients of them, fits a model to them without
// labels and makes ix score with it. It returns how many Patients it
// read. A Patient the index already holds is left as it is, so the load
// can run in the background while MatchWatcher puts newer versions.
func LoadMatchIndex(ctx context.Context, st *store.Store, ix *mpi.Index) (int, error) {
	var recs []mpi.Record
	indexed := 0
	flush := func() error {
		_, err := ix.AddAll(ctx, recs[indexed:], 0)
		indexed = len(recs)
		return err
	}
	err := eachPatient(ctx, st, func(r mpi.Record) error {
		recs = append(recs, r)
		if len(recs)-indexed >= matchLoadBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return len(recs), err
	}
	if len(recs) >= MinFitPatients {
		model, err := mpi.Fit(ctx, recs, mpi.Options{})
		if err != nil {
			return len(recs), err
		}
		ix.SetModel(model)
	}
	return len(recs), nil
}

// eachPatient calls fn with every current Patient of st, read in pages.
func eachPatient(ctx context.Context, st *store.Store, fn func(mpi.Record) error) error {
	q, err := st.ParseQueryString("Patient", "")
	if err != nil {
		return err
	}
	var after int64
	for {
		rs, next, err := st.ExportPage(ctx, q, store.ExportFilter{After: after, Limit: 1000, MaxBytes: 8 << 20})
		if err != nil {
			return err
		}
		for _, res := range rs {
			rec, err := mpi.PatientRecord(res.Body)
			if err != nil {
				return err
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		after = next
	}
}
