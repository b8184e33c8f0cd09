package store

import (
	"fmt"
	"testing"
)

func TestSearchEscapes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{`a,b`, `[a b]`},
		{`a\,b,c`, `[a\,b c]`},
		{`x|a\|b`, `[x|a\|b]`},
		{`a\\,b`, `[a\\ b]`},
		{`a\$b`, `[a\$b]`},
	} {
		if got := fmt.Sprint(splitOr(tc.in)); got != tc.want {
			t.Errorf("splitOr(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in            string
		before, after string
		found         bool
	}{
		{`sys|code`, "sys", "code", true},
		{`sys|a\|b`, "sys", "a|b", true},
		{`a\|b`, "a|b", "", false},
		{`s\\|c`, `s\`, "c", true},
		{`s|a\,b\$c`, "s", "a,b$c", true},
	} {
		b, a, f := cutEscaped(tc.in, '|')
		if b != tc.before || a != tc.after || f != tc.found {
			t.Errorf("cutEscaped(%q) = %q %q %v, want %q %q %v", tc.in, b, a, f, tc.before, tc.after, tc.found)
		}
	}
}
