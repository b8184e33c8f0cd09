package bulk

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// patientChunk bounds the patients one query names (Group exports).
const patientChunk = 500

// run is one worker's run of a job.
type run struct {
	x    *Exporter
	j    *Job
	node string
	// patients are the patients a group or patient-list export covers
	// (nil for every patient).
	patients  []string
	lastRenew time.Time
	problems  []string // types left out, for the error file
}

func (r *run) run(ctx context.Context) error {
	x, j := r.x, r.j
	actx := custodian.NewContextWithActor(ctx, &j.Actor)
	if err := r.members(actx); err != nil {
		return err
	}
	dir := filepath.Join(x.Dir, j.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "the export directory cannot be made")
	}
	named := len(j.Request.Types) > 0
	for _, typ := range x.jobTypes(j.Request) {
		if slices.Contains(j.DoneTypes, typ) {
			continue
		}
		if err := x.Source.ExportCheck(actx, typ); err != nil {
			if named || custodian.ErrorCode(err) != custodian.EFORBIDDEN {
				return err
			}
			r.problems = append(r.problems, fmt.Sprintf("%s resources were left out: you may not read them", typ))
			continue
		}
		if err := r.exportType(actx, dir, typ); err != nil {
			return err
		}
		j.DoneTypes = append(j.DoneTypes, typ)
		if err := r.renew(ctx, "finished "+typ, true); err != nil {
			return err
		}
	}
	return r.errorFile(ctx, dir)
}

// members works out the patients of a group or patient-list export.
func (r *run) members(ctx context.Context) error {
	req := r.j.Request
	if req.Level == Group {
		g, err := r.x.Source.Read(ctx, "Group", req.Group)
		if err != nil {
			return err
		}
		var group struct {
			Member []struct {
				Entity   struct{ Reference string }
				Inactive bool
			}
		}
		if err := json.Unmarshal(g.Body, &group); err != nil {
			return custodian.Wrap(custodian.EINTERNAL, err, "the Group cannot be read")
		}
		seen := map[string]bool{}
		r.patients = []string{}
		for _, m := range group.Member {
			id, ok := strings.CutPrefix(m.Entity.Reference, "Patient/")
			if !ok || m.Inactive || seen[id] || !store.ValidID(id) {
				continue
			}
			if len(req.Patients) > 0 && !slices.Contains(req.Patients, id) {
				continue
			}
			seen[id] = true
			r.patients = append(r.patients, id)
		}
		return nil
	}
	if len(req.Patients) > 0 {
		r.patients = req.Patients
	}
	return nil
}

