package mpi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/mpi"
)

func TestDoubleMetaphone(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, primary, alternate string }{
		{"smith", "SM0", "XMT"},
		{"schmidt", "XMT", "SMT"},
		{"catherine", "K0RN", "KTRN"},
		{"knight", "NT", "NT"},
		{"philip", "FLP", "FLP"},
		{"jose", "JS", "HS"},
		{"xavier", "SF", "SFR"},
		{"caesar", "SSR", "SSR"},
		{"", "", ""},
	}
	for _, c := range cases {
		p, a := mpi.DoubleMetaphone(c.in)
		if p != c.primary || a != c.alternate {
			t.Errorf("DoubleMetaphone(%q) = %q, %q; want %q, %q", c.in, p, a, c.primary, c.alternate)
		}
	}
}

func TestNYSIIS(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"macintosh", "MCANT"},
		{"knight", "NAGT"},
		{"mitchell", "MATCAL"},
		{"bishop", "BASAP"},
		{"", ""},
	}
	for _, c := range cases {
		if got := mpi.NYSIIS(c.in); got != c.want {
			t.Errorf("NYSIIS(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStringMetrics(t *testing.T) {
	t.Parallel()
	jw := []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.9611},
		{"dwayne", "duane", 0.84},
		{"dixon", "dicksonx", 0.8133},
		{"abc", "abc", 1},
		{"abc", "xyz", 0},
		{"", "abc", 0},
	}
	for _, c := range jw {
		if got := mpi.JaroWinkler(c.a, c.b); got < c.want-0.0005 || got > c.want+0.0005 {
			t.Errorf("JaroWinkler(%q, %q) = %.4f, want %.4f", c.a, c.b, got, c.want)
		}
	}
	dl := []struct {
		a, b string
		want int
	}{
		{"ca", "ac", 1}, {"kitten", "sitting", 3}, {"1234", "1243", 1}, {"", "abc", 3}, {"same", "same", 0},
	}
	for _, c := range dl {
		if got := mpi.DamerauLevenshtein(c.a, c.b); got != c.want {
			t.Errorf("DamerauLevenshtein(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// people is a small population for the index: each a distinct person.
func people() []mpi.Record {
	return []mpi.Record{
		{ID: "1", Given: "Robert", Family: "Okafor", Sex: "male", BirthDate: "1961-03-14", Address1: "12 Elm Street", City: "Columbus", Postcode: "43215", State: "OH", Phones: []string{"555-201-3344"}, SSN: "999-12-3456"},
		{ID: "2", Given: "Maria", Family: "Gonzalez", Sex: "female", BirthDate: "1985-11-02", Address1: "400 Oak Avenue Apt 3", City: "Dublin", Postcode: "43017", State: "OH", Phones: []string{"555-310-9988"}},
		{ID: "3", Given: "Wei", Family: "Chen", Sex: "male", BirthDate: "1990-07-21", Address1: "9 Maple Drive", City: "Delaware", Postcode: "43015", State: "OH", Phones: []string{"555-777-1212"}, SSN: "999-55-1200"},
		{ID: "4", Given: "Ann", Family: "Kowalski", Sex: "female", BirthDate: "1948-01-30", Address1: "77 Pine Road", City: "Marion", Postcode: "43302", State: "OH", Phones: []string{"555-644-0101"}},
		{ID: "5", Given: "Zoe", Family: "House", Sex: "female", BirthDate: "1977-06-14", Address1: "1689 Lincoln Avenue", City: "Columbus", Postcode: "43207", State: "OH", Phones: []string{"555-632-9218"}, SSN: "999-81-1084"},
	}
}

func TestIndexMatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ix := mpi.NewIndex(mpi.DefaultModel())
	for _, r := range people() {
		if err := ix.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		query mpi.Record
		want  string // best match id ("" for none)
		class mpi.Class
	}{
		{"nickname, accents, formats", mpi.Record{Given: "BOB", Family: "Okafor", Sex: "M", BirthDate: "19610314", Address1: "12 Elm St.", Postcode: "43215", Phones: []string{"(555) 201 3344"}, SSN: "999123456"}, "1", mpi.AutoLink},
		{"accented and typo", mpi.Record{Given: "María", Family: "Gonzales", Sex: "F", BirthDate: "1985-11-02", Address1: "400 Oak Ave", City: "Dublin", Postcode: "43017"}, "2", mpi.AutoLink},
		{"twin: other given name, other SSN", mpi.Record{Given: "Lei", Family: "Chen", Sex: "male", BirthDate: "1990-07-21", Address1: "9 Maple Drive", City: "Delaware", Postcode: "43015", Phones: []string{"555-777-1212"}, SSN: "999-55-1299"}, "3", mpi.Review},
		{"junior: birth decades apart", mpi.Record{Given: "Robert", Family: "Okafor", Suffix: "Jr.", Sex: "male", BirthDate: "1989-06-01", Address1: "12 Elm Street", City: "Columbus", Postcode: "43215", Phones: []string{"555-201-3344"}}, "1", mpi.Review},
		{"short name mistyped, SSN, phone and street agree", mpi.Record{Given: "Ze", Family: "House", Sex: "F", BirthDate: "1977-06-14", Address1: "1689 Lincoln Ave", City: "Columbus", Postcode: "43207", Phones: []string{"555-632-9218"}, SSN: "999-81-1084"}, "5", mpi.AutoLink},
		{"short name mistyped, SSN alone agrees", mpi.Record{Given: "Ze", Family: "House", Sex: "F", BirthDate: "1977-06-14", Address1: "3 Other Road", City: "Marion", Postcode: "43302", SSN: "999-81-1084"}, "5", mpi.Review},
		{"same name and birthday, nothing else", mpi.Record{Given: "Robert", Family: "Okafor", Sex: "male", BirthDate: "1961-03-14", Address1: "5 Far Lane", City: "Toledo", Postcode: "43601", Phones: []string{"555-999-0000"}}, "1", mpi.Review},
		{"a stranger", mpi.Record{Given: "Zed", Family: "Quinn", BirthDate: "2001-01-01", Postcode: "90210"}, "", mpi.NonMatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ix.MatchRecord(ctx, c.query, 0, 5)
			if err != nil {
				t.Fatal(err)
			}
			if c.want == "" {
				if len(got) != 0 {
					t.Fatalf("matched %s (p=%.3f), want nothing", got[0].ID, got[0].Probability)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("no match, want %s", c.want)
			}
			if got[0].ID != c.want || got[0].Class != c.class {
				t.Errorf("best %s %v (p=%.4f), want %s %v; evidence %+v", got[0].ID, got[0].Class, got[0].Probability, c.want, c.class, got[0].Evidence)
			}
			if len(got[0].Evidence) == 0 {
				t.Error("no evidence given")
			}
		})
	}
}

func TestIndexPutRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ix := mpi.NewIndex(mpi.DefaultModel())
	for _, r := range people() {
		if err := ix.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Put(mpi.Record{Given: "No", Family: "Id"}); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("Put without id: %v, want EINVALID", err)
	}
	q := people()[0]
	q.ID = ""
	if m, _ := ix.MatchRecord(ctx, q, 0, 0); len(m) != 1 || m[0].ID != "1" {
		t.Fatalf("before: %+v", m)
	}
	// Replacing record 1 with someone else makes the query miss it.
	if err := ix.Put(mpi.Record{ID: "1", Given: "Henrietta", Family: "Blom", BirthDate: "1930-02-02"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := ix.MatchRecord(ctx, q, 0, 0); len(m) != 0 {
		t.Errorf("after replacing: %+v, want none", m)
	}
	q2 := mpi.Record{Given: "Henrietta", Family: "Blom", BirthDate: "1930-02-02"}
	if m, _ := ix.MatchRecord(ctx, q2, 0, 0); len(m) != 1 {
		t.Errorf("the replacement is not found: %+v", m)
	}
	ix.Remove("1")
	if m, _ := ix.MatchRecord(ctx, q2, 0, 0); len(m) != 0 || ix.Len() != 4 {
		t.Errorf("after removing: %+v, %d records", m, ix.Len())
	}
	// A record never matches itself.
	self := people()[1]
	if m, _ := ix.MatchRecord(ctx, self, 0, 0); len(m) != 0 {
		t.Errorf("record matched itself: %+v", m)
	}
}

func TestReadCSV(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		csv     string
		opt     mpi.CSVOptions
		wantErr string
		check   func(t *testing.T, r []mpi.Record)
	}{
		{name: "usual names, spaces, missing values", csv: "rec_id, First_Name, LAST NAME, dob, zip\nr1, Ann, Lee, 1970-01-02, 43215\nr2, , Kim,,\n",
			check: func(t *testing.T, r []mpi.Record) {
				if len(r) != 2 || r[0].ID != "r1" || r[0].Given != "Ann" || r[0].Family != "Lee" || r[0].BirthDate != "1970-01-02" || r[0].Postcode != "43215" || r[1].Given != "" {
					t.Errorf("%+v", r)
				}
			}},
		{name: "mapping and row numbers", csv: "fn,ln,tel\nAnn,Lee,555 1234567\n", opt: mpi.CSVOptions{Map: map[string]string{"given": "fn", "family": "ln", "phone": "tel"}},
			check: func(t *testing.T, r []mpi.Record) {
				if len(r) != 1 || r[0].ID != "1" || r[0].Given != "Ann" || r[0].Phones[0] != "555 1234567" {
					t.Errorf("%+v", r)
				}
			}},
		{name: "id column", csv: "key,surname\nk1,Lee\n", opt: mpi.CSVOptions{IDColumn: "key"},
			check: func(t *testing.T, r []mpi.Record) {
				if r[0].ID != "k1" {
					t.Errorf("%+v", r)
				}
			}},
		{name: "empty", csv: "", wantErr: custodian.EINVALID},
		{name: "no usable column", csv: "foo,bar\n1,2\n", wantErr: custodian.EINVALID},
		{name: "unknown field", csv: "surname\nLee\n", opt: mpi.CSVOptions{Map: map[string]string{"shoe_size": "surname"}}, wantErr: custodian.EINVALID},
		{name: "unknown column", csv: "surname\nLee\n", opt: mpi.CSVOptions{Map: map[string]string{"given": "fn"}}, wantErr: custodian.EINVALID},
		{name: "duplicate id", csv: "id,surname\n1,Lee\n1,Kim\n", wantErr: custodian.EINVALID},
		{name: "bad quoting", csv: "id,surname\n1,\"Lee\n", wantErr: custodian.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := mpi.ReadCSV(strings.NewReader(c.csv), c.opt)
			if c.wantErr != "" {
				if custodian.ErrorCode(err) != c.wantErr {
					t.Fatalf("err %v, want %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, r)
		})
	}
}

func TestPatientRecord(t *testing.T) {
	t.Parallel()
	body := `{"resourceType":"Patient","id":"p1","identifier":[{"system":"https://x/mrn","value":"123"},{"type":{"coding":[{"code":"SS"}]},"value":"999-11-2222"}],
	"name":[{"use":"nickname","given":["Bobby"]},{"use":"official","family":"Okafor","given":["Robert","James"],"suffix":["Jr."]}],
	"telecom":[{"system":"phone","value":"555-201-3344"},{"system":"email","value":"R@X.org"},{"system":"phone","value":"555-000-1111"}],
	"gender":"male","birthDate":"1961-03-14","address":[{"use":"work","line":["1 Work Pl"]},{"use":"home","line":["12 Elm Street","Apt 2"],"city":"Columbus","state":"OH","postalCode":"43215"}]}`
	r, err := mpi.PatientRecord([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := mpi.Record{ID: "p1", Given: "Robert", Middle: "James", Family: "Okafor", Suffix: "Jr.", Sex: "male", BirthDate: "1961-03-14",
		Address1: "12 Elm Street", Address2: "Apt 2", City: "Columbus", Postcode: "43215", State: "OH",
		Phones: []string{"555-201-3344", "555-000-1111"}, Email: "R@X.org", SSN: "999-11-2222"}
	if r.ID != want.ID || r.Given != want.Given || r.Middle != want.Middle || r.Family != want.Family || r.Suffix != want.Suffix ||
		r.Address1 != want.Address1 || r.Address2 != want.Address2 || r.City != want.City || r.SSN != want.SSN || r.Email != want.Email ||
		len(r.Phones) != 2 || r.BirthDate != want.BirthDate {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
	for _, bad := range []string{`{"resourceType":"Observation"}`, `not json`} {
		if _, err := mpi.PatientRecord([]byte(bad)); custodian.ErrorCode(err) != custodian.EINVALID {
			t.Errorf("%s: %v, want EINVALID", bad, err)
		}
	}
}

func TestLinkAcrossFiles(t *testing.T) {
	t.Parallel()
	left := people()
	right := []mpi.Record{
		{ID: "a", Given: "Bob", Family: "Okafor", Sex: "M", BirthDate: "1961-03-14", Address1: "12 Elm St", Postcode: "43215", Phones: []string{"5552013344"}, SSN: "999-12-3456"},
		{ID: "b", Given: "Ann", Family: "Kowalsky", Sex: "F", BirthDate: "1948-30-01", Address1: "77 Pine Rd", City: "Marion", Postcode: "43302"},
		{ID: "1", Given: "Someone", Family: "Else", BirthDate: "1999-09-09"}, // the same id as a left record is fine
	}
	res, err := mpi.Link(context.Background(), left, right, mpi.Options{Model: mpi.DefaultModel()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range res.Pairs {
		got[p.A] = p.B
	}
	if got["1"] != "a" || got["4"] != "b" || len(res.Pairs) != 2 {
		t.Errorf("pairs %+v, want 1-a and 4-b", res.Pairs)
	}
	if _, err := mpi.Dedupe(context.Background(), append(people(), people()[0]), mpi.Options{}); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("duplicate ids: %v, want EINVALID", err)
	}
}

func TestWithinOneEdit(t *testing.T) {
	t.Parallel()
	words := []string{"", "a", "ab", "ba", "abc", "acb", "abd", "abcd", "bacd", "abdc", "xbcd", "abc", "aabc", "ca", "19610314", "19610341", "19601314"}
	for _, a := range words {
		for _, b := range words {
			want := mpi.DamerauLevenshtein(a, b) <= 1
			if got := mpi.WithinOneEdit(a, b); got != want {
				t.Errorf("WithinOneEdit(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}

func TestIndexAddAndSetModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ix := mpi.NewIndex(mpi.DefaultModel())
	newer := mpi.Record{ID: "1", Given: "Henrietta", Family: "Blom", BirthDate: "1930-02-02"}
	if err := ix.Put(newer); err != nil {
		t.Fatal(err)
	}
	// A bulk load's older copy does not replace the newer record.
	if added, err := ix.Add(people()[0]); err != nil || added {
		t.Fatalf("Add over an indexed id: %v, %v", added, err)
	}
	if m, _ := ix.MatchRecord(ctx, mpi.Record{Given: "Henrietta", Family: "Blom", BirthDate: "1930-02-02"}, 0, 0); len(m) != 1 {
		t.Errorf("the newer record was replaced: %+v", m)
	}
	if added, err := ix.Add(people()[1]); err != nil || !added || ix.Len() != 2 {
		t.Errorf("Add of a new id: %v, %v, %d records", added, err, ix.Len())
	}
	// A stricter model changes the decision for the same pair.
	strict := mpi.DefaultModel()
	strict.ReviewThreshold = 0.999999999
	strict.LinkThreshold = 0.9999999999
	q := mpi.Record{Given: "Maria", Family: "Gonzales", BirthDate: "1985-11-02"}
	before, _ := ix.MatchRecord(ctx, q, 0, 0)
	ix.SetModel(strict)
	after, _ := ix.MatchRecord(ctx, q, 0, 0)
	if len(before) != 1 || len(after) != 0 || ix.Model() != strict {
		t.Errorf("before %+v, after %+v", before, after)
	}
}

// TestIndexAddAll loads records in bulk and checks the index answers as
// one built record by record does, keeps indexed ids, and refuses a
// record without an id.
func TestIndexAddAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	one := mpi.NewIndex(mpi.DefaultModel())
	for _, r := range people() {
		if err := one.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	bulk := mpi.NewIndex(mpi.DefaultModel())
	newer := mpi.Record{ID: "1", Given: "Henrietta", Family: "Blom", BirthDate: "1930-02-02"}
	if err := bulk.Put(newer); err != nil {
		t.Fatal(err)
	}
	recs := append(people(), mpi.Record{ID: "2", Given: "Someone", Family: "Else"})
	added, err := bulk.AddAll(ctx, recs, 3)
	if err != nil || added != len(people())-1 || bulk.Len() != len(people()) {
		t.Fatalf("AddAll: %d added, %v, %d records", added, err, bulk.Len())
	}
	// Record 1 kept its newer version; put the old one back to compare.
	if err := bulk.Put(people()[0]); err != nil {
		t.Fatal(err)
	}
	// An empty index takes a faster path.
	fresh := mpi.NewIndex(mpi.DefaultModel())
	if n, err := fresh.AddAll(ctx, people(), 2); err != nil || n != len(people()) {
		t.Fatalf("AddAll into an empty index: %d, %v", n, err)
	}
	queries := people()
	for _, r := range people()[2:] {
		r.ID, r.Given = "", r.Given+"x" // a typo: the record must be found by other keys
		queries = append(queries, r)
	}
	for _, q := range queries {
		q.ID = ""
		want, _ := one.MatchRecord(ctx, q, 0, 0)
		for name, ix := range map[string]*mpi.Index{"bulk": bulk, "fresh": fresh} {
			got, _ := ix.MatchRecord(ctx, q, 0, 0)
			if diff := cmp.Diff(want, got); diff != "" || len(got) == 0 {
				t.Errorf("%s %s: %s index answers differently (-want +got):\n%s", q.Given, q.Family, name, diff)
			}
		}
	}
	if _, err := mpi.NewIndex(mpi.DefaultModel()).AddAll(ctx, []mpi.Record{{Given: "No", Family: "Id"}}, 0); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("AddAll without id: %v, want EINVALID", err)
	}
}

// TestHouseholdsAreNotCandidates checks that people who only share a
// household (a spouse: other sex and first name; a parent: other first
// name, born a generation apart) are neither linked nor queued, while
// twins and a junior, whose evidence is mixed, still go to review.
func TestHouseholdsAreNotCandidates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ix := mpi.NewIndex(mpi.DefaultModel())
	for _, r := range people() {
		if err := ix.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	home := mpi.Record{Family: "Chen", Address1: "9 Maple Drive", City: "Delaware", Postcode: "43015", State: "OH", Phones: []string{"555-777-1212"}}
	with := func(given, sex, birth, ssn string) mpi.Record {
		r := home
		r.Given, r.Sex, r.BirthDate, r.SSN = given, sex, birth, ssn
		return r
	}
	cases := []struct {
		name  string
		query mpi.Record
		want  mpi.Class // the best class among the matches for record 3
	}{
		{"spouse", with("Grace", "female", "1991-02-11", "999-55-7788"), mpi.NonMatch},
		{"spouse without SSN", with("Grace", "female", "1990-07-21", ""), mpi.NonMatch},
		{"spouse with an alike name", with("Mei", "female", "1991-02-11", ""), mpi.Review},
		{"parent", with("Jian", "male", "1962-04-02", ""), mpi.NonMatch},
		{"twin without SSN", with("Lei", "male", "1990-07-21", ""), mpi.Review},
		{"twin of the other sex", with("Lin", "female", "1990-07-21", ""), mpi.NonMatch},
		{"same SSN, sex mistyped", with("Wei", "female", "1990-07-21", "999-55-1200"), mpi.Review},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ix.MatchRecord(ctx, c.query, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			best := mpi.NonMatch
			for _, m := range got {
				if m.ID == "3" && m.Class > best {
					best = m.Class
				}
			}
			if best != c.want {
				t.Errorf("class %v, want %v (matches %+v)", best, c.want, got)
			}
		})
	}
}
