package fhirpath

import "fmt"

// ErrorKind classifies an [Error] the way the FHIRPath test suite does.
type ErrorKind int

const (
	// SyntaxError means the expression text does not follow the FHIRPath grammar.
	SyntaxError ErrorKind = iota + 1
	// SemanticError means the expression is well-formed but meaningless, e.g. an unknown
	// function, a wrong number of arguments, or (with a model) an invalid element name.
	SemanticError
	// ExecutionError means evaluation failed on the given input, e.g. a singleton was
	// expected but a collection of several items was found.
	ExecutionError
)

// String returns the suite's name for the kind: "syntax", "semantic" or "execution".
func (k ErrorKind) String() string {
	switch k {
	case SyntaxError:
		return "syntax"
	case SemanticError:
		return "semantic"
	case ExecutionError:
		return "execution"
	}
	return "unknown"
}

// Error is the error returned by [Compile] and [Expression.Evaluate]. Messages describe the
// expression, never the resource content, so they are safe to log.
type Error struct {
	Kind ErrorKind
	Pos  int // byte offset in the expression, -1 if unknown
	Msg  string
}

// Error formats the kind, position and message.
func (e *Error) Error() string {
	if e.Pos >= 0 {
		return fmt.Sprintf("fhirpath: %s error at offset %d: %s", e.Kind, e.Pos, e.Msg)
	}
	return fmt.Sprintf("fhirpath: %s error: %s", e.Kind, e.Msg)
}

func syntaxErrorf(pos int, format string, args ...any) error {
	return &Error{Kind: SyntaxError, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func semanticErrorf(pos int, format string, args ...any) error {
	return &Error{Kind: SemanticError, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func execErrorf(format string, args ...any) error {
	return &Error{Kind: ExecutionError, Pos: -1, Msg: fmt.Sprintf(format, args...)}
}
