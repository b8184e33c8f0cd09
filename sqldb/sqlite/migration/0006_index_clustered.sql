-- The search index tables keyed by all their columns and, on SQLite,
-- clustered by resource: a WITHOUT ROWID table (the marker comment after
-- CREATE TABLE is turned into that by the SQLite dialect) in primary key
-- order (rid, pid, value columns). A resource's rows are together, cleared
-- and checked without a separate rid index, no hidden row id is stored, and
-- a value a resource has twice is stored once. Existing rows are copied
-- (once each).
--
-- PostgreSQL keeps its layout (heap, value index, rid index): its b-trees
-- deduplicate repeated keys, which a value index made unique by the rid
-- would prevent, and a primary key led by rid would be a third, wide
-- b-tree. Statements that begin with "/* only ENGINE */" run on that
-- engine only (sqldb.Migrate).
--
-- The string, quantity and composite tables stay as they are: their rows
-- are wide (a value index of a WITHOUT ROWID table carries the whole key).
/* only sqlite */ CREATE TABLE idx_token_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  system TEXT NOT NULL,
  code TEXT NOT NULL,
  PRIMARY KEY (rid, pid, code, system)
) /* clustered */;
/* only sqlite */ INSERT INTO idx_token_c (rid, pid, system, code)
  SELECT DISTINCT rid, pid, system, code FROM idx_token;
/* only sqlite */ DROP TABLE idx_token;
/* only sqlite */ ALTER TABLE idx_token_c RENAME TO idx_token;
/* only sqlite */ CREATE UNIQUE INDEX idx_token_value ON idx_token (pid, code, system, rid);

/* only sqlite */ CREATE TABLE idx_reference_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  ref_type TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  PRIMARY KEY (rid, pid, ref_id, ref_type)
) /* clustered */;
/* only sqlite */ INSERT INTO idx_reference_c (rid, pid, ref_type, ref_id)
  SELECT DISTINCT rid, pid, ref_type, ref_id FROM idx_reference;
/* only sqlite */ DROP TABLE idx_reference;
/* only sqlite */ ALTER TABLE idx_reference_c RENAME TO idx_reference;
/* only sqlite */ CREATE UNIQUE INDEX idx_reference_value ON idx_reference (pid, ref_id, ref_type, rid);

/* only sqlite */ CREATE TABLE idx_date_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  low INTEGER NOT NULL,
  high INTEGER NOT NULL,
  PRIMARY KEY (rid, pid, low, high)
) /* clustered */;
/* only sqlite */ INSERT INTO idx_date_c (rid, pid, low, high)
  SELECT DISTINCT rid, pid, low, high FROM idx_date;
/* only sqlite */ DROP TABLE idx_date;
/* only sqlite */ ALTER TABLE idx_date_c RENAME TO idx_date;
/* only sqlite */ CREATE UNIQUE INDEX idx_date_value ON idx_date (pid, low, high, rid);

/* only sqlite */ CREATE TABLE idx_uri_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (rid, pid, value)
) /* clustered */;
/* only sqlite */ INSERT INTO idx_uri_c (rid, pid, value)
  SELECT DISTINCT rid, pid, value FROM idx_uri;
/* only sqlite */ DROP TABLE idx_uri;
/* only sqlite */ ALTER TABLE idx_uri_c RENAME TO idx_uri;
/* only sqlite */ CREATE UNIQUE INDEX idx_uri_value ON idx_uri (pid, value, rid);

/* only sqlite */ CREATE TABLE idx_number_c (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  low DOUBLE PRECISION NOT NULL,
  high DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (rid, pid, low, high)
) /* clustered */;
/* only sqlite */ INSERT INTO idx_number_c (rid, pid, low, high)
  SELECT DISTINCT rid, pid, low, high FROM idx_number;
/* only sqlite */ DROP TABLE idx_number;
/* only sqlite */ ALTER TABLE idx_number_c RENAME TO idx_number;
/* only sqlite */ CREATE UNIQUE INDEX idx_number_value ON idx_number (pid, low, high, rid);
