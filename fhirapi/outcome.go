package fhirapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
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

// statusFor returns the HTTP status for err.
func statusFor(err error) int {
	if s, ok := statusOf[custodian.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// outcome builds the OperationOutcome for err.
func outcome(err error) map[string]any { return fhir.Outcome(err) }

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
