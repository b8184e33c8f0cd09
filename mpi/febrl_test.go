package mpi_test

import (
	"compress/gzip"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/mpi"
)

// score is pairwise precision and recall against a truth set of pairs.
type score struct {
	tp, fp, fn int
}

func (s score) precision() float64 { return float64(s.tp) / float64(max(s.tp+s.fp, 1)) }
func (s score) recall() float64    { return float64(s.tp) / float64(max(s.tp+s.fn, 1)) }
func (s score) f1() float64 {
	p, r := s.precision(), s.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func pairKey(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

func readFEBRL(t testing.TB, name string) []mpi.Record {
	t.Helper()
	f, err := os.Open("testdata/" + name + ".csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := mpi.ReadCSV(zr, mpi.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// febrlTruth is every pair of records of one entity: rec-<N>-org and
// rec-<N>-dup-<k> share <N>.
func febrlTruth(recs []mpi.Record) map[[2]string]bool {
	groups := map[string][]string{}
	for _, r := range recs {
		parts := strings.Split(r.ID, "-")
		groups[parts[1]] = append(groups[parts[1]], r.ID)
	}
	truth := map[[2]string]bool{}
	for _, ids := range groups {
		for i := range ids {
			for j := i + 1; j < len(ids); j++ {
				truth[pairKey(ids[i], ids[j])] = true
			}
		}
	}
	return truth
}

// TestFEBRL deduplicates FEBRL 1, 2 and 3 with a model fitted without
// labels and checks pairwise F1 and the share of true pairs blocking
// proposes.
func TestFEBRL(t *testing.T) {
	cases := []struct {
		name      string
		records   int
		truePairs int
		minF1     float64
		minBlock  float64
	}{
		{"febrl1", 1000, 500, 0.99, 0.995},
		{"febrl2", 5000, 1934, 0.99, 0.99},
		{"febrl3", 5000, 6538, 0.99, 0.99},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs := readFEBRL(t, tc.name)
			if len(recs) != tc.records {
				t.Fatalf("read %d records, want %d", len(recs), tc.records)
			}
			for i := range recs { // the id carries the truth: never let it near the matcher
				if strings.Contains(recs[i].Given+recs[i].Family+recs[i].Address1, "rec-") {
					t.Fatal("id leaked into a field")
				}
			}
			truth := febrlTruth(recs)
			if len(truth) != tc.truePairs {
				t.Fatalf("%d true pairs, want %d", len(truth), tc.truePairs)
			}
			res, err := mpi.Dedupe(context.Background(), recs, mpi.Options{})
			if err != nil {
				t.Fatal(err)
			}
			blocked := 0
			for _, p := range mpi.CandidateIDs(res) {
				if truth[pairKey(p[0], p[1])] {
					blocked++
				}
			}
			// A pair is predicted a match at the review threshold (the
			// Fellegi-Sunter decision at even odds); automatic links, which
			// also need no conflicting identity evidence, are reported too.
			var s, auto score
			for _, p := range res.Pairs {
				if p.Class == mpi.NonMatch {
					continue // plainly different people
				}
				if truth[pairKey(p.A, p.B)] {
					s.tp++
					if p.Class == mpi.AutoLink {
						auto.tp++
					}
				} else {
					s.fp++
					if p.Class == mpi.AutoLink {
						auto.fp++
					}
				}
			}
			s.fn = len(truth) - s.tp
			auto.fn = len(truth) - auto.tp
			t.Logf("%s: automatic links only: precision %.4f recall %.4f F1 %.4f", tc.name, auto.precision(), auto.recall(), auto.f1())
			blockRecall := float64(blocked) / float64(len(truth))
			t.Logf("%s: %d candidates, blocking recall %.4f; precision %.4f recall %.4f F1 %.4f (tp %d fp %d fn %d); lambda %.4f, EM rounds %d",
				tc.name, res.Candidates, blockRecall, s.precision(), s.recall(), s.f1(), s.tp, s.fp, s.fn, res.Model.Lambda, res.Model.Iterations)
			if blockRecall < tc.minBlock {
				t.Errorf("blocking recall %.4f, want >= %.4f", blockRecall, tc.minBlock)
			}
			if s.f1() < tc.minF1 {
				t.Errorf("F1 %.4f, want >= %.4f", s.f1(), tc.minF1)
			}
		})
	}
}
