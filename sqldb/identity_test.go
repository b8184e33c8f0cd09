package sqldb_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

var feedActor = &custodian.Actor{ID: "feed:test", Kind: "system"}

func asFeed() context.Context {
	return custodian.NewContextWithActor(context.Background(), feedActor)
}

// identityPatients writes the patients the identity lookups are tried
// on: A1 and B1, which share the identifier urn:shared|S, and V1 with a
// sensitive label; it returns their ids.
func identityPatients(t *testing.T, st *store.Store) (a, b, v string) {
	t.Helper()
	a = create(t, st, "Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"A1"},{"system":"urn:shared","value":"S"}]}`)
	b = create(t, st, "Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"B1"},{"system":"urn:shared","value":"S"}]}`)
	v = create(t, st, "Patient", `{"resourceType":"Patient","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"CEL"}]},"identifier":[{"system":"urn:mrn","value":"V1"}]}`)
	return a, b, v
}

// TestIdentify checks the identity lookup against what a search finds.
func TestIdentify(t *testing.T) {
	_, st := open(t)
	a := create(t, st, "Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"A1"},{"system":"urn:shared","value":"S"}]}`)
	b := create(t, st, "Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"B1"},{"system":"urn:shared","value":"S"}]}`)
	gone := create(t, st, "Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"C1"}]}`)
	if _, err := st.Delete(as("ana", "clinician"), "Patient", gone, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	create(t, st, "Practitioner", `{"resourceType":"Practitioner","identifier":[{"system":"urn:mrn","value":"A1"}]}`)
	tests := []struct {
		criteria string
		want     []string
	}{
		{"identifier=urn:mrn|A1", []string{a}},
		{"identifier=urn:mrn%7CB1", []string{b}},
		{"identifier=A1", []string{a}}, // any system
		{"identifier=urn:mrn|C1", nil}, // deleted
		{"identifier=urn:other|A1", nil},
		{"identifier=urn:shared|S", []string{a, b}},
	}
	for _, tc := range tests {
		found, err := st.Identify(asFeed(), "Patient", tc.criteria)
		if err != nil {
			t.Fatalf("%s: %v", tc.criteria, err)
		}
		var got []string
		for _, r := range found {
			got = append(got, r.ID)
			if r.Type != "Patient" || r.VersionID != 1 || r.Compartment != r.ID || r.Body != nil {
				t.Errorf("%s: found %+v", tc.criteria, r)
			}
		}
		if !sameSet(got, tc.want) {
			t.Errorf("%s: found %v, want %v", tc.criteria, got, tc.want)
		}
	}
	if _, err := st.Identify(as("ana", "clinician"), "Patient", "identifier=urn:mrn|A1"); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("a user's lookup: %v, want EFORBIDDEN", err)
	}
	for _, criteria := range []string{"name=Smith", "identifier=urn:mrn|A1,urn:mrn|B1", "identifier:not=urn:mrn|A1", "identifier=urn:mrn|"} {
		if _, err := st.Identify(asFeed(), "Patient", criteria); custodian.ErrorCode(err) != custodian.EINVALID {
			t.Errorf("%s: %v, want EINVALID", criteria, err)
		}
	}
}

// TestIdentifyMany checks lookups answered together (cut into statements
// of 32, 16, … parts), in a read and in a write, against one at a time.
func TestIdentifyMany(t *testing.T) {
	db, st := open(t)
	ctx := context.Background()
	var qs []store.IdentityQuery
	var want []string // the id each lookup finds; "" none, "2" two
	for i := range 45 {
		v := strconv.Itoa(i)
		switch i % 3 {
		case 0:
			want = append(want, create(t, st, "Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"`+v+`"}]}`))
		case 1:
			want = append(want, "")
		default:
			create(t, st, "Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"`+v+`"}]}`)
			create(t, st, "Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"`+v+`"}]}`)
			want = append(want, "2")
		}
		cl, err := st.ParseQueryString("Patient", "identifier=urn:mrn|"+v)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, store.IdentityQuery{Type: "Patient", Clause: cl.Clauses[0]})
	}
	check := func(where string, found [][]*store.Resource) {
		t.Helper()
		if len(found) != len(want) {
			t.Fatalf("%s: %d answers for %d lookups", where, len(found), len(want))
		}
		for i, f := range found {
			got := ""
			switch {
			case len(f) == 1:
				got = f[0].ID
			case len(f) > 1:
				got = strconv.Itoa(len(f))
			}
			if got != want[i] {
				t.Errorf("%s: lookup %d found %q, want %q", where, i, got, want[i])
			}
		}
	}
	err := db.Read(ctx, func(rd store.Reader) error {
		found, err := rd.(store.IdentityReader).Identify(ctx, qs)
		if err != nil {
			return err
		}
		check("read", found)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(tx store.Tx) error {
		found, err := tx.(store.IdentityReader).Identify(ctx, qs)
		if err != nil {
			return err
		}
		check("write", found)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFindEach checks that FindEach answers as FindOne does for each
// request, with one audit record naming what the identities read.
func TestFindEach(t *testing.T) {
	db, st := open(t)
	a, _, v := identityPatients(t, st)
	enc := create(t, st, "Encounter", `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"identifier":[{"system":"urn:visit","value":"E1"}],"subject":{"reference":"Patient/`+a+`"}}`)
	requests := []string{"Patient?identifier=urn:mrn|A1", "Patient?identifier=urn:shared|S", "Patient?identifier=urn:mrn|V1",
		"Encounter?identifier=urn:visit|E1", "Patient?identifier=urn:mrn|Z9", "Patient?identifier=urn:mrn|B1&gender=unknown"}
	tests := []struct {
		ctx  context.Context
		want []string
	}{
		{as("ana", "clinician"), []string{a, "", v, enc, "", ""}},
		{as("cal", "coder"), []string{a, "", "", enc, "", ""}},
	}
	for _, tc := range tests {
		actor := custodian.ActorFromContext(tc.ctx).ID
		got, err := st.FindEach(tc.ctx, requests)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range got {
			if id, _ := m["id"].(string); id != tc.want[i] {
				t.Errorf("%s, %s: found %q, want %q", actor, requests[i], id, tc.want[i])
			}
		}
		entries, err := db.FindAudit(context.Background(), audit.Filter{Actor: actor, Action: audit.ActionSearch})
		if err != nil {
			t.Fatal(err)
		}
		var reads []*audit.Entry
		for _, e := range entries {
			if strings.Contains(e.Query, "identities") {
				reads = append(reads, e)
			}
		}
		if len(reads) != 1 {
			t.Fatalf("%s: %d audit records of the identities read, want 1", actor, len(reads))
		}
		var wantRead []string
		for _, id := range tc.want[:4] {
			if id == enc {
				wantRead = append(wantRead, "Encounter/"+id)
			} else if id != "" {
				wantRead = append(wantRead, "Patient/"+id)
			}
		}
		if !sameSet(reads[0].Resources, wantRead) || !slices.Contains(reads[0].Patients, a) {
			t.Errorf("%s: audit record names %v and patients %v, want %v", actor, reads[0].Resources, reads[0].Patients, wantRead)
		}
	}
}

// feedEntries are the entries of an admission as a feed writes them:
// the patient and visit updated conditionally on their identifiers, the
// attending practitioner created if absent, and the message's receipt
// under an id of its own.
func feedEntries(phone string) []store.Entry {
	return []store.Entry{
		{Method: store.MethodUpdate, URL: "Patient?identifier=urn:mrn|M1", FullURL: "urn:uuid:p",
			Resource: map[string]any{"resourceType": "Patient", "identifier": []any{map[string]any{"system": "urn:mrn", "value": "M1"}},
				"telecom": []any{map[string]any{"system": "phone", "value": phone}}}},
		{Method: store.MethodCreate, URL: "Practitioner", FullURL: "urn:uuid:d", IfNoneExist: "identifier=urn:npi|D1",
			Resource: map[string]any{"resourceType": "Practitioner", "identifier": []any{map[string]any{"system": "urn:npi", "value": "D1"}}}},
		{Method: store.MethodUpdate, URL: "Encounter?identifier=urn:visit|V1", FullURL: "urn:uuid:e",
			Resource: map[string]any{"resourceType": "Encounter", "status": "in-progress",
				"identifier":  []any{map[string]any{"system": "urn:visit", "value": "V1"}},
				"class":       map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
				"subject":     map[string]any{"reference": "urn:uuid:p"},
				"participant": []any{map[string]any{"individual": map[string]any{"reference": "urn:uuid:d"}}}}},
		{Method: store.MethodUpdate, URL: "Basic/receipt-" + phone, Resource: map[string]any{"resourceType": "Basic", "id": "receipt-" + phone,
			"code":    map[string]any{"coding": []any{map[string]any{"system": "urn:feed", "code": "message"}}},
			"subject": map[string]any{"reference": "urn:uuid:p"}}},
	}
}

// TestTransactionResolved checks that a transaction whose identities are
// resolved before its write stores what Transaction would, also when the
// store changes between the lookup and the write.
func TestTransactionResolved(t *testing.T) {
	const other = `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"M1"}],"gender":"other"}`
	tests := []struct {
		name string
		// before runs once the store holds the first admission; between
		// runs after the second admission's lookup, before its write.
		before, between func(t *testing.T, st *store.Store)
		wantCode        string // of the second admission; "" for success
		patients        int    // Patients with the MRN afterwards
		newPatient      bool   // the second admission makes a new patient
		// writes is how many times the second admission writes: 1 when
		// the identities resolved before hold, 2 when it is done again
		// by Transaction.
		writes int
	}{
		{name: "nothing changes", patients: 1, writes: 1},
		{name: "the patient is deleted before", patients: 1, newPatient: true, writes: 1,
			before: func(t *testing.T, st *store.Store) { deleteOne(t, st, "Patient", "identifier=urn:mrn|M1") }},
		{name: "the patient is deleted in between", patients: 1, newPatient: true, writes: 2,
			between: func(t *testing.T, st *store.Store) { deleteOne(t, st, "Patient", "identifier=urn:mrn|M1") }},
		{name: "a second patient appears in between", wantCode: custodian.EPRECONDITION, patients: 2, writes: 2,
			between: func(t *testing.T, st *store.Store) { create(t, st, "Patient", other) }},
		{name: "the patient is there twice before", wantCode: custodian.EPRECONDITION, patients: 2, writes: 2,
			before: func(t *testing.T, st *store.Store) { create(t, st, "Patient", other) }},
		{name: "the practitioner is deleted in between", patients: 1, writes: 2,
			between: func(t *testing.T, st *store.Store) { deleteOne(t, st, "Practitioner", "identifier=urn:npi|D1") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := asFeed()
			h := &countedDB{hookedDB: &hookedDB{DB: sqldbtest.Open(t)}}
			st := sqldbtest.NewStore(t, h)
			st.Guard = guard{}
			outs, err := st.TransactionResolved(ctx, feedEntries("555"))
			if err != nil {
				t.Fatal(err)
			}
			for i, out := range outs {
				if out == nil || !out.Created || out.Resource.VersionID != 1 {
					t.Fatalf("first admission, entry %d: %+v", i, out)
				}
			}
			pat, prac := outs[0].Resource.Ref(), outs[1].Resource.Ref()
			if h.writes != 1 {
				t.Errorf("the first admission wrote %d times, want once", h.writes)
			}
			enc := decodeOut(t, outs[2])
			if enc["subject"].(map[string]any)["reference"] != pat ||
				enc["participant"].([]any)[0].(map[string]any)["individual"].(map[string]any)["reference"] != prac {
				t.Errorf("first admission's encounter %v, want references to %s and %s", enc, pat, prac)
			}
			if tc.before != nil {
				tc.before(t, st)
			}
			between := 0
			if tc.between != nil {
				h.after = func() {
					n := h.writes
					tc.between(t, st)
					between = h.writes - n
				}
			}
			h.writes = 0
			outs, err = st.TransactionResolved(ctx, feedEntries("556"))
			if h.after != nil {
				t.Fatal("the transaction did not read before its write")
			}
			if n := h.writes - between; n != tc.writes {
				t.Errorf("the second admission wrote %d times, want %d", n, tc.writes)
			}
			if n := len(search1(t, st, "Patient", "identifier=urn:mrn|M1")); n != tc.patients {
				t.Errorf("%d patients with the MRN, want %d", n, tc.patients)
			}
			if n := len(search1(t, st, "Practitioner", "identifier=urn:npi|D1")); n != 1 {
				t.Errorf("%d practitioners, want 1", n)
			}
			if n := len(search1(t, st, "Encounter", "identifier=urn:visit|V1")); n != 1 {
				t.Errorf("%d encounters, want 1", n)
			}
			if tc.wantCode != "" {
				if custodian.ErrorCode(err) != tc.wantCode {
					t.Fatalf("error %v, want %s", err, tc.wantCode)
				}
				if n := len(search1(t, st, "Basic", "code=urn:feed|message")); n != 1 {
					t.Errorf("%d receipts after a refused admission, want 1", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// What Transaction would have stored: the one patient with the
			// MRN, at its next version, and the visit and receipt
			// pointing at it.
			found := search1(t, st, "Patient", "identifier=urn:mrn|M1")
			p := found[0]
			if (p.Ref() != pat) != tc.newPatient {
				t.Errorf("the patient is %s, the first admission's %s: want a new one %v", p.Ref(), pat, tc.newPatient)
			}
			if outs[0].Resource.Ref() != p.Ref() || outs[0].Resource.VersionID != p.VersionID {
				t.Errorf("patient outcome %s version %d, stored %s version %d", outs[0].Resource.Ref(), outs[0].Resource.VersionID, p.Ref(), p.VersionID)
			}
			if pr := search1(t, st, "Practitioner", "identifier=urn:npi|D1")[0]; outs[1].Resource.Ref() != pr.Ref() {
				t.Errorf("practitioner outcome %s, stored %s", outs[1].Resource.Ref(), pr.Ref())
			}
			enc = decodeOut(t, outs[2])
			if enc["subject"].(map[string]any)["reference"] != p.Ref() {
				t.Errorf("second admission's encounter refers to %v, want %s", enc["subject"], p.Ref())
			}
			if !outs[3].Created || outs[3].Resource.ID != "receipt-556" {
				t.Errorf("receipt outcome %+v", outs[3])
			}
			if r := decodeOut(t, outs[3]); r["subject"].(map[string]any)["reference"] != p.Ref() {
				t.Errorf("receipt refers to %v, want %s", r["subject"], p.Ref())
			}
			// Again: nothing changes, nothing is written.
			outs, err = st.TransactionResolved(ctx, feedEntries("556"))
			if err != nil {
				t.Fatal(err)
			}
			if !outs[0].Unchanged || !outs[2].Unchanged || !outs[3].Unchanged || outs[1].Created {
				t.Errorf("a replay wrote: %+v %+v %+v %+v", outs[0], outs[1], outs[2], outs[3])
			}
		})
	}
}

// TestTransactionResolvedReceiptRace checks that an update that was to
// create its resource, which another write creates between the lookup and
// the write, becomes an update of it.
func TestTransactionResolvedReceiptRace(t *testing.T) {
	ctx := asFeed()
	h := &hookedDB{DB: sqldbtest.Open(t)}
	st := sqldbtest.NewStore(t, h)
	h.after = func() {
		if _, err := st.Update(ctx, "Basic", "receipt-555", []byte(`{"resourceType":"Basic","id":"receipt-555","code":{"text":"first"}}`), store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	outs, err := st.TransactionResolved(ctx, feedEntries("555"))
	if err != nil {
		t.Fatal(err)
	}
	if outs[3].Created || outs[3].Resource.VersionID != 2 {
		t.Errorf("receipt outcome %+v, want version 2 of the one made in between", outs[3])
	}
}

// countedDB counts the writes that reach the database.
type countedDB struct {
	*hookedDB
	writes int
}

func (c *countedDB) Write(ctx context.Context, fn func(store.Tx) error) error {
	c.writes++
	return c.hookedDB.Write(ctx, fn)
}

func decodeOut(t *testing.T, out *store.Outcome) map[string]any {
	t.Helper()
	m, err := store.Decode(out.Resource.Body)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func search1(t *testing.T, st *store.Store, typ, criteria string) []*store.Resource {
	t.Helper()
	q, err := st.ParseQueryString(typ, criteria)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.Search(as("ana", "clinician"), q)
	if err != nil {
		t.Fatal(err)
	}
	return page.Resources
}

func deleteOne(t *testing.T, st *store.Store, typ, criteria string) {
	t.Helper()
	for _, r := range search1(t, st, typ, criteria) {
		if _, err := st.Delete(as("ana", "clinician"), typ, r.ID, store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFindOne checks FindOne through the identity lookup: the one match,
// none when two match, and a sensitive resource only for who may see it.
func TestFindOne(t *testing.T) {
	_, st := open(t)
	a, _, v := identityPatients(t, st)
	tests := []struct {
		ctx      context.Context
		criteria string
		want     string // "" for nil
	}{
		{as("ana", "clinician"), "identifier=urn:mrn|A1", a},
		{as("cal", "coder"), "identifier=urn:mrn|A1", a},
		{as("ana", "clinician"), "identifier=urn:shared|S", ""},
		{as("ana", "clinician"), "identifier=urn:mrn|Z9", ""},
		{as("ana", "clinician"), "identifier=urn:mrn|V1", v},
		{as("cal", "coder"), "identifier=urn:mrn|V1", ""},
		{asFeed(), "identifier=urn:mrn|V1", v},
		{as("ana", "clinician"), "identifier=urn:mrn|A1&gender=unknown", ""}, // not an identity: searched
		{as("ana", "clinician"), "identifier=urn:mrn|A1&_id=" + a, a},
	}
	for _, tc := range tests {
		got, err := st.FindOne(tc.ctx, "Patient", tc.criteria)
		if err != nil {
			t.Fatalf("%s: %v", tc.criteria, err)
		}
		if id, _ := got["id"].(string); id != tc.want {
			t.Errorf("%s as %s: found %q, want %q", tc.criteria, custodian.ActorFromContext(tc.ctx).ID, id, tc.want)
		}
	}
}

// BenchmarkIdentify reads 96 identities (a third stored, a third not, a
// third receipts by id) in one read, together or one at a time.
//
//	go test -run XXX -bench Identify ./sqldb
func BenchmarkIdentify(b *testing.B) {
	db, st := openBench(b)
	ctx := context.Background()
	var qs []store.IdentityQuery
	for i := range 96 {
		v := strconv.Itoa(i)
		var q *store.Query
		var err error
		switch i % 3 {
		case 0:
			if _, err := st.Create(as("ana", "clinician"), "Patient", []byte(`{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"`+v+`"}]}`), store.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
			q, err = st.ParseQueryString("Patient", "identifier=urn:mrn|"+v)
		case 1:
			q, err = st.ParseQueryString("Encounter", "identifier=urn:visit|"+v)
		default:
			q, err = st.ParseQueryString("Basic", "_id=r"+v)
		}
		if err != nil {
			b.Fatal(err)
		}
		qs = append(qs, store.IdentityQuery{Type: q.Types[0], Clause: q.Clauses[0]})
	}
	for _, together := range []bool{true, false} {
		b.Run("together="+strconv.FormatBool(together), func(b *testing.B) {
			for b.Loop() {
				err := db.Read(ctx, func(rd store.Reader) error {
					ir := rd.(store.IdentityReader)
					if together {
						_, err := ir.Identify(ctx, qs)
						return err
					}
					for i := range qs {
						if _, err := ir.Identify(ctx, qs[i:i+1]); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
