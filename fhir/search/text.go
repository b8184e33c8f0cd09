package search

import (
	"strings"

	"github.com/custodian-him/custodian/store"
)

// TextParam is the parameter under which a resource's narrative words are
// indexed (in the string table), for _text; _content searches them and
// every other string value of the resource.
const TextParam = "_text"

// maxWords bounds the narrative words indexed per resource.
const maxWords = 256

// narrativeWords appends a _text entry for each distinct word of the
// resource's narrative (text.div without its markup), lower-cased.
func narrativeWords(out []store.IndexEntry, res map[string]any) []store.IndexEntry {
	text, _ := res["text"].(map[string]any)
	div, _ := text["div"].(string)
	if div == "" {
		return out
	}
	start := len(out)
	seen := map[string]bool{}
	for _, w := range store.Words(stripMarkup(div)) {
		if seen[w] || len(out)-start >= maxWords {
			continue
		}
		seen[w] = true
		out = append(out, store.IndexEntry{Param: TextParam, Kind: store.KindString, Text: w, Code: w})
	}
	return out
}

// stripMarkup removes the tags of XHTML and decodes the common entities.
func stripMarkup(s string) string {
	var b strings.Builder
	inTag := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<':
			inTag = true
			b.WriteByte(' ')
		case c == '>':
			inTag = false
		case !inTag:
			b.WriteByte(c)
		}
	}
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&nbsp;", " ", "&quot;", `"`, "&#39;", "'").Replace(b.String())
}
