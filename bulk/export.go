package bulk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/store"
)

// Source is what the exporter reads through: package store's Store.
type Source interface {
	ParseQueryString(typ, criteria string) (*store.Query, error)
	ExportPage(ctx context.Context, q *store.Query, f store.ExportFilter) ([]*store.Resource, int64, error)
	ExportCheck(ctx context.Context, typ string) error
	RecordExport(ctx context.Context, x store.ExportRecord) error
	Read(ctx context.Context, typ, id string) (*store.Resource, error)
}

// Defaults of an Exporter.
const (
	DefaultExpiry   = 24 * time.Hour
	DefaultFileSize = 1 << 30 // bytes before a type's output moves to a new file
	DefaultPageSize = 2000
	DefaultPageMem  = 8 << 20 // body bytes one page may hold
	lease           = 30 * time.Second
	renewEvery      = 5 * time.Second
)

// Exporter accepts export jobs and runs them.
type Exporter struct {
	Source Source
	Jobs   Jobs
	// Dir holds the output files, one directory per job.
	Dir string
	// Types are the resource types served, in the order they are exported
	// when a request names none.
	Types []string
	// Expiry is how long files are kept after a job ends (DefaultExpiry
	// when 0).
	Expiry time.Duration
	// FileSize, PageSize and PageMem tune the output (defaults when 0).
	FileSize int64
	PageSize int
	PageMem  int
	Logger   *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	node string
}

func (x *Exporter) now() time.Time {
	if x.Now != nil {
		return x.Now().UTC()
	}
	return time.Now().UTC()
}

func (x *Exporter) nodeID() string {
	if x.node == "" {
		host, _ := os.Hostname()
		x.node = host + "/" + newJobID()[:8]
	}
	return x.node
}

func (x *Exporter) logger() *slog.Logger {
	if x.Logger != nil {
		return x.Logger
	}
	return slog.Default()
}

func orDefault[T int | int64 | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

func inPatientCompartment(typ string) bool {
	return typ == "Patient" || len(fhir.PatientCompartmentParams(typ)) > 0
}

// Kickoff accepts an export at level (group is the Group's id for a group
// export) with the kick-off parameters p, for the actor of ctx. url is the
// kick-off request, for the manifest. strict is the client's
// Prefer: handling=strict. A refusal is recorded in the audit trail.
func (x *Exporter) Kickoff(ctx context.Context, level Level, group string, p Params, url string, strict bool) (*Job, error) {
	a := custodian.ActorFromContext(ctx)
	if a == nil {
		return nil, custodian.Errorf(custodian.EUNAUTHORIZED, "the request has no authenticated actor")
	}
	req, err := x.parseRequest(level, group, p, strict)
	if err == nil {
		err = x.checkAccess(ctx, req)
	}
	if err != nil {
		if rerr := x.Source.RecordExport(ctx, store.ExportRecord{Query: url, Failure: err}); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	now := x.now().Truncate(time.Millisecond)
	j := &Job{ID: newJobID(), Owner: a.ID, Actor: *a, URL: url, Request: req, State: Accepted,
		Created: now, TransactionTime: now, Updated: now}
	if err := x.Jobs.CreateJob(ctx, j); err != nil {
		return nil, err
	}
	return j, nil
}

// checkAccess refuses at kick-off what the worker would be refused: the
// types asked for by name, and the Group.
func (x *Exporter) checkAccess(ctx context.Context, req Request) error {
	for _, t := range req.Types {
		if err := x.Source.ExportCheck(ctx, t); err != nil {
			return err
		}
	}
	if len(req.Types) == 0 {
		allowed := 0
		for _, t := range x.jobTypes(req) {
			if x.Source.ExportCheck(ctx, t) == nil {
				allowed++
			}
		}
		if allowed == 0 {
			return custodian.Errorf(custodian.EFORBIDDEN, "you may not export any resource type")
		}
	}
	if req.Level == Group {
		if _, err := x.Source.Read(ctx, "Group", req.Group); err != nil {
			return err
		}
	}
	return nil
}

// Job returns job id for the actor of ctx: only its requester or an
// administrator may see it. Another actor's job is ENOTFOUND, so job ids
// cannot be probed.
func (x *Exporter) Job(ctx context.Context, id string) (*Job, error) {
	if !validJobID(id) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "there is no export job %q", id)
	}
	j, err := x.Jobs.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	if !mayAccess(ctx, j) || j.State == Cancelled || (!j.Expires.IsZero() && !j.Expires.After(x.now())) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "there is no export job %q (it may have expired or been cancelled)", id)
	}
	return j, nil
}

func mayAccess(ctx context.Context, j *Job) bool {
	a := custodian.ActorFromContext(ctx)
	if a == nil {
		return false
	}
	return (a.ID == j.Owner && a.Kind == j.Actor.Kind) || a.Kind == "system" || slices.Contains(a.Roles, "administrator")
}

// Cancel cancels job id (running or finished): its files are removed and
// its status is gone.
func (x *Exporter) Cancel(ctx context.Context, id string) error {
	if _, err := x.Job(ctx, id); err != nil {
		return err
	}
	if err := x.Jobs.CancelJob(ctx, id, x.now()); err != nil {
		return err
	}
	// A running job notices at its next lease renewal; the sweep removes
	// its files then. A finished one goes now.
	return x.Sweep(ctx)
}

