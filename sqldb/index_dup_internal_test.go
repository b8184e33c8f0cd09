package sqldb

import (
	"fmt"
	"slices"
	"testing"

	"github.com/custodian-him/custodian/store"
)

func TestDropDuplicateRows(t *testing.T) {
	tok := func(rows ...[4]any) *kindRows {
		kr := &kindRows{kind: store.KindToken, rows: len(rows)}
		for _, r := range rows {
			kr.args = append(kr.args, r[:]...)
		}
		return kr
	}
	var many, manyWant [][4]any
	for i := range 40 {
		many = append(many, [4]any{nil, int64(1), int64(i % 20), "c"})
		if i < 20 {
			manyWant = append(manyWant, [4]any{nil, int64(1), int64(i), "c"})
		}
	}
	tests := []struct {
		name     string
		in, want *kindRows
	}{
		{"none", tok(), tok()},
		{"one", tok([4]any{nil, int64(1), int64(2), "a"}), tok([4]any{nil, int64(1), int64(2), "a"})},
		{"repeated", tok([4]any{nil, int64(1), int64(2), "a"}, [4]any{nil, int64(1), int64(2), "b"}, [4]any{nil, int64(1), int64(2), "a"}),
			tok([4]any{nil, int64(1), int64(2), "a"}, [4]any{nil, int64(1), int64(2), "b"})},
		{"differ in one column only", tok([4]any{nil, int64(1), int64(2), "a"}, [4]any{nil, int64(1), int64(3), "a"}, [4]any{nil, int64(4), int64(2), "a"}),
			tok([4]any{nil, int64(1), int64(2), "a"}, [4]any{nil, int64(1), int64(3), "a"}, [4]any{nil, int64(4), int64(2), "a"})},
		{"many (map)", tok(many...), tok(manyWant...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dropDuplicateRows(tt.in)
			if tt.in.rows != tt.want.rows || !slices.Equal(tt.in.args, tt.want.args) {
				t.Errorf("got %d rows %v, want %d rows %v", tt.in.rows, tt.in.args, tt.want.rows, tt.want.args)
			}
		})
	}
	// Floats compare as SQLite's REAL keys do: 0 and -0 are one value.
	num := &kindRows{kind: store.KindNumber, rows: 2, args: []any{nil, int64(1), 0.0, 1.5, nil, int64(1), negZero(), 1.5}}
	dropDuplicateRows(num)
	if num.rows != 1 {
		t.Errorf("0 and -0: %d rows, want 1", num.rows)
	}
	// Tables without a key keep every row.
	if got := fmt.Sprint(insertText(indexInserts[store.KindURI], 2, false)); got != "INSERT INTO idx_uri (rid, pid, value) VALUES (?, ?, ?), (?, ?, ?)" {
		t.Errorf("plain insert: %s", got)
	}
	if got := insertText(indexInserts[store.KindURI], 1, true); got != "INSERT INTO idx_uri (rid, pid, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING" {
		t.Errorf("insert on conflict: %s", got)
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}
