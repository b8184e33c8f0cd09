package fhirapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/blob"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

type binaryServer struct {
	*client
	blobDir string
}

func newBinaryServer(tb testing.TB, inlineMax int64) *binaryServer {
	tb.Helper()
	newServer(tb) // loads the search registry
	ctx := context.Background()
	db := sqldbtest.Open(tb)
	if err := db.RegisterParams(ctx, registry.Indexed()); err != nil {
		tb.Fatal(err)
	}
	st := store.New(db, fhir.R4(), registry)
	st.AuditLog = db
	dir := filepath.Join(tb.TempDir(), "blobs")
	blobs, err := blob.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	b := &fhirapi.Binaries{Store: st, Blobs: blobs, InlineMax: inlineMax}
	h := (&fhirapi.Handler{Store: st, Types: fhir.R4().ResourceTypes(), Operations: b.Operations()}).Init()
	api := b.Wrap(h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(r.Context(), testActor)))
	}))
	tb.Cleanup(srv.Close)
	return &binaryServer{client: &client{tb: tb, base: srv.URL, http: srv.Client()}, blobDir: dir}
}

// raw sends a request with a raw body and returns status, headers, body.
func (c *client) raw(method, path string, body io.Reader, headers ...string) (int, http.Header, []byte) {
	c.tb.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.tb.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, resp.Header, nil
	}
	return resp.StatusCode, resp.Header, b
}

func hexSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestBinary(t *testing.T) {
	s := newBinaryServer(t, 64)
	pdf := []byte("%PDF-1.4\n" + strings.Repeat("discharge summary page\n", 50))

	st, hd, body := s.raw("POST", "/fhir/Binary", bytes.NewReader(pdf), "Content-Type", "application/pdf", "X-Security-Context", "Patient/p1")
	if st != 201 {
		t.Fatalf("POST raw: %d %s", st, body)
	}
	loc := hd.Get("Location")
	id := strings.Split(strings.TrimPrefix(loc, s.base+"/fhir/Binary/"), "/")[0]
	if !strings.Contains(string(body), hexSHA(pdf)) || strings.Contains(string(body), `"data"`) ||
		!strings.Contains(string(body), `"contentType":"application/pdf"`) || !strings.Contains(string(body), `"securityContext":{"reference":"Patient/p1"}`) {
		t.Errorf("stored Binary: %s", body)
	}

	t.Run("content", func(t *testing.T) {
		st, hd, got := s.raw("GET", "/fhir/Binary/"+id, nil, "Accept", "application/pdf")
		if st != 200 || !bytes.Equal(got, pdf) || hd.Get("Content-Type") != "application/pdf" || hd.Get("ETag") == "" ||
			hd.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(hd.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("GET content: %d %v %d bytes", st, hd, len(got))
		}
		st, hd, got = s.raw("GET", "/fhir/Binary/"+id, nil, "Range", "bytes=5-14")
		if st != 206 || string(got) != string(pdf[5:15]) || hd.Get("Content-Range") != "bytes 5-14/"+strconv.Itoa(len(pdf)) {
			t.Errorf("range: %d %q %v", st, got, hd)
		}
		st, _, _ = s.raw("HEAD", "/fhir/Binary/"+id, nil)
		if st != 200 {
			t.Errorf("HEAD: %d", st)
		}
	})

	t.Run("resource", func(t *testing.T) {
		// Larger than InlineMax (64 bytes): no data, a link to the content.
		got := s.do("GET", "/fhir/Binary/"+id, "", "Accept", "application/fhir+json").must(t, 200)
		if got.str("data") != "" || got.str("contentType") != "application/pdf" || !strings.Contains(got.header.Get("Link"), "/fhir/Binary/"+id) {
			t.Errorf("large Binary as JSON: %v %s", got.header, got.raw)
		}
		// Small: inline.
		st, hd, _ := s.raw("POST", "/fhir/Binary", strings.NewReader("tiny"), "Content-Type", "text/plain")
		if st != 201 {
			t.Fatal(st)
		}
		small := strings.Split(strings.TrimPrefix(hd.Get("Location"), s.base+"/fhir/Binary/"), "/")[0]
		got = s.do("GET", "/fhir/Binary/"+small, "", "Accept", "application/fhir+json").must(t, 200)
		if got.str("data") != base64.StdEncoding.EncodeToString([]byte("tiny")) {
			t.Errorf("small Binary as JSON: %s", got.raw)
		}
		// The generic read with _summary still works.
		s.do("GET", "/fhir/Binary/"+small+"?_format=json&_summary=true", "").must(t, 200)
		// vread goes to the generic route.
		s.do("GET", "/fhir/Binary/"+small+"/_history/1", "").must(t, 200)
	})

	t.Run("FHIR JSON with data", func(t *testing.T) {
		content := bytes.Repeat([]byte{0, 1, 2, 250}, 1000)
		body := `{"resourceType":"Binary","contentType":"image/png","data":"` + base64.StdEncoding.EncodeToString(content) + `"}`
		got := s.do("POST", "/fhir/Binary", body).must(t, 201)
		if got.str("data") != "" || !strings.Contains(string(got.raw), hexSHA(content)) {
			t.Errorf("data not moved to a blob: %.300s", got.raw)
		}
		nid := got.str("id")
		st, hd, raw := s.raw("GET", "/fhir/Binary/"+nid, nil)
		if st != 200 || !bytes.Equal(raw, content) || hd.Get("Content-Type") != "image/png" {
			t.Errorf("content of a JSON-posted Binary: %d %d bytes", st, len(raw))
		}
		// The same content again: one blob on disk.
		s.do("POST", "/fhir/Binary", body).must(t, 201)
		n := 0
		filepath.WalkDir(filepath.Join(s.blobDir, "sha256"), func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() && filepath.Base(p) == hexSHA(content) {
				n++
			}
			return nil
		})
		if n != 1 {
			t.Errorf("%d copies of the same content", n)
		}
		// Update with new raw content.
		st, _, _ = s.raw("PUT", "/fhir/Binary/"+nid, strings.NewReader("replaced"), "Content-Type", "text/plain")
		if st != 200 {
			t.Fatalf("PUT raw: %d", st)
		}
		if _, _, raw := s.raw("GET", "/fhir/Binary/"+nid, nil); string(raw) != "replaced" {
			t.Errorf("after update: %q", raw)
		}
		// A client may not name a blob itself.
		forged := `{"resourceType":"Binary","contentType":"application/pdf","meta":{"extension":[{"url":"` + fhirapi.BinaryContentExtension +
			`","extension":[{"url":"sha256","valueString":"` + hexSHA(pdf) + `"}]}]}}`
		s.do("POST", "/fhir/Binary", forged).must(t, 400)
		s.do("POST", "/fhir/Binary", `{"resourceType":"Binary","contentType":"text/plain","data":"%%%not base64"}`).must(t, 400)
	})

	t.Run("DocumentReference", func(t *testing.T) {
		doc := `{"resourceType":"DocumentReference","status":"current","content":[{"attachment":{"contentType":"application/pdf","url":"Binary/` + id + `","size":` + strconv.Itoa(len(pdf)) + `}}]}`
		got := s.do("POST", "/fhir/DocumentReference", doc).must(t, 201)
		url := got.str("content", "0", "attachment", "url")
		st, _, raw := s.raw("GET", "/fhir/"+url, nil, "Accept", "application/pdf")
		if st != 200 || !bytes.Equal(raw, pdf) {
			t.Errorf("following the attachment url: %d", st)
		}
	})

	t.Run("errors", func(t *testing.T) {
		s.raw("GET", "/fhir/Binary/nothere", nil)
		if st, _, _ := s.raw("GET", "/fhir/Binary/nothere", nil, "Accept", "image/png"); st != 404 {
			t.Errorf("absent: %d", st)
		}
		if st, _, _ := s.raw("POST", "/fhir/Binary", strings.NewReader("x")); st != 400 {
			t.Errorf("no content type: %d", st)
		}
		if st, _, _ := s.raw("GET", "/fhir/Binary/..%2f..%2fetc%2fpasswd", nil, "Accept", "text/plain"); st == 200 {
			t.Error("path traversal answered 200")
		}
	})

	t.Run("damaged content", func(t *testing.T) {
		var path string
		filepath.WalkDir(filepath.Join(s.blobDir, "sha256"), func(p string, e os.DirEntry, err error) error {
			if err == nil && filepath.Base(p) == hexSHA(pdf) {
				path = p
			}
			return nil
		})
		damaged := bytes.Clone(pdf)
		damaged[len(damaged)-2] ^= 0xff
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		// A whole read fails before its last bytes; a range is refused.
		st, _, raw := s.raw("GET", "/fhir/Binary/"+id, nil, "Accept", "application/pdf")
		if st == 200 && bytes.Equal(raw, damaged) {
			t.Error("damaged content served whole")
		}
		if st, _, _ := s.raw("GET", "/fhir/Binary/"+id, nil, "Range", "bytes=0-3"); st != 500 {
			t.Errorf("range of damaged content: %d", st)
		}
	})
}