// queries are the searches that make up the export of typ: one per
// _typeFilter (or one plain one), each bounded by the transaction time and
// _since.
func (r *run) queries(typ string) ([]*store.Query, error) {
	filters := r.j.Request.TypeFilters[typ]
	if len(filters) == 0 {
		filters = []string{""}
	}
	bound := "_lastUpdated=le" + r.j.TransactionTime.UTC().Format("2006-01-02T15:04:05.000Z")
	if s := r.j.Request.Since; !s.IsZero() {
		bound += "&_lastUpdated=gt" + s.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	var qs []*store.Query
	for _, f := range filters {
		criteria := bound
		if f != "" {
			criteria = f + "&" + bound
		}
		q, err := r.x.filterQuery(typ, criteria)
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// exportType writes the resources of typ into files typ-1.ndjson, …
func (r *run) exportType(ctx context.Context, dir, typ string) error {
	x := r.x
	if err := x.Jobs.ResetType(ctx, r.j.ID, r.node, typ); err != nil {
		return lost(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, typ+"-*.ndjson"))
	for _, f := range old {
		os.Remove(f)
	}
	if r.patients != nil && len(r.patients) == 0 {
		return nil // a group without patients
	}
	qs, err := r.queries(typ)
	if err != nil {
		return err
	}
	out := &output{dir: dir, typ: typ, limit: orDefault(x.FileSize, DefaultFileSize)}
	defer out.abort()
	if err := r.renew(ctx, "exporting "+typ, false); err != nil {
		return err
	}
	chunks := [][]string{nil}
	if r.patients != nil {
		chunks = nil
		for s := 0; s < len(r.patients); s += patientChunk {
			chunks = append(chunks, r.patients[s:min(s+patientChunk, len(r.patients))])
		}
	}
	for k, q := range qs {
		for _, chunk := range chunks {
			f := store.ExportFilter{Limit: orDefault(x.PageSize, DefaultPageSize), MaxBytes: orDefault(x.PageMem, DefaultPageMem),
				Patients: chunk, AnyPatient: r.j.Request.Level == Patient && chunk == nil, Exclude: qs[:k]}
			if err := r.pages(ctx, q, f, out); err != nil {
				return err
			}
		}
	}
	files, err := out.finish()
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := x.Jobs.AddFile(ctx, r.j.ID, r.node, f); err != nil {
			return lost(err)
		}
	}
	return nil
}

// page is one page read, or the error that ended the reading.
type page struct {
	rs  []*store.Resource
	err error
}

// pages reads q page by page in a goroutine of its own while the pages
// already read are written out: at most two pages are held at once, and
// each is bounded in bytes.
func (r *run) pages(ctx context.Context, q *store.Query, f store.ExportFilter, out *output) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan page, 1)
	go func() {
		defer close(ch)
		for {
			rs, next, err := r.x.Source.ExportPage(ctx, q, f)
			select {
			case ch <- page{rs, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || next == 0 {
				return
			}
			f.After = next
		}
	}()
	for p := range ch {
		if p.err != nil {
			return p.err
		}
		for _, res := range p.rs {
			if err := out.write(res.Body); err != nil {
				return err
			}
		}
		r.j.Exported += int64(len(p.rs))
		if err := r.renew(ctx, "exporting "+q.Types[0], false); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// renew extends the lease and records progress, every renewEvery (or now
// when force is set). It fails with errLost when the job was cancelled.
func (r *run) renew(ctx context.Context, progress string, force bool) error {
	now := r.x.now()
	if !force && now.Sub(r.lastRenew) < renewEvery {
		return nil
	}
	r.lastRenew = now
	r.j.Progress = progress
	err := r.x.Jobs.RenewJob(ctx, r.j.ID, r.node, now.Add(lease), r.j.Exported, progress, r.j.DoneTypes)
	return lost(err)
}

// lost marks a conflict from Jobs as the loss of the job.
func lost(err error) error {
	if custodian.ErrorCode(err) == custodian.ECONFLICT {
		return custodian.Wrap(custodian.ECONFLICT, errLost, "the export job was cancelled")
	}
	return err
}

// errorFile writes the problems met as OperationOutcomes, for the
// manifest's error list.
func (r *run) errorFile(ctx context.Context, dir string) error {
	if len(r.problems) == 0 {
		return nil
	}
	out := &output{dir: dir, typ: "OperationOutcome", limit: 1 << 62}
	defer out.abort()
	for _, p := range r.problems {
		b, err := json.Marshal(map[string]any{"resourceType": "OperationOutcome",
			"issue": []any{map[string]any{"severity": "warning", "code": "forbidden", "diagnostics": p}}})
		if err != nil {
			return err
		}
		if err := out.write(b); err != nil {
			return err
		}
	}
	files, err := out.finish()
	if err != nil {
		return err
	}
	for _, f := range files {
		f.Error = true
		if err := r.x.Jobs.AddFile(ctx, r.j.ID, r.node, f); err != nil {
			return lost(err)
		}
	}
	return nil
}

// output writes the NDJSON files of one type, starting a new file when one
// reaches limit bytes. Files are synced before they are recorded.
type output struct {
	dir, typ string
	limit    int64
	files    []File

	f   *os.File
	w   *bufio.Writer
	h   hash.Hash
	cur File
}

func (o *output) write(line []byte) error {
	if o.f != nil && o.cur.Size+int64(len(line))+1 > o.limit && o.cur.Count > 0 {
		if err := o.close(); err != nil {
			return err
		}
	}
	if o.f == nil {
		name := fmt.Sprintf("%s-%d.ndjson", o.typ, len(o.files)+1)
		f, err := os.OpenFile(filepath.Join(o.dir, name), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return custodian.Wrap(custodian.EINTERNAL, err, "an export file cannot be written")
		}
		o.f, o.h, o.cur = f, sha256.New(), File{Name: name, Type: o.typ}
		o.w = bufio.NewWriterSize(io.MultiWriter(f, o.h), 1<<20)
	}
	o.w.Write(line)
	if err := o.w.WriteByte('\n'); err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "an export file cannot be written")
	}
	o.cur.Count++
	o.cur.Size += int64(len(line)) + 1
	return nil
}

func (o *output) close() error {
	err := o.w.Flush()
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	if err != nil {
		return custodian.Wrap(custodian.EINTERNAL, err, "an export file cannot be written")
	}
	o.cur.SHA256 = hex.EncodeToString(o.h.Sum(nil))
	o.files = append(o.files, o.cur)
	return nil
}

// finish closes the open file and returns the files written.
func (o *output) finish() ([]File, error) {
	if o.f != nil {
		if err := o.close(); err != nil {
			return nil, err
		}
	}
	return o.files, nil
}

// abort closes an open file after a failure (its rows are never recorded).
func (o *output) abort() {
	if o.f != nil {
		o.f.Close()
		o.f = nil
	}
}
