package mllp_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/ingest/mllp"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

var (
	registryOnce sync.Once
	registry     *search.Registry
)

func newStore(tb testing.TB) *store.Store { return newStoreOn(tb, sqldbtest.Open(tb)) }

func newStoreOn(tb testing.TB, db *sqldb.DB) *store.Store {
	tb.Helper()
	registryOnce.Do(func() {
		var err error
		if registry, err = search.NewR4(fhir.R4()); err != nil {
			panic(err)
		}
	})
	if err := db.RegisterParams(context.Background(), registry.Indexed()); err != nil {
		tb.Fatal(err)
	}
	return store.New(db, fhir.R4(), registry)
}

func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "hl7v2", "testdata", "messages", name+".gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var feedActor = &custodian.Actor{ID: "feed:test", Kind: "system", Roles: []string{"administrator"}}

// start runs a server on a loopback port over st.
func start(tb testing.TB, st *store.Store, tweak func(*mllp.Server)) (*mllp.Server, string) {
	tb.Helper()
	srv := &mllp.Server{
		Handler:     &mllp.StoreHandler{Store: st, Mapper: hl7v2.NewMapper(nil), Actor: feedActor},
		DeadLetters: &mllp.StoreDeadLetters{Store: st, Actor: feedActor},
	}
	if tweak != nil {
		tweak(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	tb.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	})
	return srv, ln.Addr().String()
}

type client struct {
	tb testing.TB
	c  net.Conn
	r  *bufio.Reader
}

func dial(tb testing.TB, addr string) *client {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &client{tb: tb, c: c, r: bufio.NewReader(c)}
}

func (cl *client) send(msg []byte) {
	cl.tb.Helper()
	if _, err := cl.c.Write(append(append([]byte{0x0B}, msg...), 0x1C, 0x0D)); err != nil {
		cl.tb.Fatal(err)
	}
}

func (cl *client) sendRaw(b []byte) {
	cl.tb.Helper()
	if _, err := cl.c.Write(b); err != nil {
		cl.tb.Fatal(err)
	}
}

// ack reads one answer and parses it.
func (cl *client) ack() *hl7v2.Message {
	cl.tb.Helper()
	cl.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if b, err := cl.r.ReadByte(); err != nil || b != 0x0B {
		cl.tb.Fatalf("answer start: %x %v", b, err)
	}
	body, err := cl.r.ReadBytes(0x1C)
	if err != nil {
		cl.tb.Fatal(err)
	}
	if b, err := cl.r.ReadByte(); err != nil || b != 0x0D {
		cl.tb.Fatalf("answer end: %x %v", b, err)
	}
	m, err := hl7v2.Parse(body[:len(body)-1])
	if err != nil {
		cl.tb.Fatalf("the answer does not parse: %v", err)
	}
	return m
}

func count(tb testing.TB, st *store.Store, typ, criteria string) []*store.Resource {
	tb.Helper()
	q, err := st.ParseQueryString(typ, criteria)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := st.SearchWithIncludes(custodian.NewContextWithActor(context.Background(), feedActor), q)
	if err != nil {
		tb.Fatal(err)
	}
	return res.Resources
}

func TestAcceptAndDuplicate(t *testing.T) {
	st := newStore(t)
	srv, addr := start(t, st, nil)
	cl := dial(t, addr)
	msg := sample(t, "ADT-A01-01.hl7")
	cl.send(msg)
	a := cl.ack()
	if a.MustGet("MSA-1") != "AA" || a.MustGet("MSA-2") != "MSG00001" || a.MustGet("MSH-9.2") != "A01" || a.MustGet("MSH-5") != "ADTApp" {
		t.Fatalf("answer MSA %s %s, MSH-9.2 %s", a.MustGet("MSA-1"), a.MustGet("MSA-2"), a.MustGet("MSH-9.2"))
	}
	got := count(t, st, "Basic", "code=urn:custodian:feed|hl7v2-message")
	if len(got) != 1 {
		t.Fatalf("%d message receipts", len(got))
	}
	if !strings.Contains(string(got[0].Body), base64.StdEncoding.EncodeToString(msg)) {
		t.Error("the receipt does not hold the message")
	}
	if n := len(count(t, st, "Basic", "code=http://terminology.hl7.org/CodeSystem/v2-0003|A01")); n != 1 {
		t.Errorf("%d A01 receipts", n)
	}
	if n := len(count(t, st, "Encounter", "identifier=urn:oid:1.2|40007716")); n != 1 {
		t.Errorf("%d Encounters", n)
	}
	// The same control id again (a resend after a lost answer) is answered
	// AA and not applied again, even after a later message changed things.
	cl.send(sample(t, "ADT-A03-01.hl7")) // control id MSG00001 too, a different event
	if a := cl.ack(); a.MustGet("MSA-1") != "AA" {
		t.Fatalf("A03: %s", a.MustGet("MSA-1"))
	}
	if srv.Duplicates.Load() != 1 || srv.Accepted.Load() != 1 {
		t.Errorf("accepted %d, duplicates %d; want 1, 1", srv.Accepted.Load(), srv.Duplicates.Load())
	}
	enc := count(t, st, "Encounter", "identifier=urn:oid:1.2|40007716")
	if !strings.Contains(string(enc[0].Body), `"status":"in-progress"`) {
		t.Errorf("the duplicate control id was applied: %s", enc[0].Body)
	}
}

