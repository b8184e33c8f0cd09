package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/store"
)

// AccessStore keeps package access's users, clients, sessions and signing
// keys in the access_* tables. Writes go through the DB's writer (group
// commit on SQLite); reads use the reader pool.
type AccessStore struct {
	db *DB
}

var _ access.Store = (*AccessStore)(nil)

// NewAccessStore returns the access store of db.
func NewAccessStore(db *DB) *AccessStore { return &AccessStore{db: db} }

// write runs fn in a write transaction of the DB.
func (s *AccessStore) write(ctx context.Context, fn func(c *conn) error) error {
	return s.db.Write(ctx, func(tx store.Tx) error { return fn(tx.(*conn)) })
}

func (s *AccessStore) q(query string) string { return s.db.dialect.rebind(query) }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func splitList(s, sep string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

// CreateUser implements access.Store.
func (s *AccessStore) CreateUser(ctx context.Context, u *access.User) error {
	return s.write(ctx, func(c *conn) error {
		res, err := c.tx.ExecContext(c.ctx, c.q(`INSERT INTO access_users (name, roles, password_hash, must_change, disabled, created, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`),
			u.Name, strings.Join(u.Roles, ","), u.PasswordHash, b2i(u.MustChange), b2i(u.Disabled), ms(u.Created), ms(u.Updated))
		return inserted(res, err, "a user with that name exists")
	})
}

// inserted turns an INSERT … ON CONFLICT DO NOTHING that added no row into
// an ECONFLICT error.
func inserted(res sql.Result, err error, msg string) error {
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return custodian.Errorf(custodian.ECONFLICT, "%s", msg)
	}
	return nil
}

const userColumns = `name, roles, password_hash, must_change, disabled, failed_attempts, locked_until, created, updated`

func scanUser(sc interface{ Scan(...any) error }) (*access.User, error) {
	var u access.User
	var roles string
	var mustChange, disabled int
	var locked, created, updated int64
	if err := sc.Scan(&u.Name, &roles, &u.PasswordHash, &mustChange, &disabled, &u.FailedAttempts, &locked, &created, &updated); err != nil {
		return nil, err
	}
	u.Roles = splitList(roles, ",")
	u.MustChange, u.Disabled = mustChange != 0, disabled != 0
	u.LockedUntil, u.Created, u.Updated = fromMS(locked), fromMS(created), fromMS(updated)
	return &u, nil
}

