// Command gentables rebuilds the MS-DRG tables embedded in package drg from
// the CMS grouper tables in Custodian's shared data, keeping only the columns
// the grouper reads.
//
//	go run ./internal/gentables -src ../../shared/data -out data
//
// It writes one gzip file per version (vNNN.tsv.gz) and the version-independent
// CC exclusion collections (cc_exclusions.tsv.gz). Each line of a version
// file starts with a tag naming its kind:
//
//	F mdc rank base_drg drg surgical reroute_mdc drg_severity suppression formula
//	D code mdc severity dx_attributes dx_cat_attributes hac_attributes cc_exclusion gender_mdcs
//	P code pr_attributes hac_attributes
//	N drg description
//	M mdc description
//	H hac_number description formula
//	S discharge_status effective_from effective_to   (from the MCE tables)
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
)

// Versions are the MS-DRG versions embedded, by file prefix.
var Versions = []string{"v410", "v420", "v430", "v431"}

func main() {
	src := flag.String("src", "../../shared/data", "Custodian's shared data directory (holding msdrg/ and mce/)")
	out := flag.String("out", "data", "directory to write")
	flag.Parse()
	files, err := Generate(*src)
	if err != nil {
		log.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(*out, name), Compress(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// Generate returns the uncompressed content of every embedded file, by name.
func Generate(src string) (map[string][]byte, error) {
	tables := filepath.Join(src, "msdrg", "tables")
	status, err := readTSV(filepath.Join(src, "mce", "mce_discharge_status.tsv"))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, v := range Versions {
		var b bytes.Buffer
		steps := []struct {
			file string
			tag  string
			cols []int
		}{
			{v + "_drg_formulas.tsv", "F", []int{0, 1, 3, 4, 5, 6, 7, 8, 9}},
			{v + "_dx.tsv.gz", "D", []int{0, 1, 2, 3, 4, 5, 7, 8}},
			{v + "_pr.tsv.gz", "P", []int{0, 1, 2}},
			{v + "_drg_descriptions.tsv", "N", []int{0, 1}},
			{v + "_mdc_descriptions.tsv", "M", []int{0, 1}},
			{v + "_hac.tsv", "H", []int{0, 1, 3}},
		}
		for _, s := range steps {
			rows, err := readTSV(filepath.Join(tables, s.file))
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				b.WriteString(s.tag)
				for _, c := range s.cols {
					if c >= len(r) {
						return nil, fmt.Errorf("%s: a row has %d columns, want more than %d", s.file, len(r), c)
					}
					b.WriteByte('\t')
					b.WriteString(r[c])
				}
				b.WriteByte('\n')
			}
		}
		for _, r := range status {
			fmt.Fprintf(&b, "S\t%s\t%s\t%s\n", r[0], r[1], r[2])
		}
		files[v+".tsv.gz"] = b.Bytes()
	}
	rows, err := readTSV(filepath.Join(tables, "cc_exclusion_pdx_collections.tsv.gz"))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, r := range rows {
		fmt.Fprintf(&b, "%s\t%s\n", r[0], r[1])
	}
	files["cc_exclusions.tsv.gz"] = b.Bytes()
	return files, nil
}

// Compress gzips content at the best compression, without a name or time,
// so the same content always gives the same bytes.
func Compress(content []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(content)
	w.Close()
	return b.Bytes()
}

// readTSV reads a (possibly gzipped) TSV file without its header line.
func readTSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = z
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var rows [][]string
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}
