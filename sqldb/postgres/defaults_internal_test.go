package postgres

import "testing"

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no parameters", "postgres://u@h/db", "postgres://u@h/db?statement_timeout=30000&jit=off"},
		{"other parameters", "postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable&statement_timeout=30000&jit=off"},
		{"timeout set", "postgres://u@h/db?statement_timeout=5000", "postgres://u@h/db?statement_timeout=5000&jit=off"},
		{"jit set", "postgres://u@h/db?jit=on", "postgres://u@h/db?jit=on&statement_timeout=30000"},
		{"both set", "postgres://u@h/db?jit=on&statement_timeout=1", "postgres://u@h/db?jit=on&statement_timeout=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := withDefaults(tt.in); got != tt.want {
				t.Errorf("withDefaults(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
