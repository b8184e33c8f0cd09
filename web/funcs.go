package web

import (
	"html/template"
	"strconv"
	"strings"
	"time"
)

// funcs are the helpers the templates use.
var funcs = template.FuncMap{
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	},
	"day":  func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"join": strings.Join,
	"num":  func(v float64) string { return fmtNum(v) },
	"int": func(v int) string {
		s := strconv.Itoa(v)
		for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	},
	"current": func(section, path string) bool { return section == path },
}
