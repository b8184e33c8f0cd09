-- The measures' projection of the record, kept between starts (package
-- measure/factdb): one row per projected resource with the version it
-- reflects and the elements the measures read of it, and the change
-- position (versions.seq) the rows reflect. Derived data: a start with
-- no row, or rows of another format, reads the whole record again.
CREATE TABLE measure_fact (
  type    TEXT    NOT NULL,
  id      TEXT    NOT NULL,
  version INTEGER NOT NULL,
  fact    BLOB    NOT NULL,
  PRIMARY KEY (type, id)
);

CREATE TABLE measure_state (
  name     TEXT    PRIMARY KEY,
  position INTEGER NOT NULL,
  replay   INTEGER NOT NULL,
  format   TEXT    NOT NULL,
  saved    INTEGER NOT NULL -- unix ms
);
