package drg

import "testing"

// BenchmarkLoadTable reads one version's embedded tables (what a command
// pays once per version it uses).
func BenchmarkLoadTable(b *testing.B) {
	exclOnce.Do(func() { exclRaw, exclErr = readExclusions() })
	if exclErr != nil {
		b.Fatal(exclErr)
	}
	for b.Loop() {
		raw, err := readGz("data/v431.tsv.gz")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := parseTable(versions[3], raw, exclRaw); err != nil {
			b.Fatal(err)
		}
	}
}
