package sqldb

// SetJournalSegmentSize makes new audit journal files n bytes long, for
// tests of a journal that moves to its next file; it returns what restores
// the size.
func SetJournalSegmentSize(n int64) (restore func()) {
	old := segmentSize
	segmentSize = n
	return func() { segmentSize = old }
}

// JournalFiles returns how many files db's audit journal has begun, and
// whether it still takes entries (0, false without a journal).
func JournalFiles(db *DB) (int64, bool) {
	j := db.journal
	if j == nil {
		return 0, false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cur.seq, j.err == nil
}
