package fhirapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/bulk"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// exportServer is the API with the export operations over a fresh
// database; requests act as the actor in the X-Test-Actor header
// ("tester", an administrator, when absent).
type exportServer struct {
	*client
	st *store.Store
	db *sqldb.DB
	x  *bulk.Exporter
}

var otherActor = &custodian.Actor{ID: "someone-else", Kind: "user", Roles: []string{"physician"}}

// exportGuard lets physicians read everything but Organizations, and only
// administrators see sensitive records.
type exportGuard struct{}

func (exportGuard) Allow(a *custodian.Actor, typ, interaction string) error {
	if typ == "Organization" && slices.Contains(a.Roles, "physician") {
		return custodian.Errorf(custodian.EFORBIDDEN, "physicians may not read Organizations here")
	}
	return nil
}

func (exportGuard) SeesSensitive(a *custodian.Actor) bool {
	return slices.Contains(a.Roles, "administrator")
}

func newExportServer(t *testing.T) *exportServer {
	t.Helper()
	c := newServer(t) // for the registry
	_ = c
	ctx := context.Background()
	db := sqldbtest.Open(t)
	if err := db.RegisterParams(ctx, registry.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), registry)
	st.AuditLog, st.Guard = db, exportGuard{}
	x := &bulk.Exporter{Source: st, Jobs: sqldb.NewExportJobs(db), Dir: t.TempDir(), Types: fhir.R4().ResourceTypes(), PageSize: 3}
	h := (&fhirapi.Handler{Store: st, Types: fhir.R4().ResourceTypes(), Operations: fhirapi.ExportOperations(x, "")}).Init()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := testActor
		if r.Header.Get("X-Test-Actor") == "other" {
			a = otherActor
		}
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(r.Context(), a)))
	}))
	t.Cleanup(srv.Close)
	return &exportServer{client: &client{tb: t, base: srv.URL, http: srv.Client()}, st: st, db: db, x: x}
}

func (s *exportServer) load(t *testing.T, resources ...string) {
	t.Helper()
	var trees []map[string]any
	for _, r := range resources {
		m, err := store.Decode([]byte(r))
		if err != nil {
			t.Fatal(err)
		}
		trees = append(trees, m)
	}
	res, err := s.st.PutBatch(custodian.NewContextWithActor(context.Background(), custodian.SystemActor()), trees)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("resource %d: %v", i, r.Err)
		}
	}
}

// kickoff starts an export and returns its status path.
func (s *exportServer) kickoff(t *testing.T, path string) string {
	t.Helper()
	got := s.do("GET", path, "", "Prefer", "respond-async", "Accept", "application/fhir+json").must(t, 202)
	loc := got.header.Get("Content-Location")
	if !strings.Contains(loc, "/fhir/$export-status?job=") {
		t.Fatalf("Content-Location %q", loc)
	}
	return strings.TrimPrefix(loc, s.base)
}

