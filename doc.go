// Package custodian holds what every part of Custodian shares: the error type
// and its codes, the actor travelling in a request context, and the version.
//
// It uses the standard library only and does no I/O, so every domain package
// and adapter can import it without pulling anything else in.
package custodian

// Version is the release of this build, set at link time with
// -ldflags "-X github.com/custodian-him/custodian.Version=…".
var Version = "dev"
