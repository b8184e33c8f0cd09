package access_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// api is the FHIR API over a fresh database with the real guard; requests
// act as the user named by X-Test-User with the roles of X-Test-Roles.
type api struct {
	t   testing.TB
	st  *store.Store
	srv *httptest.Server
}

func openAPI(t testing.TB) *api {
	t.Helper()
	db, st := sqldbtest.OpenStore(t)
	st.Guard, st.AuditLog = access.Guard{}, db
	h := (&fhirapi.Handler{Store: st, Types: fhir.R4().ResourceTypes(), MaxBody: 8 << 20}).Init()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &custodian.Actor{ID: r.Header.Get("X-Test-User"), Kind: access.KindUser,
			Roles: strings.Split(r.Header.Get("X-Test-Roles"), ","), Address: "127.0.0.1", PurposeOfUse: r.Header.Get("X-Test-Purpose")}
		if sc := r.Header.Get("X-Test-Scopes"); sc != "" {
			a.Kind, a.Scopes = access.KindClient, strings.Fields(sc)
		}
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(r.Context(), a)))
	}))
	t.Cleanup(srv.Close)
	return &api{t: t, st: st, srv: srv}
}

// requireWriteGuard fails at once, saying why, when the store does not
// ask the guard about what is written (the hook in store/watch.go that
// wraps every write's Tx, see store/protect.go's guarding).
func (a *api) requireWriteGuard() {
	a.t.Helper()
	m := res(a.t, regAccepted)
	m["id"] = "probe"
	b, _ := json.Marshal(m)
	_, err := a.st.Update(userCtx("probe", access.RoleCoder), "Task", "probe", b, store.WriteOptions{})
	if custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		a.t.Fatalf("a coder wrote an accepted registry case (%v): the store does not judge what is written; "+
			"its writes must pass through Store.guarding (store/watch.go's watching calls it)", err)
	}
}

func userCtx(id string, roles ...string) context.Context {
	return custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: id, Kind: access.KindUser, Roles: roles})
}

var sysCtx = custodian.NewContextWithActor(context.Background(), custodian.SystemActor())

