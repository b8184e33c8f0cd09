package fhirapi

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// bundle handles POST /fhir: a transaction or a batch Bundle.
func (h *Handler) bundle(w http.ResponseWriter, r *http.Request) error {
	body, _, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	// Decoding a Bundle is the first part of preparing its transaction:
	// it takes its turn on the cores with the rest (store.CoreGate), once
	// the body is read.
	ctx, endTurn, err := h.Store.Preparing(r.Context())
	if err != nil {
		return err
	}
	defer endTurn()
	b, err := store.Decode(body)
	if err != nil {
		return err
	}
	if rt, _ := b["resourceType"].(string); rt != "Bundle" {
		return custodian.Errorf(custodian.EINVALID, "POST to the base takes a Bundle of type transaction or batch")
	}
	entries, _ := b["entry"].([]any)
	switch t, _ := b["type"].(string); t {
	case "transaction":
		return h.transaction(w, r.WithContext(ctx), entries)
	case "batch":
		endTurn() // a batch's entries are written one by one
		return h.batch(w, r, entries)
	default:
		return custodian.Errorf(custodian.EINVALID, "Bundle.type must be transaction or batch to be processed, not %q", t)
	}
}

// bundleEntry is the request part of one Bundle entry.
type bundleEntry struct {
	method, url, fullURL         string
	resource                     map[string]any
	ifMatch, ifNoneExist         string
	ifNoneMatch, ifModifiedSince string
}

func readEntry(i int, e any) (*bundleEntry, error) {
	m, ok := e.(map[string]any)
	if !ok {
		return nil, custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d] is not an object", i)
	}
	req, _ := m["request"].(map[string]any)
	if req == nil {
		return nil, custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d] has no request", i)
	}
	be := &bundleEntry{}
	be.method, _ = req["method"].(string)
	be.url, _ = req["url"].(string)
	be.fullURL, _ = m["fullUrl"].(string)
	be.resource, _ = m["resource"].(map[string]any)
	be.ifMatch, _ = req["ifMatch"].(string)
	be.ifNoneExist, _ = req["ifNoneExist"].(string)
	be.ifNoneMatch, _ = req["ifNoneMatch"].(string)
	be.ifModifiedSince, _ = req["ifModifiedSince"].(string)
	if be.method == "" || be.url == "" {
		return nil, custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d].request needs a method and a url", i)
	}
	be.url = strings.TrimPrefix(be.url, "/")
	return be, nil
}

func (h *Handler) transaction(w http.ResponseWriter, r *http.Request, raw []any) error {
	var writes []store.Entry
	var writeIdx, readIdx []int
	entries := make([]*bundleEntry, len(raw))
	for i, e := range raw {
		be, err := readEntry(i, e)
		if err != nil {
			return err
		}
		entries[i] = be
		switch be.method {
		case "GET", "HEAD":
			readIdx = append(readIdx, i)
			continue
		case "POST", "PUT", "DELETE", "PATCH":
		default:
			return custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d].request.method %q is not an HTTP method FHIR uses", i, be.method)
		}
		se := store.Entry{Method: store.Method(be.method), URL: be.url, FullURL: be.fullURL, Resource: be.resource, IfNoneExist: be.ifNoneExist}
		if be.ifMatch != "" {
			v, err := parseETag(be.ifMatch)
			if err != nil {
				return err
			}
			se.IfMatch = v
		}
		if be.method == "PATCH" {
			p, err := binaryPatch(be.resource)
			if err != nil {
				return custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d]: %s", i, custodian.ErrorMessage(err))
			}
			se.Patch, se.Resource = p, nil
		}
		writes = append(writes, se)
		writeIdx = append(writeIdx, i)
	}
	outs, err := h.Store.Transaction(r.Context(), writes)
	if err != nil {
		return err
	}
	resp := make([][]member, len(raw))
	base, minimal := h.base(r), prefer(r) == "minimal"
	for k, out := range outs {
		resp[writeIdx[k]] = writeEntry(base, minimal, writes[k].Method, out)
	}
	// Reads come after the writes, and see them.
	for _, i := range readIdx {
		resp[i] = h.dispatchEntry(r, entries[i])
	}
	bw := newBundle("transaction-response", -1, nil)
	size := 0
	for _, m := range resp {
		for _, mb := range m {
			size += len(mb.name) + len(mb.raw) + 4
		}
	}
	bw.grow(size + 4*len(resp))
	for _, m := range resp {
		bw.add(m...)
	}
	writeRaw(w, http.StatusOK, bw.bytes())
	return nil
}

