package duplicates_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
)

// BenchmarkPages measures each page's server time, served to the
// workbench directly as a director, on a generated hospital of
// DUP_BENCH_PATIENTS patients (200 if unset):
//
//	go test ./web/duplicates -run '^$' -bench Pages -benchtime 20x
func BenchmarkPages(b *testing.B) {
	n := 200
	if s := os.Getenv("DUP_BENCH_PATIENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	e := newEnv(b, n)
	dir := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "dana", Kind: access.KindUser, Roles: []string{access.RoleHIMDirector}})
	task, a, _ := e.pair(b)
	// Another pair merged, so the history has a row.
	if t2, s, r := e.pair(b, task); t2 != "" {
		if _, err := e.svc.Merge(dir, s, r, false); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d patients, %d candidate Tasks", n, len(e.candidates(b)))
	for _, tc := range []struct{ method, path, form string }{
		{"GET", "/duplicates/queue", ""},
		{"GET", "/duplicates/pairs/" + task, ""},
		{"POST", "/duplicates/pairs/" + task + "/preview", url.Values{"survivor": {a}}.Encode()},
		{"GET", "/duplicates/merges", ""},
		{"GET", "/dashboard", ""},
	} {
		b.Run(tc.method+" "+strings.ReplaceAll(tc.path, task, "{task}"), func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.form)).WithContext(dir)
				if tc.form != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				rec := httptest.NewRecorder()
				e.wb.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s %s: %d %s", tc.method, tc.path, rec.Code, rec.Body)
				}
			}
		})
	}
	b.Run("card", func(b *testing.B) {
		for b.Loop() {
			if cs, err := e.wb.Modules[0].Cards(dir); err != nil || len(cs) != 1 {
				b.Fatalf("cards %d %v", len(cs), err)
			}
		}
	})
}
