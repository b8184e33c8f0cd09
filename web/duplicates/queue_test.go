package duplicates_test

import (
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/mpi/identity"
)

// TestQueuePages: a queue longer than a page is read page by page through
// the "next" links: urgent pairs first, then the rest, each oldest first,
// every open pair exactly once, with the number open and urgent on every
// page, and no patient data in the links.
func TestQueuePages(t *testing.T) {
	e := newEnv(t, 40)
	// Close what the generated patients queued: the test writes its own.
	var batch []map[string]any
	for _, c := range e.candidates(t) {
		c["status"] = "cancelled"
		batch = append(batch, c)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var urgent, routine []string
	for i := range 130 {
		id := fmt.Sprintf("cand-%03d", i)
		priority := "routine"
		if i%4 == 0 {
			priority = "urgent"
		}
		// Authored in an order other than the ids'.
		at := base.Add(time.Duration((i*37)%130) * time.Hour)
		batch = append(batch, map[string]any{"resourceType": "Task", "id": id, "status": "requested", "intent": "proposal", "priority": priority,
			"code":       map[string]any{"coding": []any{map[string]any{"system": identity.System, "code": identity.CodeCandidate}}},
			"focus":      map[string]any{"reference": fmt.Sprintf("Patient/qa-%d", i)},
			"authoredOn": at.Format(time.RFC3339),
			"input": []any{map[string]any{"type": map[string]any{"text": "other-patient"}, "valueReference": map[string]any{"reference": fmt.Sprintf("Patient/qb-%d", i)}},
				map[string]any{"type": map[string]any{"text": "probability"}, "valueDecimal": 0.9}}})
		if priority == "urgent" {
			urgent = append(urgent, id)
		} else {
			routine = append(routine, id)
		}
	}
	res, err := e.st.PutBatch(e.sys, batch)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	order := func(ids []string) []string {
		out := slices.Clone(ids)
		slices.SortFunc(out, func(a, b string) int {
			var x, y int
			fmt.Sscanf(a, "cand-%d", &x)
			fmt.Sscanf(b, "cand-%d", &y)
			return (x*37)%130 - (y*37)%130
		})
		return out
	}
	want := append(order(urgent), order(routine)...)
	c := e.signIn(t, "dana")
	pairLink := regexp.MustCompile(`href="/duplicates/pairs/([^"]+)"`)
	nextLink := regexp.MustCompile(`id="queue-next"|href="(/duplicates/queue\?page=[^"]+)"`)
	var got []string
	path, pages := "/duplicates/queue", 0
	for path != "" {
		pages++
		if pages > 10 {
			t.Fatal("the queue's pages do not end")
		}
		resp, body := c.get(t, path)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if !strings.Contains(body, "130 open pairs to review, 33 of them urgent") {
			t.Errorf("page %d does not say 130 open, 33 urgent", pages)
		}
		for _, m := range pairLink.FindAllStringSubmatch(body, -1) {
			got = append(got, m[1])
		}
		path = ""
		for _, m := range nextLink.FindAllStringSubmatch(body, -1) {
			if m[1] != "" {
				path = html.UnescapeString(m[1])
			}
		}
		if strings.Contains(path, "qa-") || strings.Contains(path, "Patient") {
			t.Errorf("the next link carries patient data: %s", path)
		}
	}
	if pages != 3 {
		t.Errorf("%d pages for 130 pairs, want 3 of at most 50", pages)
	}
	if !slices.Equal(got, want) {
		t.Errorf("the pages list\n%v\nwant\n%v", got, want)
	}
	if resp, _ := c.get(t, "/duplicates/queue?page=x123"); resp.StatusCode != 400 {
		t.Errorf("a page position that does not exist: %d, want 400", resp.StatusCode)
	}
}