// binaryPatch takes the JSON Patch document out of a Binary resource, the
// way a transaction carries a PATCH.
func binaryPatch(res map[string]any) ([]byte, error) {
	if rt, _ := res["resourceType"].(string); rt != "Binary" {
		return nil, custodian.Errorf(custodian.EINVALID, "a PATCH entry carries a Binary resource with the JSON Patch document")
	}
	data, _ := res["data"].(string)
	p, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(p) == 0 {
		return nil, custodian.Errorf(custodian.EINVALID, "the Binary of a PATCH entry has no base64 data")
	}
	return p, nil
}

// writeEntry renders the response of one write of a transaction, under
// the service base; minimal leaves the resource out (Prefer:
// return=minimal).
func writeEntry(base string, minimal bool, m store.Method, out *store.Outcome) []member {
	status := "200 OK"
	if out.Created {
		status = "201 Created"
	}
	if out.Resource == nil {
		return []member{obj("response", map[string]any{"status": "204 No Content"})}
	}
	res := out.Resource
	// The response object written directly, its members in the order
	// Encode gives them (by name): one per entry of a large Bundle.
	resp := make([]byte, 0, 160)
	resp = append(resp, `{"etag":`...)
	resp = appendJSONString(resp, res.ETag())
	resp = append(resp, `,"lastModified":`...)
	resp = appendJSONString(resp, store.FormatInstant(res.LastUpdated))
	if m != store.MethodDelete {
		resp = append(resp, `,"location":`...)
		resp = appendJSONString(resp, res.Ref()+"/_history/"+strconv.FormatInt(res.VersionID, 10))
	}
	resp = append(resp, `,"status":`...)
	resp = appendJSONString(resp, status)
	resp = append(resp, '}')
	var body []byte
	if !res.Deleted && !minimal {
		body = res.Body
	}
	return []member{str("fullUrl", base+"/"+res.Ref()), raw("resource", body), raw("response", resp)}
}

func (h *Handler) batch(w http.ResponseWriter, r *http.Request, raw []any) error {
	bw := newBundle("batch-response", -1, nil)
	for i, e := range raw {
		be, err := readEntry(i, e)
		if err != nil {
			bw.add(errorEntry(err)...)
			continue
		}
		bw.add(h.dispatchEntry(r, be)...)
	}
	writeRaw(w, http.StatusOK, bw.bytes())
	return nil
}

func errorEntry(err error) []member {
	status := statusFor(err)
	return []member{obj("response", map[string]any{
		"status":  strconv.Itoa(status) + " " + http.StatusText(status),
		"outcome": outcome(err),
	})}
}

// dispatchEntry runs one entry as its own request through the API's routes
// and turns the answer into a response entry.
func (h *Handler) dispatchEntry(parent *http.Request, be *bundleEntry) []member {
	if be.url == "" || strings.HasPrefix(be.url, "?") {
		return errorEntry(custodian.Errorf(custodian.EINVALID, "a bundle inside a bundle is not processed"))
	}
	var body []byte
	ct := "application/fhir+json"
	if be.resource != nil {
		if be.method == "PATCH" {
			p, err := binaryPatch(be.resource)
			if err != nil {
				return errorEntry(err)
			}
			body, ct = p, "application/json-patch+json"
		} else {
			var err error
			if body, err = store.Encode(be.resource); err != nil {
				return errorEntry(err)
			}
		}
	}
	req, err := http.NewRequestWithContext(parent.Context(), be.method, "/fhir/"+be.url, bytes.NewReader(body))
	if err != nil {
		return errorEntry(custodian.Errorf(custodian.EINVALID, "request.url %q cannot be read", be.url))
	}
	req.Host = parent.Host
	req.TLS = parent.TLS
	req.RemoteAddr = parent.RemoteAddr
	req.Header.Set("Content-Type", ct)
	for k, v := range map[string]string{"If-Match": be.ifMatch, "If-None-Exist": be.ifNoneExist, "If-None-Match": be.ifNoneMatch, "If-Modified-Since": be.ifModifiedSince} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	for _, p := range parent.Header.Values("Prefer") {
		req.Header.Add("Prefer", p)
	}
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	resp := map[string]any{"status": strconv.Itoa(rec.status) + " " + http.StatusText(rec.status)}
	for hk, fk := range map[string]string{"Location": "location", "ETag": "etag"} {
		if v := rec.header.Get(hk); v != "" {
			resp[fk] = strings.TrimPrefix(v, h.base(parent)+"/")
		}
	}
	var resource []byte
	if rec.status >= 400 {
		if oo, err := store.Decode(rec.body.Bytes()); err == nil {
			resp["outcome"] = oo
		}
	} else if rec.body.Len() > 0 {
		resource = rec.body.Bytes()
	}
	return []member{raw("resource", resource), obj("response", resp)}
}

// recorder captures the answer of a dispatched entry.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (rc *recorder) Header() http.Header         { return rc.header }
func (rc *recorder) Write(b []byte) (int, error) { return rc.body.Write(b) }
func (rc *recorder) WriteHeader(status int)      { rc.status = status }
