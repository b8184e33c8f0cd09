package mllp

// Repoint lets the external benchmarks rewrite references as the handler does.
var Repoint = repoint
