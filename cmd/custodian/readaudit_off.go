//go:build benchreadauditoff

package main

// readAuditOff: this build does not audit reads. It exists only to measure
// what auditing costs against a normal build (BenchmarkHTTPReadAuditCost);
// never run it on a record that matters.
const readAuditOff = true
