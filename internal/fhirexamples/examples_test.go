package fhirexamples_test

import (
	"github.com/custodian-him/custodian/internal/fhirexamples"
	"testing"
)

func TestEach(t *testing.T) {
	n := 0
	if err := fhirexamples.Each(func(string, []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 5306 {
		t.Fatalf("got %d examples, want 5306", n)
	}
}
