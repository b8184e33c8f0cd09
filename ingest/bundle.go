package ingest

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
	"github.com/custodian-him/custodian/store"
)

// batchConcurrency is how many entries of a batch Bundle are written at
// once (each is its own transaction; the store commits them in groups).
const batchConcurrency = 32

// doBundle loads one Bundle file (or a file holding a single resource).
func (im *Importer) doBundle(ctx context.Context, src *source) error {
	body, err := im.readWhole(src)
	if err != nil {
		return err
	}
	var doc map[string]any
	if src.convert != nil {
		doc, err = src.convert(ctx, body, im.finder())
	} else {
		doc, err = store.Decode(body)
	}
	body = nil
	if err != nil {
		im.rejectAt(src, 0, -1, "", "", err)
		return im.bundleDone(src)
	}
	if rt, _ := doc["resourceType"].(string); rt != "Bundle" {
		if err := im.put(ctx, src, []map[string]any{doc}, func(int) (int64, int) { return 0, -1 }); err != nil {
			return err
		}
		return im.bundleDone(src)
	}
	entries, _ := doc["entry"].([]any)
	switch t, _ := doc["type"].(string); t {
	case "transaction":
		err = im.transaction(ctx, src, entries)
	case "batch":
		err = im.batch(ctx, src, entries)
	case "collection", "searchset", "history":
		err = im.collection(ctx, src, entries)
	case "document", "message":
		// A document or message is kept whole, as the Bundle it is.
		err = im.put(ctx, src, []map[string]any{doc}, func(int) (int64, int) { return 0, -1 })
	default:
		im.rejectAt(src, 0, -1, "Bundle", "", custodian.Errorf(custodian.EINVALID, "Bundle.type %q cannot be imported (transaction, batch, collection, searchset, history, document or message)", t))
	}
	if err != nil {
		return err
	}
	return im.bundleDone(src)
}

// finder is how converters read the store (nil when it cannot search).
func (im *Importer) finder() hl7v2.Finder {
	if f, ok := im.Store.(interface {
		FindOne(ctx context.Context, typ, criteria string) (map[string]any, error)
	}); ok {
		return f.FindOne
	}
	return nil
}

func (im *Importer) readWhole(src *source) ([]byte, error) {
	f, err := os.Open(src.path)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	r, err := decompress(&countingReader{r: f, im: im})
	if err != nil {
		return nil, fmt.Errorf("ingest: %s: %w", src.path, err)
	}
	body, err := io.ReadAll(io.LimitReader(r, im.MaxBundle+1))
	if err != nil {
		return nil, fmt.Errorf("ingest: %s: %w", src.path, err)
	}
	if int64(len(body)) > im.MaxBundle {
		// Not an I/O failure: the file is refused and the rest goes on.
		im.rejectAt(src, 0, -1, "", "", custodian.Errorf(custodian.ETOOLARGE,
			"the file is larger than %d MiB; Bundles are read whole, so split it or convert it to NDJSON", im.MaxBundle>>20))
		return nil, nil
	}
	return body, nil
}

// bundleDone checkpoints a Bundle file as loaded, unless a record of it
// failed for a reason that may pass (an internal or database error): then
// a re-run tries the file again.
func (im *Importer) bundleDone(src *source) error {
	if src.retry.Load() {
		return nil
	}
	src.state.Done = true
	return im.states.save(src.state)
}

// entryOf reads one Bundle entry as a store entry. ok is false for reads
// (GET, HEAD), which an import skips.
func entryOf(i int, raw any) (e store.Entry, ok bool, err error) {
	m, _ := raw.(map[string]any)
	if m == nil {
		return e, false, custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d] is not an object", i)
	}
	req, _ := m["request"].(map[string]any)
	if req == nil {
		return e, false, custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d] has no request", i)
	}
	method, _ := req["method"].(string)
	url, _ := req["url"].(string)
	url = strings.TrimPrefix(url, "/")
	e.FullURL, _ = m["fullUrl"].(string)
	e.Resource, _ = m["resource"].(map[string]any)
	e.IfNoneExist, _ = req["ifNoneExist"].(string)
	if tag, _ := req["ifMatch"].(string); tag != "" {
		v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(tag, "W/"), `"`), 10, 64)
		if err != nil || v < 1 {
			return e, false, custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d].request.ifMatch %q is not a version ETag", i, tag)
		}
		e.IfMatch = v
	}
	switch method {
	case "GET", "HEAD":
		return e, false, nil
	case "POST", "PUT", "DELETE", "PATCH":
	default:
		return e, false, custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d].request.method %q is not an HTTP method FHIR uses", i, method)
	}
	if url == "" {
		return e, false, custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d].request needs a url", i)
	}
	e.Method, e.URL = store.Method(method), url
	// Keep the ids the data carries: a plain create of a resource with an
	// id becomes an update to that id, so loading twice adds nothing.
	if e.Method == store.MethodCreate && e.IfNoneExist == "" && e.Resource != nil && !strings.Contains(url, "/") && !strings.Contains(url, "?") {
		if id, _ := e.Resource["id"].(string); store.ValidID(id) {
			e.Method, e.URL = store.MethodUpdate, url+"/"+id
		}
	}
	if e.Method == store.MethodPatch {
		p, err := binaryPatch(e.Resource)
		if err != nil {
			return e, false, custodian.Errorf(custodian.EINVALID, "Bundle.entry[%d]: %s", i, custodian.ErrorMessage(err))
		}
		e.Patch, e.Resource = p, nil
	}
	return e, true, nil
}

