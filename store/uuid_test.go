package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/store"
)

// TestNewTimeUUID checks that server-assigned ids are valid version 7
// UUIDs, distinct, and ordered by the millisecond they were made in.
func TestNewTimeUUID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := range 1000 {
		id := store.NewTimeUUID()
		if len(id) != 36 || !store.ValidID(id) || id[14] != '7' || !strings.ContainsRune("89ab", rune(id[19])) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
		if i%100 == 0 {
			// A later millisecond sorts after every id made before it.
			time.Sleep(2 * time.Millisecond)
			if prev != "" && id[:13] <= prev[:13] {
				t.Errorf("id %q made after %q sorts before it", id, prev)
			}
			prev = id
		}
	}
	before := time.Now().UnixMilli()
	id := store.NewTimeUUID()
	var ms int64
	for _, c := range id[:8] + id[9:13] {
		ms = ms<<4 | int64(hexDigit(c))
	}
	if after := time.Now().UnixMilli(); ms < before || ms > after {
		t.Errorf("id %q holds the time %d, want %d–%d", id, ms, before, after)
	}
}

func hexDigit(c rune) int {
	if c >= 'a' {
		return int(c-'a') + 10
	}
	return int(c - '0')
}
