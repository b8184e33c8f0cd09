package fhirapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/blob"
	"github.com/custodian-him/custodian/store"
)

// Blobs keeps attachment content by its SHA-256; package blob's Dir
// implements it.
type Blobs interface {
	Put(ctx context.Context, r io.Reader, limit int64) (blob.Info, error)
	Open(sha256 string) (*blob.Reader, error)
	Verify(sha256 string) error
}

// BinaryContentExtension marks a Binary whose content is kept as a blob,
// in meta.extension (Binary has no extension element of its own): its
// sub-extensions sha256 (valueString, hex) and size (valueDecimal, bytes).
const BinaryContentExtension = "https://custodian-him.org/fhir/StructureDefinition/binary-content"

// Defaults of Binaries.
const (
	DefaultMaxAttachment = 4 << 30 // bytes
	DefaultInlineMax     = 1 << 20 // bytes
)

// Binaries serves Binary resources whose content is kept outside the
// resource rows (attachments: scans, images, PDFs, DICOM, up to
// MaxAttachment bytes, streamed in and out):
//
//   - POST /fhir/Binary (and PUT /fhir/Binary/{id}) with a Content-Type
//     that is not FHIR JSON stores the body as a blob and the Binary
//     resource with its hash, size and content type (no data). A FHIR JSON
//     Binary with data has its data moved into a blob the same way.
//   - GET /fhir/Binary/{id} asking for anything but FHIR JSON answers the
//     content itself, with its content type and range requests; asking for
//     FHIR JSON answers the resource, with data inline when the content is
//     at most InlineMax bytes and without it (the hash and size say what
//     to fetch) when larger.
//
// DocumentReference and Media refer to the content with
// attachment.url = "Binary/{id}".
type Binaries struct {
	Store *store.Store
	Blobs Blobs
	// MaxAttachment limits an upload (DefaultMaxAttachment when 0), and
	// InlineMax the content put inline in a JSON answer (DefaultInlineMax
	// when 0).
	MaxAttachment int64
	InlineMax     int64
	// BaseURL is the API's public URL; when empty it is taken from each
	// request.
	BaseURL string
}

// Operations are the write routes: POST /fhir/Binary and
// PUT /fhir/Binary/{id}. Pass them to Handler.Operations.
func (b *Binaries) Operations() []Operation {
	return []Operation{
		{Pattern: "POST /fhir/Binary", Handle: b.create},
		{Pattern: "PUT /fhir/Binary/{id}", Handle: b.update},
	}
}

// Wrap serves GET and HEAD /fhir/Binary/{id} for non-FHIR Accept headers
// (the raw content) and passes every other request to next (the FHIR
// Handler). The read cannot be an Operation: the pattern
// GET /fhir/Binary/{id} clashes with GET /fhir/{type}/_history.
func (b *Binaries) Wrap(next http.Handler) http.Handler {
	h := &Handler{BaseURL: b.BaseURL}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, "/fhir/Binary/")
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !ok || !store.ValidID(id) {
			next.ServeHTTP(w, r)
			return
		}
		serve := b.content
		if wantsFHIR(r) {
			if q := r.URL.Query(); len(q) > 1 || (len(q) == 1 && q.Get("_format") == "") {
				next.ServeHTTP(w, r) // _summary, _elements…: the generic read
				return
			}
			serve = b.resource
		}
		if err := serve(w, r, id); err != nil {
			h.writeError(w, r, err)
		}
	})
}

// wantsFHIR reports whether a read asks for the resource rather than the
// content: _format, or an Accept naming FHIR JSON or JSON.
func wantsFHIR(r *http.Request) bool {
	if r.URL.Query().Get("_format") != "" {
		return true
	}
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
			switch mt {
			case "application/fhir+json", "application/json", "application/json+fhir":
				return true
			}
		}
	}
	return false
}

// binaryInfo is what a stored Binary says about its content.
type binaryInfo struct {
	contentType string
	sha256      string // "" when the content is inline (or absent)
	size        int64
	data        string // base64, when inline
}

