-- The chart review index kept between starts (package chart/chartdb): one
-- row per resource the index reads (and per chart Task) with the version
-- it reflects and what the index keeps of it, and the change position
-- (versions.seq) the rows reflect. Derived data: a start with no state, or
-- rows of another format, reads the whole record again.
CREATE TABLE chart_fact (
  type    TEXT    NOT NULL,
  id      TEXT    NOT NULL,
  version INTEGER NOT NULL,
  fact    BLOB    NOT NULL,
  PRIMARY KEY (type, id)
);

CREATE TABLE chart_state (
  name     TEXT    PRIMARY KEY,
  position INTEGER NOT NULL,
  replay   INTEGER NOT NULL,
  format   TEXT    NOT NULL,
  saved    INTEGER NOT NULL -- unix ms
);
