package custodian

import (
	"errors"
	"fmt"
)

// Error codes. Each adapter (FHIR API, web, CLI) maps these to its own
// vocabulary in exactly one place.
const (
	EINVALID        = "invalid"         // malformed input or a bad parameter
	EUNAUTHORIZED   = "unauthorized"    // not authenticated
	EFORBIDDEN      = "forbidden"       // authenticated but not allowed
	ENOTFOUND       = "not_found"       // absent, or not visible to the actor
	EGONE           = "gone"            // a deleted resource
	ECONFLICT       = "conflict"        // duplicate or a state conflict
	EPRECONDITION   = "precondition"    // If-Match or a conditional precondition failed
	EUNPROCESSABLE  = "unprocessable"   // well-formed but breaks a rule or a profile
	ENOTIMPLEMENTED = "not_implemented" // an unsupported interaction or parameter
	ETOOLARGE       = "too_large"       // a body or result set beyond a limit
	ETIMEOUT        = "timeout"         // the operation ran out of time; retryable
	EUNAVAILABLE    = "unavailable"     // a dependency (the database) is unreachable for now; retryable
	EINTERNAL       = "internal"        // anything else
)

// Error is an application error. Message is safe to show to a user and never
// carries patient data; Err is the cause, for logs only.
type Error struct {
	Code    string
	Message string
	// Issues optionally lists every problem found, each with its location,
	// for validation errors that report more than one thing at once.
	Issues []Issue
	Err    error
}

// Issue is one problem found in some input, with where it was found. Path is
// a FHIRPath-style location such as "Patient.name[0].given[1]".
type Issue struct {
	Severity string // fatal, error, warning, information
	Code     string // an OperationOutcome issue type: structure, required, value, invariant, code-invalid, ...
	Path     string
	Message  string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and message that keeps err as its cause.
func Wrap(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err. Errors that are not
// *Error become "Internal error." so causes never leak to users.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorIssues returns the issues carried by err, if any.
func ErrorIssues(err error) []Issue {
	var e *Error
	if errors.As(err, &e) {
		return e.Issues
	}
	return nil
}
