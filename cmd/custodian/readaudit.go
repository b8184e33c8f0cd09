//go:build !benchreadauditoff

package main

// readAuditOff is true only in a build made for measuring what auditing
// reads costs (the build tag benchreadauditoff; BenchmarkHTTPReadAuditCost
// builds one to compare with). Every other build audits every read.
const readAuditOff = false