func TestRefusedMessagesAreKept(t *testing.T) {
	st := newStore(t)
	srv, addr := start(t, st, func(s *mllp.Server) { s.MaxMessage = 64 << 10 })
	good := "MSH|^~\\&|LAB|HOSP|CUST|HIM|20260301||ORU^R01|%s|P|2.5.1\rPID|1||M%s^^^HOSP^MR\rOBR|1||F%s|X^Y^LN\rOBX|1|NM|X^Y^LN||1|mg||||F\r"
	tests := []struct {
		name   string
		frame  []byte // written as is
		code   string
		cond   string
		reason string
	}{
		{"no MSH", frameOf("PID|1||X\r"), "AR", "100", "does not begin with an MSH segment"},
		{"bad delimiters", frameOf("MSH|^^\\&|A|B|C|D|2026||ADT^A01|B1|P|2.5\r"), "AR", "102", "used twice"},
		{"missing PID-3", frameOf("MSH|^~\\&|A|B|C|D|2026||ADT^A01|B2|P|2.5\rPID|1||\r"), "AE", "101", "PID-3"},
		{"unsupported type", frameOf(string(sample(t, "ORM-O01-01.hl7"))), "AR", "200", "ORM is not supported"},
		{"unsupported version", frameOf("MSH|^~\\&|A|B|C|D|2026||ADT^A01|B3|P|2.2\r"), "AR", "203", "2.2"},
		{"wrong encoding", frameOf("MSH|^~\\&|A|B|C|D|2026||ADT^A01|B4|P|2.5\rPID|1||M1^^^H^MR||M\xfcller^Hans\r"), "AR", "102", "not valid UTF-8"},
		{"truncated frame", append([]byte("\x0bMSH|^~\\&|A|B|C|D|2026||ADT^A01|B5|P|2.5\rPID|1||M"), frameOf(fmt.Sprintf(good, "T1", "1", "1"))...), "AR", "100", "cut short"},
		{"too large", frameOf("MSH|^~\\&|A|B|C|D|2026||ADT^A01|B6|P|2.5\rNTE|1||" + strings.Repeat("x", 70<<10) + "\r"), "AR", "100", "longer than"},
	}
	cl := dial(t, addr)
	for i, tt := range tests {
		cl.sendRaw(tt.frame)
		a := cl.ack()
		if got := a.MustGet("MSA-1"); got != tt.code {
			t.Errorf("%s: %s, want %s (%s)", tt.name, got, tt.code, a.MustGet("MSA-3"))
		}
		if got := a.MustGet("ERR-3"); got != tt.cond {
			t.Errorf("%s: ERR-3 %q, want %s", tt.name, got, tt.cond)
		}
		if !strings.Contains(a.MustGet("ERR-8")+a.MustGet("MSA-3"), tt.reason) {
			t.Errorf("%s: the answer says %q / %q, want %q in it", tt.name, a.MustGet("MSA-3"), a.MustGet("ERR-8"), tt.reason)
		}
		dead := count(t, st, "Basic", "code=urn:custodian:feed|hl7v2-dead-letter")
		if len(dead) != i+1 {
			t.Fatalf("%s: %d dead letters, want %d", tt.name, len(dead), i+1)
		}
		if tt.name == "truncated frame" {
			// The message after the cut is answered on its own.
			if a := cl.ack(); a.MustGet("MSA-1") != "AA" || a.MustGet("MSA-2") != "T1" {
				t.Errorf("after the cut: %s %s", a.MustGet("MSA-1"), a.MustGet("MSA-2"))
			}
		}
	}
	dead := count(t, st, "Basic", "code=urn:custodian:feed|hl7v2-dead-letter")
	body := ""
	for _, d := range dead {
		body += string(d.Body)
	}
	if n := len(count(t, st, "Basic", "code=http://terminology.hl7.org/CodeSystem/v2-0076|ORM")); n != 1 {
		t.Errorf("%d ORM dead letters, want 1", n)
	}
	for _, want := range []string{`"valueCode":"AE"`, "PID-3", "ORM is not supported", base64.StdEncoding.EncodeToString([]byte("PID|1||X\r"))} {
		if !strings.Contains(body, want) {
			t.Errorf("no dead letter holds %q", want)
		}
	}
	if srv.Rejected.Load() != int64(len(tests)) {
		t.Errorf("rejected %d, want %d", srv.Rejected.Load(), len(tests))
	}
	// The same refused message again is the same dead letter.
	cl.sendRaw(tests[0].frame)
	cl.ack()
	if n := len(count(t, st, "Basic", "code=urn:custodian:feed|hl7v2-dead-letter")); n != len(tests) {
		t.Errorf("%d dead letters after a repeat, want %d", n, len(tests))
	}
}

