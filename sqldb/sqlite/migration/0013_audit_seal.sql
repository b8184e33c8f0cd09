-- Sealing small audit blocks (sqldb/audit_seal.go): a block of fewer than
-- 64 entries (a write's own block, reads' blocks of a quiet moment) is
-- later rewritten together with the blocks after it into one larger block
-- holding the same entries and hashes, so verification reads one row per
-- many entries. The first index finds the small blocks; the second lets a
-- seal move the key rows of the blocks it replaces.
CREATE INDEX audit_block_small ON audit_block (first_seq) WHERE last_seq - first_seq < 63;
CREATE INDEX audit_key_block ON audit_key (block);