// FindUserByName implements access.Store.
func (s *AccessStore) FindUserByName(ctx context.Context, name string) (*access.User, error) {
	u, err := scanUser(s.db.readDB.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM access_users WHERE name = ?`), name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "no such user")
	}
	return u, translate(err)
}

// FindUsers implements access.Store.
func (s *AccessStore) FindUsers(ctx context.Context) ([]*access.User, error) {
	rows, err := s.db.readDB.QueryContext(ctx, `SELECT `+userColumns+` FROM access_users ORDER BY name`)
	return collect(rows, err, scanUser)
}

// CountUsers implements access.Store.
func (s *AccessStore) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.readDB.QueryRowContext(ctx, `SELECT count(*) FROM access_users`).Scan(&n)
	return n, translate(err)
}

// UpdateUser implements access.Store.
func (s *AccessStore) UpdateUser(ctx context.Context, name string, upd access.UserUpdate, now time.Time) error {
	sets := []string{"updated = ?"}
	args := []any{ms(now)}
	if upd.Roles != nil {
		sets, args = append(sets, "roles = ?"), append(args, strings.Join(upd.Roles, ","))
	}
	if upd.PasswordHash != nil {
		sets, args = append(sets, "password_hash = ?"), append(args, *upd.PasswordHash)
	}
	if upd.MustChange != nil {
		sets, args = append(sets, "must_change = ?"), append(args, b2i(*upd.MustChange))
	}
	if upd.Disabled != nil {
		sets, args = append(sets, "disabled = ?"), append(args, b2i(*upd.Disabled))
	}
	if upd.Unlock {
		sets = append(sets, "failed_attempts = 0", "locked_until = 0")
	}
	args = append(args, name)
	return s.write(ctx, func(c *conn) error {
		res, err := c.tx.ExecContext(c.ctx, c.q(`UPDATE access_users SET `+strings.Join(sets, ", ")+` WHERE name = ?`), args...)
		return updated(res, err, "no such user")
	})
}

// updated turns an UPDATE or DELETE that touched no row into ENOTFOUND.
func updated(res sql.Result, err error, msg string) error {
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return custodian.Errorf(custodian.ENOTFOUND, "%s", msg)
	}
	return nil
}

// RecordFailure implements access.Store.
func (s *AccessStore) RecordFailure(ctx context.Context, name string, limit int, lockUntil time.Time) (locked bool, err error) {
	err = s.write(ctx, func(c *conn) error {
		locked = false
		var n int
		err := c.tx.QueryRowContext(c.ctx, c.q(`UPDATE access_users SET failed_attempts = failed_attempts + 1 WHERE name = ? RETURNING failed_attempts`), name).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return custodian.Errorf(custodian.ENOTFOUND, "no such user")
		} else if err != nil {
			return translate(err)
		}
		if n < limit {
			return nil
		}
		locked = true
		_, err = c.tx.ExecContext(c.ctx, c.q(`UPDATE access_users SET failed_attempts = 0, locked_until = ? WHERE name = ?`), ms(lockUntil), name)
		return translate(err)
	})
	return locked, err
}

// CreateClient implements access.Store.
func (s *AccessStore) CreateClient(ctx context.Context, cl *access.Client) error {
	return s.write(ctx, func(c *conn) error {
		res, err := c.tx.ExecContext(c.ctx, c.q(`INSERT INTO access_clients (id, name, secret_hash, scopes, roles, disabled, created)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			cl.ID, cl.Name, cl.SecretHash, strings.Join(cl.Scopes, " "), strings.Join(cl.Roles, ","), b2i(cl.Disabled), ms(cl.Created))
		return inserted(res, err, "a client with that name exists")
	})
}

const clientColumns = `id, name, secret_hash, scopes, roles, disabled, created`

func scanClient(sc interface{ Scan(...any) error }) (*access.Client, error) {
	var cl access.Client
	var scopes, roles string
	var disabled int
	var created int64
	if err := sc.Scan(&cl.ID, &cl.Name, &cl.SecretHash, &scopes, &roles, &disabled, &created); err != nil {
		return nil, err
	}
	cl.Scopes, cl.Roles = strings.Fields(scopes), splitList(roles, ",")
	cl.Disabled, cl.Created = disabled != 0, fromMS(created)
	return &cl, nil
}