func frameOf(s string) []byte { return append(append([]byte{0x0B}, s...), 0x1C, 0x0D) }

// TestPipelinedOrder sends many messages on several connections without
// waiting: each gets its answer, in order, and each patient's messages
// are applied in the order sent.
func TestPipelinedOrder(t *testing.T) {
	st := newStore(t)
	srv, addr := start(t, st, func(s *mllp.Server) { s.MaxInFlight = 4 })
	const conns, perConn = 4, 24
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := dial(t, addr)
			go func() {
				for i := range perConn {
					// Visits (an admit, then a discharge) of five
					// patients, shared by all connections.
					cl.send(adt(fmt.Sprintf("C%d-%d", c, i), fmt.Sprintf("P%d", (i/2)%5), fmt.Sprintf("V%d-%d", c, i/2), i%2 == 1))
				}
			}()
			for i := range perConn {
				a := cl.ack()
				if want := fmt.Sprintf("C%d-%d", c, i); a.MustGet("MSA-2") != want || a.MustGet("MSA-1") != "AA" {
					t.Errorf("answer %d on connection %d: %s %s, want AA %s", i, c, a.MustGet("MSA-1"), a.MustGet("MSA-2"), want)
				}
			}
		}()
	}
	wg.Wait()
	if srv.Accepted.Load() != conns*perConn {
		t.Errorf("accepted %d", srv.Accepted.Load())
	}
	// Each visit got its admit then its discharge: all are finished.
	encs := count(t, st, "Encounter", "status=in-progress")
	if len(encs) != 0 {
		t.Errorf("%d visits left in progress: a discharge was applied before its admit", len(encs))
	}
	if n := len(count(t, st, "Encounter", "status=finished&_count=1000")); n != conns*perConn/2 {
		t.Errorf("%d finished visits, want %d", n, conns*perConn/2)
	}
}

// adt builds an admit (or, with discharge, a discharge) of visit for mrn.
func adt(control, mrn, visit string, discharge bool) []byte {
	ev, end := "A01", ""
	if discharge {
		ev, end = "A03", "202603021000+0000"
	}
	pv1 := make([]string, 46)
	pv1[0], pv1[1], pv1[2], pv1[3] = "PV1", "1", "I", "W1^101^A"
	pv1[19], pv1[44], pv1[45] = visit+"^^^HOSP^VN", "202603011000+0000", end
	return []byte("MSH|^~\\&|ADT|HOSP|CUST|HIM|20260301||ADT^" + ev + "|" + control + "|P|2.5.1\r" +
		"EVN|" + ev + "|20260301\r" +
		"PID|1||" + mrn + "^^^HOSP^MR||DOE^JANE||19800101|F\r" +
		strings.Join(pv1, "|") + "\r")
}

func TestTLS(t *testing.T) {
	st := newStore(t)
	cert := selfSigned(t)
	_, addr := start(t, st, func(s *mllp.Server) { s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}} })
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl := &client{tb: t, c: c, r: bufio.NewReader(c)}
	cl.send(adt("TLS1", "PT", "VT", false))
	if a := cl.ack(); a.MustGet("MSA-1") != "AA" {
		t.Errorf("over TLS: %s", a.MustGet("MSA-1"))
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}