// streamBinary uploads size generated bytes through an io.Pipe and
// downloads them again, and returns the peak heap in use seen meanwhile
// above what was in use before.
func streamBinary(tb testing.TB, s *binaryServer, size int64) (peak uint64, up, down time.Duration) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var top atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > top.Load() {
				top.Store(m.HeapInuse)
			}
		}
	}()
	pr, pw := io.Pipe()
	want := sha256.New()
	go func() {
		chunk := make([]byte, 64<<10)
		var sent int64
		for i := 0; sent < size; i++ {
			for j := range chunk {
				chunk[j] = byte(i*31 + j)
			}
			n := min(int64(len(chunk)), size-sent)
			want.Write(chunk[:n])
			if _, err := pw.Write(chunk[:n]); err != nil {
				return
			}
			sent += n
		}
		pw.Close()
	}()
	start := time.Now()
	req, _ := http.NewRequest("POST", s.base+"/fhir/Binary", pr)
	req.Header.Set("Content-Type", "application/dicom")
	resp, err := s.http.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		tb.Fatalf("upload: %d", resp.StatusCode)
	}
	up = time.Since(start)
	loc := resp.Header.Get("Location")
	id := strings.Split(strings.TrimPrefix(loc, s.base+"/fhir/Binary/"), "/")[0]
	start = time.Now()
	resp, err = s.http.Get(s.base + "/fhir/Binary/" + id)
	if err != nil {
		tb.Fatal(err)
	}
	got := sha256.New()
	n, err := io.CopyBuffer(got, resp.Body, make([]byte, 64<<10))
	resp.Body.Close()
	down = time.Since(start)
	close(stop)
	<-done
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		tb.Fatalf("download: %d of %d bytes, %v, same content %v", n, size, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
	if t := top.Load(); t > base {
		peak = t - base
	}
	return peak, up, down
}

// TestBinaryStreams sends 300 MB through the API each way and checks that
// the heap stays flat: nothing holds the content whole.
func TestBinaryStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 300 MB")
	}
	s := newBinaryServer(t, 0)
	const size = 300 << 20
	peak, up, down := streamBinary(t, s, size)
	t.Logf("300 MiB: upload %v, download %v, peak heap growth %d MiB", up, down, peak>>20)
	if peak > 48<<20 {
		t.Errorf("the heap grew by %d MiB while streaming 300 MiB", peak>>20)
	}
}

// BenchmarkBinary1GiB streams 1 GiB in and out (run with -benchtime=1x).
func BenchmarkBinary1GiB(b *testing.B) {
	s := newBinaryServer(b, 0)
	const size = 1 << 30
	for b.Loop() {
		peak, up, down := streamBinary(b, s, size)
		b.ReportMetric(float64(size>>20)/up.Seconds(), "MiB/s-up")
		b.ReportMetric(float64(size>>20)/down.Seconds(), "MiB/s-down")
		b.ReportMetric(float64(peak>>20), "MiB-peak-heap")
	}
}