func readBinary(body []byte) (*binaryInfo, error) {
	var res struct {
		ContentType string `json:"contentType"`
		Data        string `json:"data"`
		Meta        struct {
			Extension []struct {
				URL       string `json:"url"`
				Extension []struct {
					URL          string      `json:"url"`
					ValueString  string      `json:"valueString"`
					ValueDecimal json.Number `json:"valueDecimal"`
				} `json:"extension"`
			} `json:"extension"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, custodian.Wrap(custodian.EINTERNAL, err, "a stored Binary cannot be read")
	}
	bi := &binaryInfo{contentType: res.ContentType, data: res.Data}
	for _, e := range res.Meta.Extension {
		if e.URL != BinaryContentExtension {
			continue
		}
		for _, s := range e.Extension {
			switch s.URL {
			case "sha256":
				bi.sha256 = s.ValueString
			case "size":
				bi.size, _ = s.ValueDecimal.Int64()
			}
		}
	}
	return bi, nil
}

// content serves the content of Binary/id: read (authorised and audited
// like any read), then streamed from its blob with ranges.
func (b *Binaries) content(w http.ResponseWriter, r *http.Request, id string) error {
	res, err := b.Store.Read(r.Context(), "Binary", id)
	if err != nil {
		return err
	}
	bi, err := readBinary(res.Body)
	if err != nil {
		return err
	}
	ct := bi.contentType
	if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
		ct = "application/octet-stream"
	}
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("X-Content-Type-Options", "nosniff")
	// Uploaded HTML or SVG must not run as this site's pages.
	hd.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	hd.Set("Content-Location", "Binary/"+id+"/_history/"+strconv.FormatInt(res.VersionID, 10))
	if bi.sha256 == "" {
		data, err := base64.StdEncoding.DecodeString(bi.data)
		if err != nil {
			return custodian.Wrap(custodian.EINTERNAL, err, "the Binary's data is not base64")
		}
		hd.Set("ETag", `"`+id+"-"+strconv.FormatInt(res.VersionID, 10)+`"`)
		http.ServeContent(w, r, "", res.LastUpdated, bytes.NewReader(data))
		return nil
	}
	if r.Header.Get("Range") != "" {
		// A range is read without passing the whole content: check it
		// first (once per blob).
		if err := b.Blobs.Verify(bi.sha256); err != nil {
			return err
		}
	}
	rd, err := b.Blobs.Open(bi.sha256)
	if err != nil {
		return err
	}
	defer rd.Close()
	hd.Set("ETag", `"sha256-`+bi.sha256+`"`)
	hd.Set("Digest", "sha-256="+hexToBase64(bi.sha256))
	http.ServeContent(w, r, "", res.LastUpdated, rd)
	return nil
}

func hexToBase64(h string) string {
	b := make([]byte, len(h)/2)
	for i := range b {
		v, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		b[i] = byte(v)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// securityContext accepts X-Security-Context as the reference a raw
// upload's Binary.securityContext carries (FHIR's header for it).
var referenceRE = regexp.MustCompile(`^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$`)

func (b *Binaries) create(w http.ResponseWriter, r *http.Request) error {
	body, err := b.binaryBody(w, r, "")
	if err != nil {
		return err
	}
	out, err := b.Store.Create(r.Context(), "Binary", body, store.WriteOptions{IfNoneExist: r.Header.Get("If-None-Exist")})
	if err != nil {
		return err
	}
	return b.respond(w, r, out)
}

func (b *Binaries) update(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !store.ValidID(id) {
		return custodian.Errorf(custodian.EINVALID, "%q is not a valid resource id", id)
	}
	ifm, err := ifMatch(r)
	if err != nil {
		return err
	}
	body, err := b.binaryBody(w, r, id)
	if err != nil {
		return err
	}
	out, err := b.Store.Update(r.Context(), "Binary", id, body, store.WriteOptions{IfMatch: ifm})
	if err != nil {
		return err
	}
	return b.respond(w, r, out)
}

// binaryBody turns the request into the Binary resource to store: the raw
// body streamed into a blob, or a FHIR JSON Binary with its data moved
// into one. id is the id of an update ("" for a create).
func (b *Binaries) binaryBody(w http.ResponseWriter, r *http.Request, id string) ([]byte, error) {
	ctx := r.Context()
	interaction := "create"
	if id != "" {
		interaction = "update"
	}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	var res map[string]any
	var info blob.Info
	if mt == "application/fhir+json" || mt == "application/json" {
		raw, _, err := readBodyLimit(w, r, DefaultMaxBody)
		if err != nil {
			return nil, err
		}
		if res, err = store.Decode(raw); err != nil {
			return nil, custodian.Wrap(custodian.EINVALID, err, "the body is not a JSON resource")
		}
		if res["resourceType"] != "Binary" {
			return nil, custodian.Errorf(custodian.EINVALID, "the body is a %v, not a Binary", res["resourceType"])
		}
		if meta, _ := res["meta"].(map[string]any); meta != nil {
			if exts, _ := meta["extension"].([]any); exts != nil {
				for _, e := range exts {
					if m, _ := e.(map[string]any); m["url"] == BinaryContentExtension {
						// The server sets it; a client naming a blob could
						// reach content it never had.
						return nil, custodian.Errorf(custodian.EINVALID, "meta.extension %s is set by the server; send the content as data or as the raw body", BinaryContentExtension)
					}
				}
			}
		}
		data, _ := res["data"].(string)
		if data == "" {
			return store.Encode(res)
		}
		if err := b.Store.Allowed(ctx, "Binary", interaction); err != nil {
			return nil, err
		}
		dec := base64.NewDecoder(base64.StdEncoding, strings.NewReader(data))
		if info, err = b.Blobs.Put(ctx, dec, b.maxAttachment()); err != nil {
			if custodian.ErrorCode(err) == custodian.EINVALID {
				return nil, custodian.Errorf(custodian.EINVALID, "Binary.data is not base64")
			}
			return nil, err
		}
		delete(res, "data")
	} else {
		if mt == "" {
			return nil, custodian.Errorf(custodian.EINVALID, "send the content with its Content-Type (or a FHIR JSON Binary as application/fhir+json)")
		}
		if err := b.Store.Allowed(ctx, "Binary", interaction); err != nil {
			return nil, err
		}
		if r.ContentLength > b.maxAttachment() {
			return nil, custodian.Errorf(custodian.ETOOLARGE, "the attachment is larger than the limit of %d bytes", b.maxAttachment())
		}
		var err error
		if info, err = b.Blobs.Put(ctx, r.Body, b.maxAttachment()); err != nil {
			return nil, err
		}
		res = map[string]any{"resourceType": "Binary", "contentType": ct}
		if sc := r.Header.Get("X-Security-Context"); sc != "" {
			if !referenceRE.MatchString(sc) {
				return nil, custodian.Errorf(custodian.EINVALID, "X-Security-Context must be a reference such as Patient/123")
			}
			res["securityContext"] = map[string]any{"reference": sc}
		}
	}
	if id != "" {
		res["id"] = id
	}
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	exts, _ := meta["extension"].([]any)
	meta["extension"] = append(exts, map[string]any{"url": BinaryContentExtension, "extension": []any{
		map[string]any{"url": "sha256", "valueString": info.SHA256},
		map[string]any{"url": "size", "valueDecimal": json.Number(strconv.FormatInt(info.Size, 10))},
	}})
	return store.Encode(res)
}

func (b *Binaries) maxAttachment() int64 {
	if b.MaxAttachment > 0 {
		return b.MaxAttachment
	}
	return DefaultMaxAttachment
}

func (b *Binaries) inlineMax() int64 {
	if b.InlineMax > 0 {
		return b.InlineMax
	}
	return DefaultInlineMax
}

// respond answers a write: 201 (or 200) with Location, ETag and the
// resource as stored (no content).
func (b *Binaries) respond(w http.ResponseWriter, r *http.Request, out *store.Outcome) error {
	res := out.Resource
	h := &Handler{BaseURL: b.BaseURL}
	w.Header().Set("Location", h.base(r)+"/Binary/"+res.ID+"/_history/"+strconv.FormatInt(res.VersionID, 10))
	h.versionHeaders(w, r, res)
	status := http.StatusOK
	if out.Created {
		status = http.StatusCreated
	}
	if strings.Contains(r.Header.Get("Prefer"), "return=minimal") {
		w.WriteHeader(status)
		return nil
	}
	writeRaw(w, status, res.Body)
	return nil
}

// resource serves Binary/id as FHIR JSON, its content inline when small.
func (b *Binaries) resource(w http.ResponseWriter, r *http.Request, id string) error {
	res, err := b.Store.Read(r.Context(), "Binary", id)
	if err != nil {
		return err
	}
	body, err := b.BinaryJSON(r.Context(), res)
	if err != nil {
		return err
	}
	h := &Handler{BaseURL: b.BaseURL}
	h.versionHeaders(w, r, res)
	if bi, err := readBinary(res.Body); err == nil && bi.sha256 != "" && bi.size > b.inlineMax() {
		// Too large to put inline: the resource says what the content is
		// (hash, size) and this link says where.
		w.Header().Set("Link", "<"+h.base(r)+"/Binary/"+id+`>; rel="enclosure"; type="`+strings.ReplaceAll(bi.contentType, `"`, "")+`"`)
		w.Header().Set("Warning", `199 - "the content (`+strconv.FormatInt(bi.size, 10)+` bytes) is not inline; GET this URL with Accept: `+strings.ReplaceAll(bi.contentType, `"`, "")+`"`)
	}
	writeRaw(w, http.StatusOK, body)
	return nil
}

// BinaryJSON returns the FHIR JSON of a stored Binary for a client that
// asked for the resource: with the content inline (data) when it is at
// most InlineMax bytes and intact, as stored otherwise. The generic read
// serves Binary bodies as stored; this is for callers that want data.
func (b *Binaries) BinaryJSON(ctx context.Context, res *store.Resource) ([]byte, error) {
	bi, err := readBinary(res.Body)
	if err != nil || bi.sha256 == "" || bi.size > b.inlineMax() {
		return res.Body, err
	}
	rd, err := b.Blobs.Open(bi.sha256)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	tree, err := store.Decode(res.Body)
	if err != nil {
		return nil, err
	}
	tree["data"] = base64.StdEncoding.EncodeToString(data)
	return store.Encode(tree)
}