// binaryPatch takes the JSON Patch document out of a Binary resource, the
// way a Bundle carries a PATCH.
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

// transaction loads a transaction Bundle as one unit: all of it or, if any
// entry is refused, none (reported once, naming the entry).
func (im *Importer) transaction(ctx context.Context, src *source, raw []any) error {
	var entries []store.Entry
	var index []int // Bundle entry of each store entry
	for i, r := range raw {
		e, ok, err := entryOf(i, r)
		if err != nil {
			im.rejectAt(src, 0, i, "Bundle", "", fmt.Errorf("the transaction was not loaded: %w", err))
			return nil
		}
		if ok {
			entries = append(entries, e)
			index = append(index, i)
		}
	}
	if len(entries) == 0 {
		return nil
	}
	outs, err := im.Store.Transaction(ctx, entries)
	if err != nil {
		if fatal(ctx, err) {
			return err
		}
		entry := -1
		var k int
		if _, serr := fmt.Sscanf(custodian.ErrorMessage(err), "entry %d:", &k); serr == nil && k >= 0 && k < len(index) {
			entry = index[k]
		}
		im.rejectAt(src, 0, entry, "Bundle", "", err)
		return nil
	}
	var loaded []string
	var refs []foundRef
	for k, out := range outs {
		if out == nil {
			continue
		}
		if out.Resource != nil && !out.Resource.Deleted {
			loaded = append(loaded, out.Resource.Ref())
			im.countEntry(entries[k], out)
		}
		if entries[k].Resource != nil {
			// The store rewrote fullUrl and conditional references in place.
			refs = collectRefs(entries[k].Resource, refs, src, 0, index[k])
		}
	}
	im.refs.add(loaded, refs)
	return nil
}

// countEntry counts the outcome of a Bundle entry: a conditional create
// that found its resource changed nothing.
func (im *Importer) countEntry(e store.Entry, out *store.Outcome) {
	if e.Method == store.MethodCreate && e.IfNoneExist != "" && !out.Created {
		im.same.Add(1)
		return
	}
	im.count(out)
}

// batch loads each entry of a batch Bundle on its own; a refused entry
// stops nothing else.
func (im *Importer) batch(ctx context.Context, src *source, raw []any) error {
	sem := make(chan struct{}, batchConcurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i, r := range raw {
		e, ok, err := entryOf(i, r)
		if err != nil {
			im.rejectAt(src, 0, i, "", "", err)
			continue
		}
		if !ok {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			outs, err := im.Store.Transaction(ctx, []store.Entry{e})
			if err != nil {
				if fatal(ctx, err) {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				typ, id := "", ""
				if e.Resource != nil {
					typ, _ = e.Resource["resourceType"].(string)
					id, _ = e.Resource["id"].(string)
				}
				im.rejectAt(src, 0, i, typ, id, err)
				return
			}
			var loaded []string
			if out := outs[0]; out != nil && out.Resource != nil && !out.Resource.Deleted {
				loaded = append(loaded, out.Resource.Ref())
				im.countEntry(e, out)
			}
			var refs []foundRef
			if e.Resource != nil {
				refs = collectRefs(e.Resource, nil, src, 0, i)
			}
			im.refs.add(loaded, refs)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// collection loads the resources of a collection, searchset or history
// Bundle, each as an update to its id. References to the fullUrl of
// another entry (urn:uuid:…) are rewritten to that entry's Type/id.
func (im *Importer) collection(ctx context.Context, src *source, raw []any) error {
	var resources []map[string]any
	var index []int
	refs := map[string]string{}
	for i, r := range raw {
		m, _ := r.(map[string]any)
		res, _ := m["resource"].(map[string]any)
		if res == nil {
			continue // e.g. a history entry of a delete
		}
		if search, _ := m["search"].(map[string]any); search != nil {
			if mode, _ := search["mode"].(string); mode == "outcome" {
				continue
			}
		}
		typ, _ := res["resourceType"].(string)
		id, _ := res["id"].(string)
		if full, _ := m["fullUrl"].(string); full != "" && typ != "" && store.ValidID(id) {
			refs[full] = typ + "/" + id
		}
		resources = append(resources, res)
		index = append(index, i)
	}
	if len(refs) > 0 {
		for _, res := range resources {
			rewriteRefs(res, refs)
		}
	}
	for start := 0; start < len(resources); start += im.BatchSize {
		end := min(start+im.BatchSize, len(resources))
		err := im.put(ctx, src, resources[start:end], func(i int) (int64, int) { return 0, index[start+i] })
		if err != nil {
			return err
		}
	}
	return nil
}

func rewriteRefs(v any, refs map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "reference" {
				if to, ok := refs[s]; ok {
					v[k] = to
				}
				continue
			}
			rewriteRefs(e, refs)
		}
	case []any:
		for _, e := range v {
			rewriteRefs(e, refs)
		}
	}
}

// fatal reports whether err stops the import rather than one record.
func fatal(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	switch custodian.ErrorCode(err) {
	case custodian.ETIMEOUT, custodian.EUNAVAILABLE:
		return true
	}
	return false
}
