-- Search index tables for the remaining parameter kinds, and the string
-- value as written for :exact. DOUBLE PRECISION is REAL in SQLite and an
-- 8-byte float in PostgreSQL.
ALTER TABLE idx_string ADD COLUMN exact TEXT NOT NULL DEFAULT '';

CREATE TABLE idx_number (
  rid  INTEGER NOT NULL,
  pid  INTEGER NOT NULL,
  low  DOUBLE PRECISION NOT NULL,
  high DOUBLE PRECISION NOT NULL
);
CREATE INDEX idx_number_value ON idx_number (pid, low, high);
CREATE INDEX idx_number_rid ON idx_number (rid);

-- A quantity as written (system, code, unit, value range) and, for UCUM
-- units Custodian understands, in base units (ccode, clow, chigh).
CREATE TABLE idx_quantity (
  rid    INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  system TEXT    NOT NULL,
  code   TEXT    NOT NULL,
  unit   TEXT    NOT NULL,
  low    DOUBLE PRECISION NOT NULL,
  high   DOUBLE PRECISION NOT NULL,
  ccode  TEXT    NOT NULL,
  clow   DOUBLE PRECISION NOT NULL,
  chigh  DOUBLE PRECISION NOT NULL
);
CREATE INDEX idx_quantity_value ON idx_quantity (pid, code, low);
CREATE INDEX idx_quantity_canon ON idx_quantity (pid, ccode, clow);
CREATE INDEX idx_quantity_rid ON idx_quantity (rid);

-- Two-component composites (code-value-quantity and the like): the first
-- component is a token (or a reference as Type/id), the second a token
-- (system2, code2), a quantity (code2 the unit, low2/high2 the
-- value as written), a date (low2/high2 in unix ms) or a string (code2
-- normalised).
CREATE TABLE idx_composite (
  rid     INTEGER NOT NULL,
  pid     INTEGER NOT NULL,
  system1 TEXT    NOT NULL,
  code1   TEXT    NOT NULL,
  system2 TEXT    NOT NULL,
  code2   TEXT    NOT NULL,
  low2    DOUBLE PRECISION NOT NULL,
  high2   DOUBLE PRECISION NOT NULL
);
CREATE INDEX idx_composite_value ON idx_composite (pid, code1, code2);
CREATE INDEX idx_composite_rid ON idx_composite (rid);
