package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/bulk"
	"github.com/custodian-him/custodian/store"
)

// ExportScan implements store.ExportReader: the current resources matching
// q (and f's patients, excluding what f.Exclude matches) after row f.After,
// in row order, until f.Limit resources or f.MaxBytes body bytes.
func (c *conn) ExportScan(_ context.Context, q *store.Query, f store.ExportFilter) ([]*store.Resource, int64, error) {
	b := &sqlBuilder{c: c}
	cond, args, err := b.where(q)
	if err != nil {
		return nil, 0, err
	}
	for _, x := range f.Exclude {
		xc, xa, err := b.where(x)
		if err != nil {
			return nil, 0, err
		}
		cond += " AND NOT (" + xc + ")"
		args = append(args, xa...)
	}
	if len(f.Patients) > 0 {
		cond += " AND r.compartment IN (" + placeholders(len(f.Patients)) + ")"
		for _, p := range f.Patients {
			args = append(args, p)
		}
	} else if f.AnyPatient {
		cond += " AND r.compartment <> ''"
	}
	limit := max(f.Limit, 1)
	args = append(args, f.After, limit)
	rows, err := c.query(`SELECT `+versionColumns+`, r.rid
		FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = r.version
		WHERE `+cond+` AND r.rid > ? ORDER BY r.rid LIMIT ?`, args...)
	if err != nil {
		return nil, 0, translate(err)
	}
	defer rows.Close()
	var out []*store.Resource
	var last int64
	size := 0
	for rows.Next() {
		// Bodies are unpacked afterwards, on every core.
		r, err := scanPacked(rows, &last)
		if err != nil {
			return nil, 0, translate(err)
		}
		out = append(out, r)
		size += len(r.Body) * 2 // packed bodies are about half the size
		if f.MaxBytes > 0 && size >= f.MaxBytes {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, translate(err)
	}
	if err := unpackAll(out); err != nil {
		return nil, 0, err
	}
	if len(out) < limit && (f.MaxBytes <= 0 || size < f.MaxBytes) {
		return out, 0, nil // the end
	}
	return out, last, nil
}

// scanPacked is scanVersion leaving the body as stored (compressed).
func scanPacked(sc interface{ Scan(...any) error }, rid *int64) (*store.Resource, error) {
	var r store.Resource
	var ts int64
	var method string
	if err := sc.Scan(&r.Type, &r.ID, &r.VersionID, &ts, &method, &r.Author, &r.Body, &r.Compartment, rid); err != nil {
		return nil, err
	}
	r.LastUpdated = time.UnixMilli(ts).UTC()
	r.Method = store.Method(method)
	r.Deleted = r.Body == nil
	return &r, nil
}

// unpackAll decompresses the bodies of rs in parallel.
func unpackAll(rs []*store.Resource) error {
	workers := min(runtime.GOMAXPROCS(0), max(len(rs)/64, 1))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(rs); i += workers {
				if rs[i].Deleted {
					continue
				}
				b, err := defaultCodec.unpack(rs[i].Body)
				if err != nil {
					errs[w] = err
					return
				}
				rs[i].Body = b
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ExportJobs keeps package bulk's export jobs in the export_jobs and
// export_files tables. Writes go through the DB's writer.
type ExportJobs struct {
	db *DB
}

var _ bulk.Jobs = (*ExportJobs)(nil)

// NewExportJobs returns the export job store of db.
func NewExportJobs(db *DB) *ExportJobs { return &ExportJobs{db: db} }

func (s *ExportJobs) write(ctx context.Context, fn func(c *conn) error) error {
	return s.db.Write(ctx, func(tx store.Tx) error { return fn(tx.(*conn)) })
}

func (s *ExportJobs) q(query string) string { return s.db.dialect.rebind(query) }

// CreateJob implements bulk.Jobs.
func (s *ExportJobs) CreateJob(ctx context.Context, j *bulk.Job) error {
	actor, err := json.Marshal(j.Actor)
	if err != nil {
		return err
	}
	params, err := json.Marshal(j.Request)
	if err != nil {
		return err
	}
	return s.write(ctx, func(c *conn) error {
		_, err := c.tx.ExecContext(c.ctx, c.q(`INSERT INTO export_jobs (id, owner, actor, request, params, state, created, tx_time, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			j.ID, j.Owner, string(actor), j.URL, string(params), string(j.State), ms(j.Created), ms(j.TransactionTime), ms(j.Updated))
		return translate(err)
	})
}

const jobColumns = `id, owner, actor, request, params, state, created, tx_time, updated, done_types, exported, progress, error, expires`

func scanJob(sc interface{ Scan(...any) error }) (*bulk.Job, error) {
	var j bulk.Job
	var actor, params, state, done string
	var created, txTime, updated, expires int64
	if err := sc.Scan(&j.ID, &j.Owner, &actor, &j.URL, &params, &state, &created, &txTime, &updated, &done, &j.Exported, &j.Progress, &j.Error, &expires); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(actor), &j.Actor); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(params), &j.Request); err != nil {
		return nil, err
	}
	j.State = bulk.State(state)
	j.Created, j.TransactionTime, j.Updated, j.Expires = fromMS(created).UTC(), fromMS(txTime).UTC(), fromMS(updated).UTC(), fromMS(expires)
	if !j.Expires.IsZero() {
		j.Expires = j.Expires.UTC()
	}
	j.DoneTypes = splitList(done, ",")
	return &j, nil
}

// Job implements bulk.Jobs.
func (s *ExportJobs) Job(ctx context.Context, id string) (*bulk.Job, error) {
	j, err := scanJob(s.db.readDB.QueryRowContext(ctx, s.q(`SELECT `+jobColumns+` FROM export_jobs WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "there is no export job %q", id)
	} else if err != nil {
		return nil, translate(err)
	}
	rows, err := s.db.readDB.QueryContext(ctx, s.q(`SELECT name, type, count, size, sha256, error FROM export_files WHERE job = ? ORDER BY type, name`), id)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var f bulk.File
		var isErr int
		if err := rows.Scan(&f.Name, &f.Type, &f.Count, &f.Size, &f.SHA256, &isErr); err != nil {
			return nil, translate(err)
		}
		f.Error = isErr != 0
		j.Files = append(j.Files, f)
	}
	return j, translate(rows.Err())
}

// ClaimJob implements bulk.Jobs.
func (s *ExportJobs) ClaimJob(ctx context.Context, node string, now, until time.Time) (*bulk.Job, error) {
	var j *bulk.Job
	err := s.write(ctx, func(c *conn) error {
		j = nil
		if err := c.Lock(ctx, "export-claim"); err != nil {
			return err
		}
		var id string
		err := c.tx.QueryRowContext(c.ctx, c.q(`SELECT id FROM export_jobs
			WHERE state = ? OR (state = ? AND lease_until < ?) ORDER BY created, id LIMIT 1`),
			string(bulk.Accepted), string(bulk.Running), ms(now)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return translate(err)
		}
		if _, err := c.tx.ExecContext(c.ctx, c.q(`UPDATE export_jobs SET state = ?, lease_owner = ?, lease_until = ?, updated = ? WHERE id = ?`),
			string(bulk.Running), node, ms(until), ms(now), id); err != nil {
			return translate(err)
		}
		j, err = scanJob(c.tx.QueryRowContext(c.ctx, c.q(`SELECT `+jobColumns+` FROM export_jobs WHERE id = ?`), id))
		return translate(err)
	})
	return j, err
}

// held runs an UPDATE of node's running job id and fails with ECONFLICT if
// it changed nothing (the job was cancelled or taken over).
func held(res sql.Result, err error) error {
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return custodian.Errorf(custodian.ECONFLICT, "the export job is no longer this node's to run")
	}
	return nil
}

// RenewJob implements bulk.Jobs.
func (s *ExportJobs) RenewJob(ctx context.Context, id, node string, until time.Time, exported int64, progress string, doneTypes []string) error {
	return s.write(ctx, func(c *conn) error {
		return held(c.tx.ExecContext(c.ctx, c.q(`UPDATE export_jobs SET lease_until = ?, exported = ?, progress = ?, done_types = ?, updated = ?
			WHERE id = ? AND lease_owner = ? AND state = ?`),
			ms(until), exported, progress, strings.Join(doneTypes, ","), ms(time.Now()), id, node, string(bulk.Running)))
	})
}

// mine checks inside c that node runs job id.
func mine(c *conn, id, node string) error {
	var n int
	if err := c.tx.QueryRowContext(c.ctx, c.q(`SELECT count(*) FROM export_jobs WHERE id = ? AND lease_owner = ? AND state = ?`),
		id, node, string(bulk.Running)).Scan(&n); err != nil {
		return translate(err)
	}
	if n == 0 {
		return custodian.Errorf(custodian.ECONFLICT, "the export job is no longer this node's to run")
	}
	return nil
}

// AddFile implements bulk.Jobs.
func (s *ExportJobs) AddFile(ctx context.Context, id, node string, f bulk.File) error {
	return s.write(ctx, func(c *conn) error {
		if err := mine(c, id, node); err != nil {
			return err
		}
		_, err := c.tx.ExecContext(c.ctx, c.q(`INSERT INTO export_files (job, name, type, count, size, sha256, error) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			id, f.Name, f.Type, f.Count, f.Size, f.SHA256, b2i(f.Error))
		return translate(err)
	})
}

// ResetType implements bulk.Jobs.
func (s *ExportJobs) ResetType(ctx context.Context, id, node, typ string) error {
	return s.write(ctx, func(c *conn) error {
		if err := mine(c, id, node); err != nil {
			return err
		}
		_, err := c.tx.ExecContext(c.ctx, c.q(`DELETE FROM export_files WHERE job = ? AND type = ?`), id, typ)
		return translate(err)
	})
}

// FinishJob implements bulk.Jobs.
func (s *ExportJobs) FinishJob(ctx context.Context, id, node string, state bulk.State, msg string, expires time.Time) error {
	return s.write(ctx, func(c *conn) error {
		return held(c.tx.ExecContext(c.ctx, c.q(`UPDATE export_jobs SET state = ?, error = ?, expires = ?, lease_owner = '', lease_until = 0, updated = ?
			WHERE id = ? AND lease_owner = ? AND state = ?`),
			string(state), msg, ms(expires), ms(time.Now()), id, node, string(bulk.Running)))
	})
}

// CancelJob implements bulk.Jobs.
func (s *ExportJobs) CancelJob(ctx context.Context, id string, now time.Time) error {
	return s.write(ctx, func(c *conn) error {
		res, err := c.tx.ExecContext(c.ctx, c.q(`UPDATE export_jobs SET state = ?, expires = ?, updated = ? WHERE id = ? AND state <> ?`),
			string(bulk.Cancelled), ms(now), ms(now), id, string(bulk.Cancelled))
		if err := held(res, err); err != nil {
			return custodian.Errorf(custodian.ENOTFOUND, "there is no export job %q", id)
		}
		return nil
	})
}

// ExpiredJobs implements bulk.Jobs: finished jobs past their expiry, and
// cancelled ones no node is still running.
func (s *ExportJobs) ExpiredJobs(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.db.readDB.QueryContext(ctx, s.q(`SELECT id FROM export_jobs WHERE expires > 0 AND expires <= ?
		AND (state <> ? OR lease_until < ?)`), ms(now), string(bulk.Cancelled), ms(now))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, translate(err)
		}
		ids = append(ids, id)
	}
	return ids, translate(rows.Err())
}

// DeleteJob implements bulk.Jobs.
func (s *ExportJobs) DeleteJob(ctx context.Context, id string) error {
	return s.write(ctx, func(c *conn) error {
		if _, err := c.tx.ExecContext(c.ctx, c.q(`DELETE FROM export_files WHERE job = ?`), id); err != nil {
			return translate(err)
		}
		_, err := c.tx.ExecContext(c.ctx, c.q(`DELETE FROM export_jobs WHERE id = ?`), id)
		return translate(err)
	})
}
