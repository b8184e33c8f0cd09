package fhirapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/custodian-him/custodian"
)

// statusOf maps error codes to HTTP statuses. It is the one such table of
// the FHIR API.
var statusOf = map[string]int{
	custodian.EINVALID:        http.StatusBadRequest,
	custodian.EUNAUTHORIZED:   http.StatusUnauthorized,
	custodian.EFORBIDDEN:      http.StatusForbidden,
	custodian.ENOTFOUND:       http.StatusNotFound,
	custodian.EGONE:           http.StatusGone,
	custodian.ECONFLICT:       http.StatusConflict,
	custodian.EPRECONDITION:   http.StatusPreconditionFailed,
	custodian.EUNPROCESSABLE:  http.StatusUnprocessableEntity,
	custodian.ENOTIMPLEMENTED: http.StatusNotImplemented,
	custodian.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	custodian.ETIMEOUT:        http.StatusServiceUnavailable,
	custodian.EUNAVAILABLE:    http.StatusServiceUnavailable,
	custodian.EINTERNAL:       http.StatusInternalServerError,
}

// issueTypeOf maps error codes to OperationOutcome.issue.code.
var issueTypeOf = map[string]string{
	custodian.EINVALID:        "invalid",
	custodian.EUNAUTHORIZED:   "login",
	custodian.EFORBIDDEN:      "forbidden",
	custodian.ENOTFOUND:       "not-found",
	custodian.EGONE:           "deleted",
	custodian.ECONFLICT:       "conflict",
	custodian.EPRECONDITION:   "conflict",
	custodian.EUNPROCESSABLE:  "processing",
	custodian.ENOTIMPLEMENTED: "not-supported",
	custodian.ETOOLARGE:       "too-costly",
	custodian.ETIMEOUT:        "timeout",
	custodian.EUNAVAILABLE:    "transient",
	custodian.EINTERNAL:       "exception",
}

// statusFor returns the HTTP status for err.
func statusFor(err error) int {
	if s, ok := statusOf[custodian.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// outcome builds the OperationOutcome for err: one issue per validation
// issue, or one issue with the error's safe message.
func outcome(err error) map[string]any {
	code := custodian.ErrorCode(err)
	var issues []any
	for _, is := range custodian.ErrorIssues(err) {
		issue := map[string]any{"severity": is.Severity, "code": is.Code, "diagnostics": is.Message}
		if is.Path != "" {
			issue["expression"] = []any{is.Path}
		}
		issues = append(issues, issue)
	}
	if len(issues) == 0 {
		issues = []any{map[string]any{"severity": "error", "code": issueTypeOf[code], "diagnostics": custodian.ErrorMessage(err)}}
	} else {
		issues = append([]any{map[string]any{"severity": "error", "code": issueTypeOf[code], "diagnostics": custodian.ErrorMessage(err)}}, issues...)
	}
	return map[string]any{"resourceType": "OperationOutcome", "issue": issues}
}

// informational is an OperationOutcome carrying one information message.
func informational(msg string) map[string]any {
	return map[string]any{"resourceType": "OperationOutcome", "issue": []any{
		map[string]any{"severity": "information", "code": "informational", "diagnostics": msg}}}
}

// writeError renders err as an OperationOutcome. Internal errors are logged
// with their cause (never a body) and shown only as "Internal error.".
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var me *http.MaxBytesError
	if errors.As(err, &me) {
		err = custodian.Errorf(custodian.ETOOLARGE, "the body is larger than the limit of %d bytes", me.Limit)
	}
	status := statusFor(err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1") // nothing was written: the client may send it again
	}
	if status == http.StatusInternalServerError {
		h.logger().Error("fhir request failed", "method", r.Method, "route", r.Pattern, "error", err)
	}
	writeJSON(w, status, outcome(err))
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}
