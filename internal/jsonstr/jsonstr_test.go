package jsonstr_test

import (
	"encoding/json"
	"testing"

	"github.com/custodian-him/custodian/internal/jsonstr"
)

// Unquote agrees with encoding/json on every literal, valid or not.
func TestUnquoteAgreesWithEncodingJSON(t *testing.T) {
	for _, lit := range []string{
		`""`, `"plain"`, `"Zoë"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u4e2d"`,
		`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\ude00"`,
		`"unterminated`, `"bad \q escape"`, `"\u12"`, "\"ctl\x01\"", `"\ud83d\u12"`, `x`,
	} {
		var want string
		wantErr := json.Unmarshal([]byte(lit), &want)
		got, next, ok := jsonstr.Unquote([]byte(lit+",rest"), 0)
		if ok != (wantErr == nil) || ok && (got != want || next != len(lit)) {
			t.Errorf("Unquote(%s) = %q %d %v; encoding/json %q %v", lit, got, next, ok, want, wantErr)
		}
	}
}
