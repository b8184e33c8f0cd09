-- Smaller index rows (issue 4's 1.5 KiB per resource).
--
-- Token systems get small numbers. A system string (38.9 bytes on average
-- in generated data) was stored twice in every token row, in the table
-- and in its value index; its number takes a byte or two. The numbers are
-- never reused or deleted, so a number once read stays right.
CREATE TABLE token_systems (
  sid    INTEGER PRIMARY KEY,
  system TEXT NOT NULL UNIQUE
);
INSERT INTO token_systems (system) SELECT DISTINCT system FROM idx_token;

-- idx_tok is idx_token with the system's number. On SQLite it is
-- clustered by resource as 0006 made idx_token; PostgreSQL keeps a heap,
-- a value index and a rid index (see 0006).
/* only sqlite */ CREATE TABLE idx_tok (
  rid  INTEGER NOT NULL,
  pid  INTEGER NOT NULL,
  code TEXT NOT NULL,
  sid  INTEGER NOT NULL,
  PRIMARY KEY (rid, pid, code, sid)
) /* clustered */;
/* only postgres */ CREATE TABLE idx_tok (
  rid  INTEGER NOT NULL,
  pid  INTEGER NOT NULL,
  code TEXT NOT NULL,
  sid  INTEGER NOT NULL
);
-- The old rows are read in their stored order and each system looked up
-- in the small dictionary (CROSS JOIN fixes that order on SQLite), so the
-- new table is written in key order, in one pass.
/* only sqlite */ INSERT OR IGNORE INTO idx_tok (rid, pid, code, sid)
  SELECT t.rid, t.pid, t.code, s.sid FROM idx_token t CROSS JOIN token_systems s WHERE s.system = t.system;
/* only postgres */ INSERT INTO idx_tok (rid, pid, code, sid)
  SELECT t.rid, t.pid, t.code, s.sid FROM idx_token t JOIN token_systems s ON s.system = t.system;
DROP TABLE idx_token;
/* only sqlite */ CREATE UNIQUE INDEX idx_tok_value ON idx_tok (pid, code, sid, rid);
/* only postgres */ CREATE INDEX idx_tok_value ON idx_tok (pid, code, sid);
/* only postgres */ CREATE INDEX idx_tok_rid ON idx_tok (rid);

-- idx_token stays readable, as a view with the system spelled out, for
-- tools, reports and ad hoc SQL. Custodian itself reads idx_tok.
CREATE VIEW idx_token AS
  SELECT t.rid, t.pid, s.system, t.code FROM idx_tok t JOIN token_systems s ON s.sid = t.sid;

-- idx_string clustered by resource on SQLite, as 0006 did for the other
-- tables: no rid index and no hidden row id. (PostgreSQL keeps its layout:
-- a long string would exceed its b-tree entry limit in a primary key.)
/* only sqlite */ CREATE TABLE idx_string_c (
  rid   INTEGER NOT NULL,
  pid   INTEGER NOT NULL,
  value TEXT NOT NULL,
  exact TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (rid, pid, value, exact)
) /* clustered */;
/* only sqlite */ INSERT OR IGNORE INTO idx_string_c (rid, pid, value, exact)
  SELECT rid, pid, value, exact FROM idx_string;
/* only sqlite */ DROP TABLE idx_string;
/* only sqlite */ ALTER TABLE idx_string_c RENAME TO idx_string;
/* only sqlite */ CREATE INDEX idx_string_value ON idx_string (pid, value);
