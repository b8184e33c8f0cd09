package web

import "testing"

func TestReturnPath(t *testing.T) {
	for _, c := range []struct {
		next string
		ok   bool
	}{
		{"/coding/encounters/abc-123", true},
		{"", false},
		{"/coding/encounters/", false},
		{"/patients/abc", false},
		{"https://evil.example/coding/encounters/x", false},
		{"//evil.example/coding/encounters/x", false},
		{"/coding/encounters/../../admin", false},
		{"/coding/encounters/x?y=1", false},
		{"/coding/encounters/x#top", false},
		{`/coding/encounters/x\y`, false},
		{"/coding/encounters/%2e%2e/admin", false},
		{"/coding/encounters//x", false},
	} {
		if got := returnPath(c.next); got != c.ok {
			t.Errorf("returnPath(%q) = %v, want %v", c.next, got, c.ok)
		}
	}
}
