-- The audit trail in blocks: each row holds the entries one commit
-- appended (their canonical bytes, one per line), so a commit of many
-- audited reads inserts one row, and verification hashes long contiguous
-- byte ranges instead of stepping one row per entry. Entries appended
-- before this migration stay in audit_log; the chain runs on from its last
-- entry into the first block.
CREATE TABLE audit_block (
  first_seq INTEGER PRIMARY KEY, -- the position of the block's first entry
  last_seq  INTEGER NOT NULL,
  ts_min    INTEGER NOT NULL,    -- unix ms, the earliest entry time
  ts_max    INTEGER NOT NULL,    -- unix ms, the latest entry time
  hash      BLOB    NOT NULL,    -- the chain hash of the last entry
  hashes    BLOB    NOT NULL,    -- the chain hashes of the others, 32 bytes each
  body      BLOB    NOT NULL     -- the entries' canonical bytes, each ending in a newline
);
CREATE INDEX audit_block_ts ON audit_block (ts_max);

-- What the blocks hold, for searching the trail: one row per block and
-- patient ("p:" id), actor ("a:"), action ("x:"), outcome other than
-- success ("o:" code, and "f" for any), and "g" for break-the-glass.
CREATE TABLE audit_key (
  key   TEXT    NOT NULL,
  block INTEGER NOT NULL,
  PRIMARY KEY (key, block)
) /* clustered */;

-- How far each process's audit journal (a file next to the database that
-- holds reads' entries on their way into the chain) has been appended, so
-- that after a crash the rest of it is appended exactly once.
CREATE TABLE audit_journal (
  name       TEXT    PRIMARY KEY, -- the file's name
  generation INTEGER NOT NULL,    -- the file's generation (it restarts when large)
  ingested   INTEGER NOT NULL     -- bytes of it in the chain
);