// FindClientByID implements access.Store.
func (s *AccessStore) FindClientByID(ctx context.Context, id string) (*access.Client, error) {
	cl, err := scanClient(s.db.readDB.QueryRowContext(ctx, s.q(`SELECT `+clientColumns+` FROM access_clients WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "no such client")
	}
	return cl, translate(err)
}

// FindClients implements access.Store.
func (s *AccessStore) FindClients(ctx context.Context) ([]*access.Client, error) {
	rows, err := s.db.readDB.QueryContext(ctx, `SELECT `+clientColumns+` FROM access_clients ORDER BY name`)
	return collect(rows, err, scanClient)
}

// collect scans every row of a query with scan.
func collect[T any](rows *sql.Rows, err error, scan func(interface{ Scan(...any) error }) (*T, error)) ([]*T, error) {
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, v)
	}
	return out, translate(rows.Err())
}

// DisableClient implements access.Store.
func (s *AccessStore) DisableClient(ctx context.Context, idOrName string) error {
	return s.write(ctx, func(c *conn) error {
		res, err := c.tx.ExecContext(c.ctx, c.q(`UPDATE access_clients SET disabled = 1 WHERE id = ? OR name = ?`), idOrName, idOrName)
		return updated(res, err, "no such client")
	})
}

// CreateSession implements access.Store.
func (s *AccessStore) CreateSession(ctx context.Context, sess *access.Session) error {
	return s.write(ctx, func(c *conn) error {
		_, err := c.tx.ExecContext(c.ctx, c.q(`INSERT INTO access_sessions (id_hash, user_name, created, last_seen) VALUES (?, ?, ?, ?)`),
			sess.IDHash, sess.User, ms(sess.Created), ms(sess.LastSeen))
		return translate(err)
	})
}

// FindSession implements access.Store, with the user's roles and state.
func (s *AccessStore) FindSession(ctx context.Context, idHash []byte) (*access.Session, error) {
	var sess access.Session
	var roles string
	var created, seen int64
	var mustChange, disabled int
	err := s.db.readDB.QueryRowContext(ctx, s.q(`SELECT s.user_name, s.created, s.last_seen, u.roles, u.must_change, u.disabled
		FROM access_sessions s JOIN access_users u ON u.name = s.user_name WHERE s.id_hash = ?`), idHash).
		Scan(&sess.User, &created, &seen, &roles, &mustChange, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, custodian.Errorf(custodian.ENOTFOUND, "no such session")
	} else if err != nil {
		return nil, translate(err)
	}
	sess.IDHash = idHash
	sess.Created, sess.LastSeen = fromMS(created), fromMS(seen)
	sess.Roles = splitList(roles, ",")
	sess.MustChange, sess.Disabled = mustChange != 0, disabled != 0
	return &sess, nil
}

// TouchSession implements access.Store.
func (s *AccessStore) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	return s.write(ctx, func(c *conn) error {
		_, err := c.tx.ExecContext(c.ctx, c.q(`UPDATE access_sessions SET last_seen = ? WHERE id_hash = ? AND last_seen < ?`), ms(at), idHash, ms(at))
		return translate(err)
	})
}

// DeleteSession implements access.Store.
func (s *AccessStore) DeleteSession(ctx context.Context, idHash []byte) error {
	return s.write(ctx, func(c *conn) error {
		_, err := c.tx.ExecContext(c.ctx, c.q(`DELETE FROM access_sessions WHERE id_hash = ?`), idHash)
		return translate(err)
	})
}

// DeleteSessions implements access.Store.
func (s *AccessStore) DeleteSessions(ctx context.Context, user string, idleBefore, createdBefore time.Time) error {
	return s.write(ctx, func(c *conn) error {
		_, err := c.tx.ExecContext(c.ctx, c.q(`DELETE FROM access_sessions WHERE user_name = ? OR last_seen < ? OR created < ?`),
			user, ms(idleBefore), ms(createdBefore))
		return translate(err)
	})
}

// SigningKeys implements access.Store.
func (s *AccessStore) SigningKeys(ctx context.Context) ([]*access.SigningKey, error) {
	rows, err := s.db.readDB.QueryContext(ctx, `SELECT kid, alg, private_key, created FROM access_keys ORDER BY created, kid`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []*access.SigningKey
	for rows.Next() {
		var k access.SigningKey
		var created int64
		if err := rows.Scan(&k.KID, &k.Alg, &k.PrivateDER, &created); err != nil {
			return nil, err
		}
		k.Created = fromMS(created)
		out = append(out, &k)
	}
	return out, rows.Err()
}

// AddSigningKey implements access.Store.
func (s *AccessStore) AddSigningKey(ctx context.Context, k *access.SigningKey) error {
	return s.write(ctx, func(c *conn) error {
		_, err := c.tx.ExecContext(c.ctx, c.q(`INSERT INTO access_keys (kid, alg, private_key, created) VALUES (?, ?, ?, ?)`),
			k.KID, k.Alg, k.PrivateDER, ms(k.Created))
		return translate(err)
	})
}