// do sends a request as user with role and returns the status and body.
func (a *api) do(method, path, user, role string, body []byte, header ...string) (int, map[string]any) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+"/fhir/"+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	ct := "application/fhir+json"
	if method == "PATCH" {
		ct = "application/json-patch+json"
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Test-User", user)
	req.Header.Set("X-Test-Roles", role)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// seed stores typ/id with body as Custodian itself would.
func (a *api) seed(typ, id, body string) {
	a.t.Helper()
	m := res(a.t, body)
	m["id"] = id
	b, _ := json.Marshal(m)
	if _, err := a.st.Update(sysCtx, typ, id, b, store.WriteOptions{}); err != nil {
		a.t.Fatalf("seed %s/%s: %v", typ, id, err)
	}
}

// current returns the stored body of typ/id as the system sees it, or nil.
func (a *api) current(typ, id string) map[string]any {
	a.t.Helper()
	r, err := a.st.Read(sysCtx, typ, id)
	if err != nil {
		return nil
	}
	m, _ := store.Decode(r.Body)
	return m
}

// userRoles are the roles a person signs in with.
func userRoles() []string {
	return slices.DeleteFunc(slices.Clone(access.Roles), func(r string) bool { return r == access.RoleIntegrationClient })
}

// expect says whether role may make write s through interaction: the
// role table must allow the interaction on the type, and the step must
// be the role's.
func expect(s step, role, interaction string) bool {
	return access.RolesAllow([]string{role}, s.typ, interaction) && (slices.Contains(s.deciders, "*") || slices.Contains(s.deciders, role))
}

// patchOf is the JSON Patch that turns old into new (top-level elements).
func patchOf(old, new map[string]any) []byte {
	var ops []map[string]any
	for k, v := range new {
		if k == "id" || k == "meta" {
			continue
		}
		op := "add"
		if _, ok := old[k]; ok {
			op = "replace"
		}
		ops = append(ops, map[string]any{"op": op, "path": "/" + k, "value": v})
	}
	for k := range old {
		if _, ok := new[k]; !ok && k != "id" && k != "meta" {
			ops = append(ops, map[string]any{"op": "remove", "path": "/" + k})
		}
	}
	b, _ := json.Marshal(ops)
	return b
}

// TestWorkflowStepsThroughREST takes every step of the table through the
// FHIR API as every user role — create, update, patch and delete, a
// transaction Bundle and a batch Bundle — and checks each is allowed or
// refused with a 403 OperationOutcome, that a refused write changes
// nothing, and that the trail records the refusal.
func TestWorkflowStepsThroughREST(t *testing.T) {
	a := openAPI(t)
	a.requireWriteGuard()
	for si, s := range steps {
		for _, role := range userRoles() {
			user := "u-" + role
			id := fmt.Sprintf("s%d-%s", si, role)
			old, new := res(t, s.old), res(t, s.new)
			if old != nil {
				a.seed(s.typ, id, s.old)
				old = a.current(s.typ, id)
			}
			var method, path, interaction string
			var body []byte
			switch {
			case new == nil:
				method, path, interaction = "DELETE", s.typ+"/"+id, "delete"
			case old == nil:
				method, path, interaction = "POST", s.typ, "create"
				body, _ = json.Marshal(new)
			default:
				method, path, interaction = "PUT", s.typ+"/"+id, "update"
				new["id"] = id
				body, _ = json.Marshal(new)
			}
			want := expect(s, role, interaction)
			refusals := func() int {
				t.Helper()
				es, err := a.st.FindAudit(sysCtx, audit.Filter{Actor: user, Outcome: custodian.EFORBIDDEN})
				if err != nil {
					t.Fatal(err)
				}
				return len(es)
			}
			before := refusals()
			code, out := a.do(method, path, user, role, body)
			check := func(how string, code int, out map[string]any) {
				t.Helper()
				switch {
				case want && code >= 300:
					t.Errorf("%s by %s (%s): %d %v, want it allowed", s.name, role, how, code, out)
				case !want && code != http.StatusForbidden:
					t.Errorf("%s by %s (%s): %d, want 403", s.name, role, how, code)
				case !want && !forbiddenOutcome(out):
					t.Errorf("%s by %s (%s): the 403 is not a forbidden OperationOutcome: %v", s.name, role, how, out)
				}
			}
			check(method, code, out)
			if !want && old != nil {
				if cur := a.current(s.typ, id); cur == nil || cur["meta"].(map[string]any)["versionId"] != old["meta"].(map[string]any)["versionId"] {
					t.Errorf("%s by %s: refused, yet the resource changed", s.name, role)
				}
			}
			if old != nil && new != nil {
				// The same step as a JSON Patch, on a fresh copy.
				pid := id + "-p"
				a.seed(s.typ, pid, s.old)
				code, out = a.do("PATCH", s.typ+"/"+pid, user, role, patchOf(a.current(s.typ, pid), new))
				check("PATCH", code, out)
			}
			// The same step as a transaction and as a batch, on fresh copies.
			for _, kind := range []string{"transaction", "batch"} {
				eid := id + "-" + kind[:1]
				entry := map[string]any{"request": map[string]any{"method": method, "url": s.typ + "/" + eid}}
				switch {
				case old == nil:
					entry["request"] = map[string]any{"method": "POST", "url": s.typ}
					entry["resource"] = res(t, s.new)
				case new != nil:
					a.seed(s.typ, eid, s.old)
					n := res(t, s.new)
					n["id"] = eid
					entry["resource"] = n
				default:
					a.seed(s.typ, eid, s.old)
				}
				b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": kind, "entry": []any{entry}})
				code, out = a.do("POST", "", user, role, b)
				if kind == "batch" {
					if code != http.StatusOK {
						t.Fatalf("batch by %s: %d %v", role, code, out)
					}
					e := out["entry"].([]any)[0].(map[string]any)["response"].(map[string]any)
					st, _ := e["status"].(string)
					fmt.Sscanf(st, "%d", &code)
					out, _ = e["outcome"].(map[string]any)
					if code >= 300 && code != http.StatusForbidden {
						t.Errorf("%s by %s (batch): %s", s.name, role, st)
					}
				}
				check(kind, code, out)
			}
			// Every refused request left its refusal in the trail: the
			// write, the patch, the transaction and the batch's entry.
			n := 2
			if old != nil && new != nil {
				n = 3
			}
			if got := refusals() - before; !want && got < n+1 {
				t.Errorf("%s by %s: %d refusals in the audit trail, want %d", s.name, role, got, n+1)
			} else if want && got != 0 {
				t.Errorf("%s by %s: allowed, yet %d refusals in the audit trail", s.name, role, got)
			}
		}
	}
}

func forbiddenOutcome(m map[string]any) bool {
	if m["resourceType"] != "OperationOutcome" {
		return false
	}
	issues, _ := m["issue"].([]any)
	for _, is := range issues {
		if i, _ := is.(map[string]any); i["code"] == "forbidden" {
			return true
		}
	}
	return false
}

// TestRefusedTransactionWritesNothing: a transaction whose one entry is a
// step the user may not take is refused as a whole, and its refusal is in
// the trail with the actor.
func TestRefusedTransactionWritesNothing(t *testing.T) {
	a := openAPI(t)
	a.requireWriteGuard()
	a.seed("Task", "case", regCandidate)
	plain := res(t, plainTask)
	plain["identifier"] = []any{map[string]any{"system": "urn:test", "value": "side-effect"}}
	accept := res(t, regAccepted)
	accept["id"] = "case"
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"request": map[string]any{"method": "POST", "url": "Task"}, "resource": plain},
		map[string]any{"request": map[string]any{"method": "PUT", "url": "Task/case"}, "resource": accept},
	}})
	code, out := a.do("POST", "", "cody", access.RoleCoder, b)
	if code != http.StatusForbidden || !forbiddenOutcome(out) {
		t.Fatalf("a coder's transaction deciding a case: %d %v", code, out)
	}
	if a.current("Task", "case")["status"] != "requested" {
		t.Fatal("the case was decided")
	}
	q, err := a.st.ParseQueryString("Task", "identifier=urn:test|side-effect")
	if err != nil {
		t.Fatal(err)
	}
	page, err := a.st.Search(sysCtx, q)
	if err != nil || len(page.Resources) != 0 {
		t.Fatalf("the transaction's other entry was stored: %v, %d", err, len(page.Resources))
	}
	refused, err := a.st.FindAudit(sysCtx, audit.Filter{Actor: "cody", Outcome: custodian.EFORBIDDEN, Action: audit.ActionTransaction})
	if err != nil || len(refused) != 1 {
		t.Fatalf("the refused transaction in the trail: %v, %d entries", err, len(refused))
	}
	// The registrar's same transaction goes through.
	if code, out := a.do("POST", "", "rita", access.RoleRegistrar, b); code != http.StatusOK {
		t.Fatalf("the registrar's transaction: %d %v", code, out)
	}
}