// finish runs the waiting job and returns the manifest's files: type →
// the ids in its files.
func (s *exportServer) finish(t *testing.T, status string) (map[string][]string, *response) {
	t.Helper()
	if ran, err := s.x.RunOne(context.Background()); err != nil || !ran {
		t.Fatalf("RunOne: %v %v", ran, err)
	}
	m := s.do("GET", status, "").must(t, 200)
	if m.str("transactionTime") == "" || m.str("requiresAccessToken") != "true" || !strings.Contains(m.str("request"), "$export") {
		t.Errorf("manifest: %s", m.raw)
	}
	out := map[string][]string{}
	outputs, _ := m.body["output"].([]any)
	for _, o := range outputs {
		o := o.(map[string]any)
		url := o["url"].(string)
		resp, err := s.http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/fhir+ndjson" {
			t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		sc := bufio.NewScanner(resp.Body)
		n := 0
		for sc.Scan() {
			var r struct{ ResourceType, ID string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s line %d: %v", url, n+1, err)
			}
			if r.ResourceType != o["type"] {
				t.Errorf("%s holds a %s", url, r.ResourceType)
			}
			out[r.ResourceType] = append(out[r.ResourceType], r.ID)
			n++
		}
		resp.Body.Close()
		if c, _ := o["count"].(json.Number).Int64(); c != int64(n) {
			t.Errorf("%s: count %d, lines %d", url, c, n)
		}
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out, m
}

func exportPatient(id string) string {
	return `{"resourceType":"Patient","id":"` + id + `","name":[{"family":"Doe` + id + `"}]}`
}

func exportObs(id, pt, code, status string) string {
	return `{"resourceType":"Observation","id":"` + id + `","status":"` + status + `","code":{"coding":[{"system":"http://loinc.org","code":"` + code + `"}]},"subject":{"reference":"Patient/` + pt + `"}}`
}

func TestExport(t *testing.T) {
	s := newExportServer(t)
	s.load(t, exportPatient("p1"), exportPatient("p2"), exportPatient("p3"),
		exportObs("o1", "p1", "1-1", "final"), exportObs("o2", "p1", "2-2", "final"), exportObs("o3", "p2", "1-1", "preliminary"),
		exportObs("o4", "p3", "3-3", "preliminary"), exportObs("o5", "p3", "1-1", "final"),
		`{"resourceType":"Organization","id":"org1","name":"General"}`,
		// A sensitive record: an administrator sees it, a physician does not.
		`{"resourceType":"Observation","id":"o6","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]},"status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p2"}}`,
		`{"resourceType":"Group","id":"g1","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/p1"}},{"entity":{"reference":"Patient/p3"}}]}`)

	t.Run("kick-off errors", func(t *testing.T) {
		s.do("GET", "/fhir/$export", "").must(t, 400) // no Prefer: respond-async
		s.do("GET", "/fhir/$export?_type=Nonsense", "", "Prefer", "respond-async").must(t, 400)
		s.do("GET", "/fhir/$export?_outputFormat=text/csv", "", "Prefer", "respond-async").must(t, 400)
		s.do("GET", "/fhir/$export?_since=yesterday", "", "Prefer", "respond-async").must(t, 400)
		s.do("GET", "/fhir/$export?_typeFilter=Observation%3Fnope%3D1", "", "Prefer", "respond-async").must(t, 400)
		s.do("GET", "/fhir/Patient/$export?_type=Organization", "", "Prefer", "respond-async").must(t, 400)
		s.do("GET", "/fhir/Group/nothere/$export", "", "Prefer", "respond-async").must(t, 404)
		s.do("GET", "/fhir/$export?_elements=id", "", "Prefer", "respond-async, handling=strict").must(t, 501)
	})

	t.Run("system", func(t *testing.T) {
		status := s.kickoff(t, "/fhir/$export?_type=Patient,Observation,Organization")
		got := s.do("GET", status, "").must(t, 202)
		if got.header.Get("X-Progress") == "" || got.header.Get("Retry-After") == "" {
			t.Errorf("in-progress headers: %v", got.header)
		}
		s.do("GET", status, "", "X-Test-Actor", "other").must(t, 404) // not the requester's
		files, m := s.finish(t, status)
		want := map[string][]string{"Patient": {"p1", "p2", "p3"}, "Observation": {"o1", "o2", "o3", "o4", "o5", "o6"}, "Organization": {"org1"}}
		if !equalIDs(files, want) {
			t.Errorf("exported %v, want %v", files, want)
		}
		// PageSize 3 makes several pages; the Observation file holds them all.
		if n := len(m.body["output"].([]any)); n != 3 {
			t.Errorf("%d output files: %s", n, m.raw)
		}
		if !strings.Contains(string(m.raw), "&file=") {
			t.Errorf("file URLs escaped in the manifest: %s", m.raw)
		}
		file := m.str("output", "0", "url")
		if r := s.do("GET", strings.TrimPrefix(file, s.base), "", "X-Test-Actor", "other"); r.status != 404 {
			t.Errorf("another actor downloaded a file: %d", r.status)
		}
		// A range of a file (resumable downloads).
		req, _ := http.NewRequest("GET", file, nil)
		req.Header.Set("Range", "bytes=0-9")
		resp, err := s.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 206 || resp.ContentLength != 10 {
			t.Errorf("range: %d, %d bytes", resp.StatusCode, resp.ContentLength)
		}
	})

	t.Run("typeFilter and visibility", func(t *testing.T) {
		// Two filters that overlap (o1 and o5 match both): each resource once.
		status := s.kickoff(t, "/fhir/$export?_type=Observation&_typeFilter="+
			"Observation%3Fcode%3D1-1,Observation%3Fstatus%3Dfinal")
		files, _ := s.finish(t, status)
		if want := map[string][]string{"Observation": {"o1", "o2", "o3", "o5", "o6"}}; !equalIDs(files, want) {
			t.Errorf("exported %v, want %v", files, want)
		}
		// As a physician, without the purpose of use to see PSY records.
		got := s.do("GET", "/fhir/$export?_type=Observation", "", "Prefer", "respond-async", "X-Test-Actor", "other").must(t, 202)
		status = strings.TrimPrefix(got.header.Get("Content-Location"), s.base)
		s.x.RunOne(context.Background())
		m := s.do("GET", status, "", "X-Test-Actor", "other").must(t, 200)
		if c := m.str("output", "0", "count"); c != "5" {
			t.Errorf("the physician's export has %s Observations, want 5 (no PSY record): %s", c, m.raw)
		}
		// A type the physician may not read: refused by name, left out
		// (and said so in the error file) otherwise.
		s.do("GET", "/fhir/$export?_type=Organization", "", "Prefer", "respond-async", "X-Test-Actor", "other").must(t, 403)
		got = s.do("GET", "/fhir/$export", "", "Prefer", "respond-async", "X-Test-Actor", "other").must(t, 202)
		status = strings.TrimPrefix(got.header.Get("Content-Location"), s.base)
		s.x.RunOne(context.Background())
		m = s.do("GET", status, "", "X-Test-Actor", "other").must(t, 200)
		if strings.Contains(string(m.raw), "Organization-1") || m.str("error", "0", "type") != "OperationOutcome" {
			t.Errorf("the physician's system export: %s", m.raw)
		}
	})

	t.Run("group and patient level", func(t *testing.T) {
		files, _ := s.finish(t, s.kickoff(t, "/fhir/Group/g1/$export?_type=Patient,Observation"))
		if want := map[string][]string{"Patient": {"p1", "p3"}, "Observation": {"o1", "o2", "o4", "o5"}}; !equalIDs(files, want) {
			t.Errorf("group export %v, want %v", files, want)
		}
		// POST with a Parameters body: _type and patient references.
		got := s.do("POST", "/fhir/Patient/$export", `{"resourceType":"Parameters","parameter":[
			{"name":"_type","valueString":"Observation"},{"name":"patient","valueReference":{"reference":"Patient/p1"}}]}`,
			"Prefer", "respond-async").must(t, 202)
		files, _ = s.finish(t, strings.TrimPrefix(got.header.Get("Content-Location"), s.base))
		if want := map[string][]string{"Observation": {"o1", "o2"}}; !equalIDs(files, want) {
			t.Errorf("POST patient export %v, want %v", files, want)
		}
		files, _ = s.finish(t, s.kickoff(t, "/fhir/Patient/$export"))
		if _, ok := files["Organization"]; ok || len(files["Observation"]) != 6 || len(files["Patient"]) != 3 {
			t.Errorf("patient export %v", files)
		}
	})

	t.Run("since", func(t *testing.T) {
		time.Sleep(5 * time.Millisecond)
		since := time.Now().UTC().Format(time.RFC3339Nano)
		time.Sleep(5 * time.Millisecond)
		s.load(t, `{"resourceType":"Patient","id":"p2","name":[{"family":"Renamed"}]}`)
		files, _ := s.finish(t, s.kickoff(t, "/fhir/$export?_type=Patient,Observation&_since="+since))
		if want := map[string][]string{"Patient": {"p2"}}; !equalIDs(files, want) {
			t.Errorf("_since export %v, want %v", files, want)
		}
	})

	t.Run("cancel and expiry", func(t *testing.T) {
		status := s.kickoff(t, "/fhir/$export?_type=Patient")
		s.finish(t, status)
		job := status[strings.LastIndex(status, "=")+1:]
		if _, err := os.Stat(filepath.Join(s.x.Dir, job)); err != nil {
			t.Fatal(err)
		}
		s.do("DELETE", status, "", "X-Test-Actor", "other").must(t, 404)
		s.do("DELETE", status, "").must(t, 202)
		s.do("GET", status, "").must(t, 404)
		if _, err := os.Stat(filepath.Join(s.x.Dir, job)); !os.IsNotExist(err) {
			t.Errorf("files of a cancelled job remain: %v", err)
		}
		// A finished job expires after Expiry.
		status = s.kickoff(t, "/fhir/$export?_type=Patient")
		s.finish(t, status)
		job = status[strings.LastIndex(status, "=")+1:]
		s.x.Now = func() time.Time { return time.Now().Add(bulk.DefaultExpiry + time.Minute) }
		defer func() { s.x.Now = nil }()
		s.do("GET", status, "").must(t, 404)
		if err := s.x.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(s.x.Dir, job)); !os.IsNotExist(err) {
			t.Errorf("files of an expired job remain: %v", err)
		}
		if _, err := s.x.Jobs.Job(context.Background(), job); custodian.ErrorCode(err) != custodian.ENOTFOUND {
			t.Errorf("expired job still stored: %v", err)
		}
	})

	t.Run("a job survives a restart", func(t *testing.T) {
		status := s.kickoff(t, "/fhir/$export?_type=Patient,Observation")
		// A node takes the job and dies before finishing.
		now := time.Now()
		j, err := s.x.Jobs.ClaimJob(context.Background(), "dead-node", now, now.Add(30*time.Second))
		if err != nil || j == nil {
			t.Fatalf("claim: %v %v", j, err)
		}
		if ran, _ := s.x.RunOne(context.Background()); ran {
			t.Fatal("a job under another node's live lease was taken")
		}
		// A restarted server (a new Exporter on the same database) takes it
		// up once the lease has run out.
		x2 := &bulk.Exporter{Source: s.st, Jobs: s.x.Jobs, Dir: s.x.Dir, Types: s.x.Types,
			Now: func() time.Time { return time.Now().Add(time.Minute) }}
		if ran, err := x2.RunOne(context.Background()); !ran || err != nil {
			t.Fatalf("restart: %v %v", ran, err)
		}
		m := s.do("GET", status, "").must(t, 200)
		if len(m.body["output"].([]any)) != 2 {
			t.Errorf("manifest after restart: %s", m.raw)
		}
	})

	t.Run("audited", func(t *testing.T) {
		ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
		es, err := s.st.FindAudit(ctx, audit.Filter{Action: audit.ActionExport, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var jobs, downloads, refused, group int
		for _, e := range es {
			switch {
			case strings.HasPrefix(e.Query, "download "):
				downloads++
			case e.Outcome != "success":
				refused++
			default:
				jobs++
			}
			if slices.Equal(e.Resources, []string{"Group/g1"}) && slices.Equal(e.Patients, []string{"p1", "p3"}) {
				group++
			}
		}
		if jobs < 8 || downloads < 10 || refused < 4 || group == 0 {
			t.Errorf("export audit entries: %d jobs, %d downloads, %d refused, %d naming the group's patients", jobs, downloads, refused, group)
		}
	})
}

func equalIDs(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
