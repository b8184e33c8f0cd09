package codeset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// parse reads a code-set file made by internal/gencodes (see its doc for
// the record format). Strings share the one decompressed buffer.
func parse(gz []byte) (*CodeSystem, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	// The gzip trailer holds the uncompressed size: read into a buffer of
	// that size once, and keep it as the string every field points into.
	var b strings.Builder
	if len(gz) >= 4 {
		b.Grow(int(binary.LittleEndian.Uint32(gz[len(gz)-4:])))
	}
	if _, err := io.Copy(&b, zr); err != nil {
		return nil, err
	}
	text := b.String()
	n := strings.Count(text, "\nC\t")
	cs := &CodeSystem{}
	cs.concepts = make([]Concept, 0, n)
	blockOf := map[string]int16{}
	var notes *[]Note
	var from string
	last := -1
	for lineNo := 1; text != ""; lineNo++ {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		kind, rest, _ := strings.Cut(line, "\t")
		var fields [6]string
		f := fields[:0]
		for {
			field, more, ok := strings.Cut(rest, "\t")
			f = append(f, field)
			if !ok || len(f) == len(fields) {
				break
			}
			rest = more
		}
		bad := func(n int) error {
			if len(f) < n {
				return fmt.Errorf("line %d: record %s has %d fields, want %d", lineNo, kind, len(f), n)
			}
			return nil
		}
		switch kind {
		case "#":
		case "E":
			if err := bad(6); err != nil {
				return nil, err
			}
			cs.edition = f[1]
			cs.titlesFrom, cs.titlesTo = parseCompact(f[2]), parseCompact(f[3])
			cs.validFrom, cs.validTo = parseCompact(f[4]), parseCompact(f[5])
		case "G":
			if err := bad(5); err != nil {
				return nil, err
			}
			lo, err1 := strconv.Atoi(f[1])
			hi, err2 := strconv.Atoi(f[2])
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("line %d: bad ages", lineNo)
			}
			cs.ageGroups = append(cs.ageGroups, AgeGroup{Name: f[0], Low: lo, High: hi, From: parseCompact(f[3]), To: parseCompact(f[4])})
		case "K":
			if err := bad(3); err != nil {
				return nil, err
			}
			cs.chapters = append(cs.chapters, Group{Kind: "chapter", ID: f[0], Range: f[1], Title: f[2]})
			notes, from = &cs.chapters[len(cs.chapters)-1].Notes, "chapter "+f[0]
		case "S":
			if err := bad(3); err != nil {
				return nil, err
			}
			if len(cs.chapters) == 0 {
				return nil, fmt.Errorf("line %d: block before any chapter", lineNo)
			}
			cs.blocks = append(cs.blocks, Group{Kind: "block", ID: f[0], Range: f[0], Title: f[1], chapter: len(cs.chapters) - 1})
			notes, from = &cs.blocks[len(cs.blocks)-1].Notes, "block "+f[0]
			if len(f) > 2 && f[2] != "" {
				for _, cat := range strings.Split(f[2], ",") {
					blockOf[cat] = int16(len(cs.blocks) - 1)
				}
			}
		case "C":
			if err := bad(3); err != nil {
				return nil, err
			}
			if last >= 0 && cs.concepts[last].code >= f[0] {
				return nil, fmt.Errorf("line %d: code %s out of order", lineNo, f[0])
			}
			cs.concepts = append(cs.concepts, Concept{cs: cs, code: f[0], title: f[1], edition: f[2], parent: -1, block: -1, self: int32(len(cs.concepts))})
			last = len(cs.concepts) - 1
			notes, from = &cs.concepts[last].notes, f[0]
		case "N":
			if err := bad(2); err != nil {
				return nil, err
			}
			if notes == nil {
				return nil, fmt.Errorf("line %d: note before any code", lineNo)
			}
			*notes = append(*notes, Note{Kind: NoteKind(f[0]), Text: f[1], From: from})
		case "V":
			if err := bad(2); err != nil {
				return nil, err
			}
			if last < 0 {
				return nil, fmt.Errorf("line %d: validity before any code", lineNo)
			}
			v := Validity{From: parseCompact(f[0]), To: parseCompact(f[1])}
			if len(f) > 2 {
				v.attrs = f[2]
			}
			cs.concepts[last].valid = append(cs.concepts[last].valid, v)
		case "":
			if line != "" {
				return nil, fmt.Errorf("line %d: no record kind", lineNo)
			}
		default:
			return nil, fmt.Errorf("line %d: unknown record %q", lineNo, kind)
		}
	}
	if len(cs.concepts) == 0 || cs.validTo == 0 {
		return nil, fmt.Errorf("no codes or no edition record")
	}
	cs.link(blockOf)
	return cs, nil
}

// link rebuilds the hierarchy from the codes (in code order, a parent comes
// before its children and is a prefix of them), assigns blocks, and works
// out each concept's span of existence from the bottom up.
func (cs *CodeSystem) link(blockOf map[string]int16) {
	var stack []int32
	for i := range cs.concepts {
		c := &cs.concepts[i]
		for len(stack) > 0 && !strings.HasPrefix(c.code, cs.concepts[stack[len(stack)-1]].code) {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			p := stack[len(stack)-1]
			c.parent = p
			cs.concepts[p].children = append(cs.concepts[p].children, int32(i))
		} else {
			cs.roots = append(cs.roots, int32(i))
		}
		stack = append(stack, int32(i))
		if len(c.code) >= 3 {
			if b, ok := blockOf[c.code[:3]]; ok {
				c.block = b
			}
		}
	}
	for i := len(cs.concepts) - 1; i >= 0; i-- {
		c := &cs.concepts[i]
		for _, v := range c.valid {
			c.widen(v.From, v.To)
		}
		if c.spanFrom != 0 && c.parent >= 0 {
			cs.concepts[c.parent].widen(c.spanFrom, c.spanTo)
		}
	}
}

func (c *Concept) widen(from, to Date) {
	if c.spanFrom == 0 || from < c.spanFrom {
		c.spanFrom = from
	}
	if to > c.spanTo {
		c.spanTo = to
	}
}