// TestBatchImportByAUserIsJudged: a user's PutBatch (a registry's
// candidates, an import through a service) is judged item by item like
// any other write, on the bulk path's size too.
func TestBatchImportByAUserIsJudged(t *testing.T) {
	a := openAPI(t)
	a.requireWriteGuard()
	var batch []map[string]any
	for i := range 12 {
		m := res(t, regAccepted)
		m["id"] = fmt.Sprintf("b%d", i)
		batch = append(batch, m)
	}
	batch = append(batch, res(t, plainTask))
	results, err := a.st.PutBatch(userCtx("cody", access.RoleCoder), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if i < 12 && custodian.ErrorCode(r.Err) != custodian.EFORBIDDEN {
			t.Errorf("item %d (an accepted case) by a coder: %v", i, r.Err)
		}
		if i == 12 && r.Err != nil {
			t.Errorf("a plain Task by a coder: %v", r.Err)
		}
	}
	if a.current("Task", "b0") != nil {
		t.Fatal("a coder's batch stored an accepted case")
	}
	results, err = a.st.PutBatch(userCtx("rita", access.RoleRegistrar), batch[:12])
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil {
			t.Errorf("item %d by the registrar: %v", i, r.Err)
		}
	}
}

// TestServicesHoldTheSameLine takes the registry's and release of
// information's steps through their services as every role: the service
// refuses who the table refuses, and the store refuses them even when a
// service is configured more loosely than the guard.
func TestServicesHoldTheSameLine(t *testing.T) {
	a := openAPI(t)
	a.requireWriteGuard()
	defs, err := registry.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	reg := &registry.Service{Store: a.st, Definitions: defs}
	a.seed("Patient", "p0", patient)
	for _, role := range userRoles() {
		pid := "p-" + role
		a.seed("Patient", pid, patient)
		a.seed("Task", registry.TaskID("diabetes", pid), `{"resourceType":"Task","status":"requested","intent":"order",
			"businessStatus":{"text":"candidate"},"instantiatesUri":"`+registry.CanonicalBase+`diabetes",
			"code":{"coding":[{"system":"`+registry.CanonicalBase+`CodeSystem/task","code":"registry-case"}]},
			"for":{"reference":"Patient/`+pid+`"},"authoredOn":"2025-01-01T00:00:00Z"}`)
		ctx := userCtx("u-"+role, role)
		_, err := reg.Decide(ctx, "diabetes", pid, true, "", nil)
		want := role == access.RoleRegistrar || role == access.RoleHIMDirector
		if want != (err == nil) || !want && custodian.ErrorCode(err) != custodian.EFORBIDDEN {
			t.Errorf("registry decide by %s: %v", role, err)
		}

		svc := &roi.Service{Store: a.st}
		req, err := svc.Submit(ctx, &roi.Request{RequesterKind: roi.Patient, RequesterName: "Pat Doe", Patient: "p0",
			Purpose: "HOPERAT", Basis: roi.BasisIndividual, IdentityVerified: "driving licence", Received: time.Now(), Types: []string{"Condition"}})
		want = role == access.RoleROISpecialist || role == access.RoleHIMDirector
		if want != (err == nil) || !want && custodian.ErrorCode(err) != custodian.EFORBIDDEN {
			t.Errorf("roi submit by %s: %v", role, err)
		}
		if err != nil {
			continue
		}
		// Everyone but the desk is refused; then the desk denies it.
		others := slices.DeleteFunc(userRoles(), func(r string) bool { return r == access.RoleROISpecialist || r == access.RoleHIMDirector })
		for _, other := range append(others, role) {
			_, err := svc.Deny(userCtx("u-"+other, other), req.ID, "no such records")
			if w := other == role; w != (err == nil) || !w && custodian.ErrorCode(err) != custodian.EFORBIDDEN {
				t.Errorf("roi deny by %s: %v", other, err)
			}
		}
	}
}
