-- Bulk Data $export jobs (package bulk) and the files they wrote. Times
-- are unix ms. A job is accepted, then running on the node holding its
-- lease (lease_until), then complete, failed or cancelled; expires is when
-- its files are removed (0 while it runs). The requester's actor is kept
-- (JSON) because the job runs, and is audited, as that actor.
CREATE TABLE export_jobs (
  id          TEXT    PRIMARY KEY,
  owner       TEXT    NOT NULL,
  actor       TEXT    NOT NULL,
  request     TEXT    NOT NULL,
  params      TEXT    NOT NULL,
  state       TEXT    NOT NULL,
  created     INTEGER NOT NULL,
  tx_time     INTEGER NOT NULL,
  updated     INTEGER NOT NULL,
  lease_owner TEXT    NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0,
  done_types  TEXT    NOT NULL DEFAULT '', -- comma-separated: types finished
  exported    INTEGER NOT NULL DEFAULT 0,
  progress    TEXT    NOT NULL DEFAULT '',
  error       TEXT    NOT NULL DEFAULT '',
  expires     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX export_jobs_state ON export_jobs (state, created);
CREATE INDEX export_jobs_expires ON export_jobs (expires) WHERE expires > 0;

CREATE TABLE export_files (
  job    TEXT    NOT NULL,
  name   TEXT    NOT NULL,
  type   TEXT    NOT NULL,
  count  INTEGER NOT NULL,
  size   INTEGER NOT NULL,
  sha256 TEXT    NOT NULL,
  error  INTEGER NOT NULL DEFAULT 0, -- 1 for an OperationOutcome file
  PRIMARY KEY (job, name)
);
