package fhirapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// link returns the request URI of the Bundle link rel, "" if there is none.
func link(r *response, rel string) string {
	links, _ := r.body["link"].([]any)
	for _, l := range links {
		if lm := l.(map[string]any); lm["relation"] == rel {
			u, _ := url.Parse(lm["url"].(string))
			return u.RequestURI()
		}
	}
	return ""
}

func obsBody(id string, value int) string {
	return fmt.Sprintf(`{"resourceType":"Observation","id":%q,"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},
		"effectiveDateTime":"2024-01-%02d","valueQuantity":{"value":%d,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}`, id, 1+value%28, value)
}

// walk follows rel links from start and returns the ids of each page.
func walk(t *testing.T, c *client, start, rel string) (pages [][]string, lastURI string) {
	t.Helper()
	next := start
	for i := 0; next != "" && i < 100; i++ {
		r := c.do("GET", next, "").must(t, http.StatusOK)
		var ids []string
		for _, ref := range refs(r, "match") {
			ids = append(ids, strings.TrimPrefix(ref, "Observation/"))
		}
		pages = append(pages, ids)
		lastURI = next
		next = link(r, rel)
	}
	return pages, lastURI
}

// TestSearchPagingUnderConcurrentWrites pages through a search while
// another client creates and updates matching resources: every resource
// that existed at the first page is seen exactly once, none twice, and
// walking back with the previous links gives the same pages.
func TestSearchPagingUnderConcurrentWrites(t *testing.T) {
	c := newServer(t)
	var before []string
	for i := range 60 {
		id := fmt.Sprintf("o%03d", i)
		before = append(before, id)
		c.do("PUT", "/fhir/Observation/"+id, obsBody(id, i)).must(t, http.StatusCreated)
		c.do("PUT", "/fhir/Observation/x"+id, strings.Replace(obsBody("x"+id, i), `"final"`, `"preliminary"`, 1)).must(t, http.StatusCreated)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	writes := 0
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("n%03d", i)
			old := before[rng.IntN(len(before))]
			// (t.Fatal may not be called here, outside the test's goroutine.)
			if r := c.do("PUT", "/fhir/Observation/"+id, obsBody(id, i)); r.status != http.StatusCreated {
				t.Errorf("create: %d", r.status)
				return
			}
			if r := c.do("PUT", "/fhir/Observation/"+old, obsBody(old, 100+i)); r.status != http.StatusOK {
				t.Errorf("update: %d", r.status)
				return
			}
			writes += 2
		}
	}()
	const q = "/fhir/Observation?status=final&code=8867-4&_count=7"
	var forward [][]string
	next := q
	var prevOfLast string
	for i := 0; next != "" && i < 100; i++ {
		r := c.do("GET", next, "").must(t, http.StatusOK)
		var ids []string
		for _, ref := range refs(r, "match") {
			ids = append(ids, strings.TrimPrefix(ref, "Observation/"))
		}
		forward = append(forward, ids)
		prevOfLast = link(r, "previous")
		next = link(r, "next")
		if i == 20 {
			close(stop) // the writer creates a page's worth per page read; let the walk end
		}
	}
	if len(forward) <= 20 {
		close(stop)
	}
	wg.Wait()
	if writes == 0 {
		t.Fatal("no writes happened while paging")
	}
	seen := map[string]int{}
	for _, p := range forward {
		for _, id := range p {
			seen[id]++
			if seen[id] > 1 {
				t.Errorf("%s seen twice", id)
			}
		}
	}
	for _, id := range before {
		if seen[id] != 1 {
			t.Errorf("%s seen %d times, want once", id, seen[id])
		}
	}
	// Back from the last page (which may have grown since): the same
	// pages in reverse.
	back, _ := walk(t, c, prevOfLast, "previous")
	slices.Reverse(back)
	forward = forward[:len(forward)-1]
	if len(back) != len(forward) {
		t.Fatalf("walked back %d pages, forward %d", len(back), len(forward))
	}
	for i := range back {
		if !slices.Equal(back[i], forward[i]) {
			t.Errorf("page %d: back %v, forward %v", i, back[i], forward[i])
		}
	}
}

