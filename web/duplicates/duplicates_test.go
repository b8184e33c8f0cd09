package duplicates_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/mpi/identity"
	"github.com/custodian-him/custodian/store"
)

func TestRoles(t *testing.T) {
	e := newEnv(t, 40)
	task, _, _ := e.pair(t)
	for _, tc := range []struct {
		user, path string
		want       int
	}{
		{"dana", "/duplicates/queue", http.StatusOK},
		{"dana", "/duplicates/merges", http.StatusOK},
		{"dana", "/duplicates/pairs/" + task, http.StatusOK},
		{"dana", "/duplicates/pairs/no-such-task", http.StatusNotFound},
		{"dana", "/duplicates/nowhere", http.StatusNotFound},
		{"cody", "/duplicates/queue", http.StatusForbidden},
		{"cody", "/duplicates/pairs/" + task, http.StatusForbidden},
		{"reg", "/duplicates/merges", http.StatusForbidden},
	} {
		c := e.signIn(t, tc.user)
		resp, body := c.get(t, tc.path)
		if resp.StatusCode != tc.want {
			t.Errorf("%s GET %s: %d, want %d", tc.user, tc.path, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusForbidden && strings.Contains(body, "Review pair") {
			t.Errorf("%s GET %s: the refusal shows the queue", tc.user, tc.path)
		}
	}
	// The navigation offers the pages to the director only.
	_, home := e.signIn(t, "dana").get(t, "/patients")
	_, coder := e.signIn(t, "cody").get(t, "/patients")
	if !strings.Contains(home, `href="/duplicates/queue"`) || strings.Contains(coder, `href="/duplicates/queue"`) {
		t.Error("the Duplicates entry is not offered to the director alone")
	}
	// A coder may not decide even by posting directly.
	c := e.signIn(t, "cody")
	if resp, _ := c.postForm(t, "/duplicates/pairs/"+task+"/not-duplicate", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("coder not-duplicate: %d", resp.StatusCode)
	}
	if m := e.read(t, "Task", task); m["status"] != "requested" {
		t.Errorf("the coder's post changed the Task: %v", m["status"])
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, 40)
	task, a, b := e.pair(t)
	c := e.signIn(t, "dana")
	for _, path := range []string{"/duplicates/pairs/" + task + "/merge", "/duplicates/pairs/" + task + "/not-duplicate"} {
		resp, _ := c.post(t, path, url.Values{"survivor": {a}, "csrf_token": {"forged"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s with a forged token: %d, want 403", path, resp.StatusCode)
		}
	}
	if m := e.read(t, "Patient", b); m["active"] == false {
		t.Error("a forged merge went through")
	}
	if m := e.read(t, "Task", task); m["status"] != "requested" {
		t.Errorf("a forged post decided the pair: %v", m["status"])
	}
	// Every form on the pair page carries the token.
	_, body := c.get(t, "/duplicates/pairs/"+task)
	if n, f := strings.Count(body, `name="csrf_token"`), strings.Count(body, `<form method="post"`); n < f || f < 3 {
		t.Errorf("%d CSRF fields for %d post forms on the pair page", n, f)
	}
}

func TestMergeAndUnmerge(t *testing.T) {
	e := newEnv(t, 40)
	task, a, b := e.pair(t)
	c := e.signIn(t, "dana")
	_, queue := c.get(t, "/duplicates/queue")
	if !strings.Contains(queue, `href="/duplicates/pairs/`+task+`"`) {
		t.Fatal("the queue does not list the open pair")
	}
	// The pair page: both records, the evidence, the decision forms.
	_, page := c.get(t, "/duplicates/pairs/"+task)
	for _, want := range []string{"Patient " + a, "Patient " + b, `id="evidence"`, "weight", `value="` + a + `"`, `value="` + b + `"`, "Encounters:"} {
		if !strings.Contains(page, want) {
			t.Errorf("the pair page lacks %q", want)
		}
	}
	// Without a survivor, or with a stranger, nothing happens.
	for _, s := range []string{"", "not-in-the-pair"} {
		if resp, _ := c.postForm(t, "/duplicates/pairs/"+task+"/preview", url.Values{"survivor": {s}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("preview with survivor %q: %d, want 400", s, resp.StatusCode)
		}
	}
	// The preview lists what would move and writes nothing.
	resp, prev := c.postForm(t, "/duplicates/pairs/"+task+"/preview", url.Values{"survivor": {a}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(prev, "Merge preview") || !strings.Contains(prev, "Patient/"+b+"/_history/") || !strings.Contains(prev, `id="confirm-merge"`) {
		t.Fatalf("preview %d:\n%s", resp.StatusCode, prev)
	}
	if m := e.read(t, "Patient", b); m["active"] == false || m["link"] != nil {
		t.Fatal("the preview merged")
	}
	// The merge: the pair leaves the queue and the merge is in the history.
	resp, res := c.postForm(t, "/duplicates/pairs/"+task+"/merge", url.Values{"survivor": {a}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(res, "Records merged") {
		t.Fatalf("merge %d:\n%s", resp.StatusCode, res)
	}
	if m := e.read(t, "Patient", b); m["active"] != false {
		t.Error("the retired patient is still active after the merge")
	}
	_, queue = c.get(t, "/duplicates/queue")
	if strings.Contains(queue, `href="/duplicates/pairs/`+task+`"`) {
		t.Error("the merged pair is still in the queue")
	}
	_, hist := c.get(t, "/duplicates/merges")
	mt := mergeTask(t, e, a)
	if !strings.Contains(hist, `action="/duplicates/merges/`+mt+`/unmerge"`) {
		t.Fatalf("the history lacks the merge %s with its unmerge button", mt)
	}
	// The pair, opened again, shows the decision and no forms.
	if _, page := c.get(t, "/duplicates/pairs/"+task); strings.Contains(page, `id="preview-merge"`) || !strings.Contains(page, identity.BusinessMerged) {
		t.Error("the decided pair still offers a merge")
	}
	// Unmerge restores the retired patient.
	resp, res = c.postForm(t, "/duplicates/merges/"+mt+"/unmerge", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(res, "Merge undone") {
		t.Fatalf("unmerge %d:\n%s", resp.StatusCode, res)
	}
	if m := e.read(t, "Patient", b); m["active"] == false || m["link"] != nil {
		t.Errorf("the retired patient is not restored: active %v link %v", m["active"], m["link"])
	}
	_, hist = c.get(t, "/duplicates/merges")
	if strings.Contains(hist, `action="/duplicates/merges/`+mt+`/unmerge"`) || !strings.Contains(hist, "unmerged") {
		t.Error("the history still offers to unmerge an undone merge")
	}
	// A second unmerge is refused with the reason.
	resp, res = c.postForm(t, "/duplicates/merges/"+mt+"/unmerge", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(res, "undone already") {
		t.Errorf("second unmerge %d:\n%s", resp.StatusCode, res)
	}
}

// mergeTask returns the id of the merge Task whose survivor is id.
func mergeTask(t *testing.T, e *env, survivor string) string {
	t.Helper()
	q, err := e.st.ParseQueryString("Task", "code="+identity.System+"|"+identity.CodeMerge+"&focus=Patient/"+survivor)
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.st.Search(e.sys, q)
	if err != nil || len(page.Resources) == 0 {
		t.Fatalf("no merge Task for Patient/%s: %v", survivor, err)
	}
	return page.Resources[len(page.Resources)-1].ID
}

func TestUnmergeRefusedAfterChange(t *testing.T) {
	e := newEnv(t, 40)
	task, a, b := e.pair(t)
	c := e.signIn(t, "dana")
	if resp, res := c.postForm(t, "/duplicates/pairs/"+task+"/merge", url.Values{"survivor": {b}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("merge %d:\n%s", resp.StatusCode, res)
	}
	mt := mergeTask(t, e, b)
	// The survivor changes after the merge: unmerge must refuse, naming it.
	p := e.read(t, "Patient", b)
	p["maritalStatus"] = map[string]any{"text": "married"}
	body, _ := store.Encode(p)
	if _, err := e.st.Update(e.sys, "Patient", b, body, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	resp, res := c.postForm(t, "/duplicates/merges/"+mt+"/unmerge", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(res, "Patient/"+b) || !strings.Contains(res, "changed since the merge") {
		t.Errorf("unmerge after a change: %d\n%s", resp.StatusCode, res)
	}
	if m := e.read(t, "Patient", a); m["active"] != false {
		t.Error("the refused unmerge restored the retired patient")
	}
}

func TestNotDuplicate(t *testing.T) {
	e := newEnv(t, 40)
	task, _, _ := e.pair(t)
	c := e.signIn(t, "dana")
	resp, res := c.postForm(t, "/duplicates/pairs/"+task+"/not-duplicate", url.Values{"note": {"twins, different MRNs"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(res, "not a duplicate") {
		t.Fatalf("not-duplicate %d:\n%s", resp.StatusCode, res)
	}
	m := e.read(t, "Task", task)
	if m["status"] != "completed" || !strings.Contains(mustJSON(m), identity.BusinessNotDuplicate) || !strings.Contains(mustJSON(m), "twins, different MRNs") {
		t.Errorf("the Task after not-duplicate: %s", mustJSON(m))
	}
	_, queue := c.get(t, "/duplicates/queue")
	if strings.Contains(queue, `href="/duplicates/pairs/`+task+`"`) {
		t.Error("the declared pair is still in the queue")
	}
	// Deciding twice is a conflict.
	if resp, _ := c.postForm(t, "/duplicates/pairs/"+task+"/not-duplicate", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("second decision: %d, want 409", resp.StatusCode)
	}
}

func TestCard(t *testing.T) {
	e := newEnv(t, 40)
	task, a, _ := e.pair(t)
	c := e.signIn(t, "dana")
	open := len(openTasks(e.candidates(t)))
	_, dash := c.get(t, "/dashboard")
	if !strings.Contains(dash, `id="dup-open">`+itoa(open)+`<`) || !strings.Contains(dash, `class="chart dup-chart"`) {
		t.Fatalf("the dashboard's duplicates card lacks the open count %d or the chart", open)
	}
	if _, res := c.postForm(t, "/duplicates/pairs/"+task+"/merge", url.Values{"survivor": {a}}); !strings.Contains(res, "Records merged") {
		t.Fatal("merge failed")
	}
	_, dash = c.get(t, "/dashboard")
	if !strings.Contains(dash, `id="dup-open">`+itoa(open-1)+`<`) {
		t.Errorf("the card's open count did not drop to %d", open-1)
	}
	month := e.st.Now().UTC().Format("2006-01")
	if !strings.Contains(dash, "<tr><td>"+month+`</td><td class="num">1</td>`) {
		t.Errorf("the card's table lacks this month's merge")
	}
}

func TestOverlayListed(t *testing.T) {
	e := newEnv(t, 40)
	// A patient with encounters gets another person's name and birth date.
	var id string
	for i, typ := range e.col.Types {
		if typ == "Encounter" {
			m, _ := store.Decode(e.col.Bodies[i])
			_, id = store.SplitReference(m["subject"].(map[string]any)["reference"].(string))
			break
		}
	}
	p := e.read(t, "Patient", id)
	p["name"] = []any{map[string]any{"family": "Quarrington", "given": []any{"Ottoline"}}}
	p["birthDate"] = "1911-01-01"
	body, _ := store.Encode(p)
	if _, err := e.st.Update(e.sys, "Patient", id, body, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, err := e.svc.Sync(e.sys); err != nil || s.Overlays != 1 {
		t.Fatalf("sync %+v %v, want 1 overlay", s, err)
	}
	_, queue := e.signIn(t, "dana").get(t, "/duplicates/queue")
	_, list, _ := strings.Cut(queue, `id="overlay-list"`)
	if !strings.Contains(list, `href="/patients/`+id+`/history"`) || !strings.Contains(list, "Ottoline Quarrington") {
		t.Errorf("the overlay of Patient/%s is not listed:\n%s", id, list)
	}
}
