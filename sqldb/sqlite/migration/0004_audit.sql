-- The audit trail: append-only and hash-chained (see package audit). Each
-- row keeps the canonical bytes that were hashed, so verification needs
-- nothing else.
CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY,
  ts          INTEGER NOT NULL, -- unix ms
  action      TEXT    NOT NULL,
  actor       TEXT    NOT NULL,
  break_glass INTEGER NOT NULL DEFAULT 0,
  body        BLOB    NOT NULL,
  hash        BLOB    NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_break_glass ON audit_log (seq) WHERE break_glass = 1;

-- Which patients' records each entry touched: the patient access report.
CREATE TABLE audit_patient (
  patient TEXT    NOT NULL,
  seq     INTEGER NOT NULL,
  PRIMARY KEY (patient, seq)
);

-- Break-the-glass grants: time-boxed access to a patient's sensitive records.
CREATE TABLE break_glass (
  id      INTEGER PRIMARY KEY,
  actor   TEXT    NOT NULL,
  patient TEXT    NOT NULL,
  reason  TEXT    NOT NULL,
  starts  INTEGER NOT NULL,
  ends    INTEGER NOT NULL
);
CREATE INDEX break_glass_actor ON break_glass (actor, patient, ends);

-- The patient compartment a resource belongs to (the patient id, '' for
-- none) and whether it carries a sensitive security label.
ALTER TABLE resources ADD COLUMN compartment TEXT NOT NULL DEFAULT '';
ALTER TABLE resources ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0;
CREATE INDEX resources_compartment ON resources (compartment) WHERE compartment <> '';
