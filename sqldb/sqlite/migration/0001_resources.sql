-- The versioned resource store. One row per logical resource holds the
-- current version number; one row per version holds the body. Nothing is
-- ever updated in versions: an update or a delete adds a row.
CREATE TABLE resources (
  rid     INTEGER PRIMARY KEY,
  type    TEXT    NOT NULL,
  id      TEXT    NOT NULL,
  version INTEGER NOT NULL,
  ts      INTEGER NOT NULL, -- lastUpdated of the current version, unix ms
  deleted INTEGER NOT NULL DEFAULT 0,
  UNIQUE (type, id)
);

CREATE TABLE versions (
  seq     INTEGER PRIMARY KEY, -- global write order: history and its paging
  rid     INTEGER NOT NULL REFERENCES resources (rid),
  version INTEGER NOT NULL,
  type    TEXT    NOT NULL,
  ts      INTEGER NOT NULL,
  method  TEXT    NOT NULL,
  author  TEXT    NOT NULL,
  body    BLOB, -- NULL for a delete
  UNIQUE (rid, version)
);
CREATE INDEX versions_type ON versions (type, seq);

-- Search parameters get small numbers so index rows stay small.
CREATE TABLE search_params (
  pid  INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  code TEXT NOT NULL,
  UNIQUE (type, code)
);

CREATE TABLE idx_token (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  system TEXT    NOT NULL,
  code   TEXT    NOT NULL
);
CREATE INDEX idx_token_value ON idx_token (pid, code, system);
CREATE INDEX idx_token_rid ON idx_token (rid);

CREATE TABLE idx_reference (
  rid      INTEGER NOT NULL,
  pid      INTEGER NOT NULL,
  ref_type TEXT    NOT NULL,
  ref_id   TEXT    NOT NULL
);
CREATE INDEX idx_reference_value ON idx_reference (pid, ref_id, ref_type);
CREATE INDEX idx_reference_rid ON idx_reference (rid);

CREATE TABLE idx_date (
  rid  INTEGER NOT NULL,
  pid  INTEGER NOT NULL,
  low  INTEGER NOT NULL,
  high INTEGER NOT NULL
);
CREATE INDEX idx_date_value ON idx_date (pid, low, high);
CREATE INDEX idx_date_rid ON idx_date (rid);

CREATE TABLE idx_string (
  rid   INTEGER NOT NULL,
  pid   INTEGER NOT NULL,
  value TEXT    NOT NULL
);
CREATE INDEX idx_string_value ON idx_string (pid, value);
CREATE INDEX idx_string_rid ON idx_string (rid);

CREATE TABLE idx_uri (
  rid   INTEGER NOT NULL,
  pid   INTEGER NOT NULL,
  value TEXT    NOT NULL
);
CREATE INDEX idx_uri_value ON idx_uri (pid, value);
CREATE INDEX idx_uri_rid ON idx_uri (rid);
