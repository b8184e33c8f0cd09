-- The search index tables clustered by resource: each table's rows are
-- kept in the order of their primary key (rid, pid, value columns), so the
-- rows of one resource are together (cleared and checked per resource
-- without a separate rid index) and identical rows are stored once. The
-- marker comment after each CREATE TABLE is turned into WITHOUT ROWID by
-- the SQLite dialect (no hidden row id, one b-tree fewer per table);
-- PostgreSQL keeps an ordinary table with that primary key. The value
-- indexes are made again on the new tables. Existing rows are copied.
-- The quantity and composite tables stay as they are: their rows are
-- wide, and a value index of a WITHOUT ROWID table carries the whole key.
CREATE TABLE idx_token_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  system TEXT NOT NULL,
  code TEXT NOT NULL,
  PRIMARY KEY (rid, pid, code, system)
) /* clustered */;
INSERT INTO idx_token_c (rid, pid, system, code)
  SELECT rid, pid, system, code FROM idx_token WHERE true ON CONFLICT DO NOTHING;
DROP TABLE idx_token;
ALTER TABLE idx_token_c RENAME TO idx_token;
CREATE INDEX idx_token_value ON idx_token (pid, code, system);

CREATE TABLE idx_reference_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  ref_type TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  PRIMARY KEY (rid, pid, ref_id, ref_type)
) /* clustered */;
INSERT INTO idx_reference_c (rid, pid, ref_type, ref_id)
  SELECT rid, pid, ref_type, ref_id FROM idx_reference WHERE true ON CONFLICT DO NOTHING;
DROP TABLE idx_reference;
ALTER TABLE idx_reference_c RENAME TO idx_reference;
CREATE INDEX idx_reference_value ON idx_reference (pid, ref_id, ref_type);

CREATE TABLE idx_date_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  low INTEGER NOT NULL,
  high INTEGER NOT NULL,
  PRIMARY KEY (rid, pid, low, high)
) /* clustered */;
INSERT INTO idx_date_c (rid, pid, low, high)
  SELECT rid, pid, low, high FROM idx_date WHERE true ON CONFLICT DO NOTHING;
DROP TABLE idx_date;
ALTER TABLE idx_date_c RENAME TO idx_date;
CREATE INDEX idx_date_value ON idx_date (pid, low, high);

CREATE TABLE idx_string_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  value TEXT NOT NULL,
  exact TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (rid, pid, value, exact)
) /* clustered */;
INSERT INTO idx_string_c (rid, pid, value, exact)
  SELECT rid, pid, value, exact FROM idx_string WHERE true ON CONFLICT DO NOTHING;
DROP TABLE idx_string;
ALTER TABLE idx_string_c RENAME TO idx_string;
CREATE INDEX idx_string_value ON idx_string (pid, value);

CREATE TABLE idx_uri_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (rid, pid, value)
) /* clustered */;
INSERT INTO idx_uri_c (rid, pid, value)
  SELECT rid, pid, value FROM idx_uri WHERE true ON CONFLICT DO NOTHING;
DROP TABLE idx_uri;
ALTER TABLE idx_uri_c RENAME TO idx_uri;
CREATE INDEX idx_uri_value ON idx_uri (pid, value);

CREATE TABLE idx_number_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  low DOUBLE PRECISION NOT NULL,
  high DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (rid, pid, low, high)
) /* clustered */;
INSERT INTO idx_number_c (rid, pid, low, high)
  SELECT rid, pid, low, high FROM idx_number WHERE true ON CONFLICT DO NOTHING;
DROP TABLE idx_number;
ALTER TABLE idx_number_c RENAME TO idx_number;
CREATE INDEX idx_number_value ON idx_number (pid, low, high);