// OpenFile opens output file name of job id for the actor of ctx and
// records the download in the audit trail.
func (x *Exporter) OpenFile(ctx context.Context, id, name string) (*os.File, *File, error) {
	j, err := x.Job(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if j.State != Complete {
		return nil, nil, custodian.Errorf(custodian.ENOTFOUND, "export job %s has not finished", id)
	}
	var f *File
	for i := range j.Files {
		if j.Files[i].Name == name {
			f = &j.Files[i]
		}
	}
	if f == nil {
		return nil, nil, custodian.Errorf(custodian.ENOTFOUND, "export job %s has no file %q", id, name)
	}
	fh, err := os.Open(filepath.Join(x.Dir, id, f.Name)) // f.Name is one we made, from the database
	if err != nil {
		return nil, nil, custodian.Wrap(custodian.EINTERNAL, err, "the export file cannot be read")
	}
	rec := store.ExportRecord{Query: "download " + id + "/" + name + " of " + j.URL, Resources: groupRef(j), Patients: j.Request.Patients}
	if err := x.Source.RecordExport(ctx, rec); err != nil {
		fh.Close()
		return nil, nil, err
	}
	return fh, f, nil
}

func groupRef(j *Job) []string {
	if j.Request.Level == Group {
		return []string{"Group/" + j.Request.Group}
	}
	return nil
}

// Run takes and runs jobs until ctx ends, and removes expired ones. poll
// is how often it looks for work when idle (1 s when 0).
func (x *Exporter) Run(ctx context.Context, poll time.Duration) {
	poll = orDefault(poll, time.Second)
	lastSweep := time.Time{}
	for ctx.Err() == nil {
		if time.Since(lastSweep) > time.Minute {
			if err := x.Sweep(ctx); err != nil && ctx.Err() == nil {
				x.logger().Error("export: removing expired jobs", "err", err)
			}
			lastSweep = time.Now()
		}
		ran, err := x.RunOne(ctx)
		if err != nil && ctx.Err() == nil {
			x.logger().Error("export: running a job", "err", err)
		}
		if !ran || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(poll):
			}
		}
	}
}

// RunOne takes one job, if there is one waiting, and runs it to its end.
// It reports whether it found one.
func (x *Exporter) RunOne(ctx context.Context) (bool, error) {
	node := x.nodeID()
	now := x.now()
	j, err := x.Jobs.ClaimJob(ctx, node, now, now.Add(lease))
	if err != nil || j == nil {
		return false, err
	}
	r := &run{x: x, j: j, node: node}
	err = r.run(ctx)
	if ctx.Err() != nil {
		// Shutting down: leave the job to be taken up again.
		return true, nil
	}
	state, msg := Complete, ""
	cancelled := errors.Is(err, errLost)
	if err != nil && !cancelled {
		state, msg = Failed, custodian.ErrorMessage(err)
		x.logger().Error("export job failed", "job", j.ID, "err", err)
	}
	// The job's own audit entry, as its requester, however it ended.
	actx := custodian.NewContextWithActor(context.WithoutCancel(ctx), &j.Actor)
	rec := store.ExportRecord{Query: j.URL, Resources: groupRef(j), Patients: r.patients, Failure: err}
	aerr := x.Source.RecordExport(actx, rec)
	if aerr != nil {
		state, msg = Failed, "the export could not be recorded in the audit trail"
	}
	if !cancelled {
		expires := x.now().Add(orDefault(x.Expiry, DefaultExpiry))
		err = x.Jobs.FinishJob(ctx, j.ID, node, state, msg, expires)
		cancelled = custodian.ErrorCode(err) == custodian.ECONFLICT // cancelled after its last renewal
		if !cancelled {
			return true, err
		}
	}
	// Cancelled (or, rarely, taken over by a node that found its lease run
	// out): a cancelled job's files go now.
	if cur, err := x.Jobs.Job(ctx, j.ID); err == nil && cur.State == Cancelled {
		if err := os.RemoveAll(filepath.Join(x.Dir, j.ID)); err != nil {
			return true, err
		}
		return true, x.Jobs.DeleteJob(ctx, j.ID)
	}
	return true, aerr
}

// errLost marks a run stopped because its job was cancelled or taken over.
var errLost = errors.New("export job lease lost")

// Sweep removes expired and cancelled jobs and their files.
func (x *Exporter) Sweep(ctx context.Context) error {
	ids, err := x.Jobs.ExpiredJobs(ctx, x.now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		if validJobID(id) {
			if err := os.RemoveAll(filepath.Join(x.Dir, id)); err != nil {
				return err
			}
		}
		if err := x.Jobs.DeleteJob(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// Manifest is the completed job's manifest (the status response body).
type Manifest struct {
	TransactionTime     string           `json:"transactionTime"`
	Request             string           `json:"request"`
	RequiresAccessToken bool             `json:"requiresAccessToken"`
	Output              []ManifestOutput `json:"output"`
	Error               []ManifestOutput `json:"error"`
}

// ManifestOutput is one file of a manifest.
type ManifestOutput struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int64  `json:"count,omitempty"`
}

// Manifest builds j's manifest; fileURL gives a file's download URL.
func (j *Job) Manifest(fileURL func(job, name string) string) *Manifest {
	m := &Manifest{TransactionTime: j.TransactionTime.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Request: j.URL,
		RequiresAccessToken: true, Output: []ManifestOutput{}, Error: []ManifestOutput{}}
	for _, f := range j.Files {
		o := ManifestOutput{Type: f.Type, URL: fileURL(j.ID, f.Name), Count: f.Count}
		if f.Error {
			m.Error = append(m.Error, o)
		} else {
			m.Output = append(m.Output, o)
		}
	}
	return m
}

// ProgressText is what X-Progress says about a job.
func (j *Job) ProgressText() string {
	if j.State == Accepted {
		return "waiting to start"
	}
	s := fmt.Sprintf("%d resources exported", j.Exported)
	if j.Progress != "" {
		s += "; " + j.Progress
	}
	return strings.TrimSpace(s)
}
