package fhir

import "github.com/custodian-him/custodian"

// issueTypes maps error codes to OperationOutcome.issue.code.
var issueTypes = map[string]string{
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

// IssueType returns the OperationOutcome issue type for an error code.
func IssueType(code string) string {
	if t, ok := issueTypes[code]; ok {
		return t
	}
	return "exception"
}

// Outcome is the OperationOutcome for err: one issue with its user-safe
// message, then one issue per problem found, with its location. Causes of
// internal errors never appear in it.
func Outcome(err error) map[string]any {
	issues := []any{map[string]any{"severity": "error", "code": IssueType(custodian.ErrorCode(err)), "diagnostics": custodian.ErrorMessage(err)}}
	for _, is := range custodian.ErrorIssues(err) {
		issue := map[string]any{"severity": is.Severity, "code": is.Code, "diagnostics": is.Message}
		if is.Path != "" {
			issue["expression"] = []any{is.Path}
		}
		issues = append(issues, issue)
	}
	return map[string]any{"resourceType": "OperationOutcome", "issue": issues}
}