// TestSearchPagingLinks checks first, previous, next and last on plain and
// sorted searches, forwards and backwards.
func TestSearchPagingLinks(t *testing.T) {
	c := newServer(t)
	var all []string
	for i := range 23 {
		id := fmt.Sprintf("o%03d", i)
		all = append(all, id)
		// Values out of id order, some repeated, to exercise the sort keys' ties.
		c.do("PUT", "/fhir/Observation/"+id, obsBody(id, (i*7)%11)).must(t, http.StatusCreated)
		if i%6 == 0 { // some without a date, which sort last either way
			id := fmt.Sprintf("u%03d", i)
			all = append(all, id)
			c.do("PUT", "/fhir/Observation/"+id, strings.Replace(obsBody(id, i), fmt.Sprintf(`"effectiveDateTime":"2024-01-%02d",`, 1+i%28), "", 1)).must(t, http.StatusCreated)
		}
	}
	// ids of a search, every page, through the general sort (a driving
	// code clause makes the matches be gathered first).
	general := func(query string) func() []string {
		return func() []string {
			pages, _ := walk(t, c, query+"&code=8867-4", "next")
			return slices.Concat(pages...)
		}
	}
	for _, tc := range []struct {
		query string
		want  func() []string
	}{
		{"/fhir/Observation?status=final&_count=5", func() []string { return all }},
		{"/fhir/Observation?_sort=-value-quantity,_id&_count=4&status=final", nil},
		{"/fhir/Observation?_sort=-value-quantity,_id&_count=4", func() []string {
			out := slices.Clone(all)
			slices.SortStableFunc(out, func(a, b string) int {
				value := func(id string) int {
					i, _ := strconv.Atoi(id[1:])
					if id[0] == 'u' {
						return i
					}
					return (i * 7) % 11
				}
				if va, vb := value(a), value(b); va != vb {
					return vb - va
				}
				return strings.Compare(a, b)
			})
			return out
		}},
		// By walking the date index, the same order as the general sort.
		{"/fhir/Observation?_sort=date&_count=6", general("/fhir/Observation?_sort=date&_count=6")},
		{"/fhir/Observation?_sort=-date&_count=4", general("/fhir/Observation?_sort=-date&_count=4")},
		{"/fhir/Observation?_sort=-date&_count=1", general("/fhir/Observation?_sort=-date&_count=7")},
	} {
		t.Run(tc.query, func(t *testing.T) {
			first := c.do("GET", tc.query, "").must(t, http.StatusOK)
			if link(first, "previous") != "" {
				t.Error("the first page has a previous link")
			}
			if link(first, "first") == "" || (link(first, "last") == "") != strings.Contains(tc.query, "_sort") {
				t.Errorf("links: %s", first.str("link"))
			}
			forward, end := walk(t, c, tc.query, "next")
			flat := slices.Concat(forward...)
			if tc.want != nil && !slices.Equal(flat, tc.want()) {
				t.Errorf("forward %v, want %v", flat, tc.want())
			}
			if len(flat) != len(all) {
				t.Errorf("forward gave %d resources, want %d", len(flat), len(all))
			}
			back, _ := walk(t, c, end, "previous")
			slices.Reverse(back)
			if !slices.EqualFunc(back, forward, slices.Equal) {
				t.Errorf("back %v, forward %v", back, forward)
			}
			// last: the final page's worth, in the same order (asked for
			// directly where the links do not offer it).
			lastURI := tc.query + "&_cursor=last"
			lastPage := c.do("GET", lastURI, "").must(t, http.StatusOK)
			var got []string
			for _, ref := range refs(lastPage, "match") {
				got = append(got, strings.TrimPrefix(ref, "Observation/"))
			}
			n := len(forward[0])
			if want := flat[len(flat)-n:]; !slices.Equal(got, want) {
				t.Errorf("last page %v, want %v", got, want)
			}
			if link(lastPage, "next") != "" {
				t.Error("the last page has a next link")
			}
			// From the last page back to the start covers everything once.
			fromLast, _ := walk(t, c, lastURI, "previous")
			if all := slices.Concat(fromLast...); len(all) != len(flat) {
				t.Errorf("back from the last page %d resources, want %d", len(all), len(flat))
			}
		})
	}
}

// TestSearchTotalEstimate: _total=estimate is exact below the sample and
// near the count above it; _total=none gives no total.
func TestSearchTotalEstimate(t *testing.T) {
	c := newServer(t)
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"batch","entry":[`)
	for i := range 1400 {
		if i > 0 {
			b.WriteString(",")
		}
		g := "male"
		if i%5 == 0 {
			g = "female"
		}
		fmt.Fprintf(&b, `{"resource":{"resourceType":"Patient","id":"p%d","gender":%q},"request":{"method":"PUT","url":"Patient/p%d"}}`, i, g, i)
		if i%7 == 0 {
			fmt.Fprintf(&b, `,{"resource":{"resourceType":"Organization","id":"g%d","name":"x"},"request":{"method":"PUT","url":"Organization/g%d"}}`, i, i)
		}
	}
	b.WriteString(`]}`)
	c.do("POST", "/fhir", b.String()).must(t, http.StatusOK)
	for _, tc := range []struct {
		query  string
		lo, hi int
	}{
		{"Patient?gender=female&_total=estimate", 280, 280},          // under the sample: exact
		{"Patient?gender=female&_total=accurate", 280, 280},          //
		{"Patient?gender=male&_total=accurate", 1120, 1120},          //
		{"Patient?gender=male&_total=estimate", 1010, 1230},          // extrapolated
		{"Patient?_total=estimate", 1260, 1540},                      //
		{"Patient?gender=male&_total=none", -1, -1},                  //
		{"Patient?gender=male&_total=estimate&_count=0", 1010, 1230}, //
	} {
		r := c.do("GET", "/fhir/"+tc.query, "").must(t, http.StatusOK)
		got := -1
		if s := r.str("total"); s != "" {
			got, _ = strconv.Atoi(s)
		}
		if got < tc.lo || got > tc.hi {
			t.Errorf("%s: total %d, want %d to %d", tc.query, got, tc.lo, tc.hi)
		}
	}
}
