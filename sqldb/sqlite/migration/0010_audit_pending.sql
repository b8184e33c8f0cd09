-- Reads' audit entries on their way into the chain, on PostgreSQL: each
-- row holds the entries of reads answered at the same moment (their time,
-- canonical bytes without the position, and key rows), inserted without
-- the chain's lock; a node takes rows into the chain under the lock and
-- deletes them in the same transaction. SQLite keeps these entries in its
-- journal files instead.
/* only postgres */ CREATE TABLE audit_pending (
  id   INTEGER PRIMARY KEY,
  body BLOB    NOT NULL
);
