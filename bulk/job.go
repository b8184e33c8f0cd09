package bulk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/custodian-him/custodian"
)

// State is where a job is in its life.
type State string

// The states of a job.
const (
	Accepted  State = "accepted"  // waiting for a worker
	Running   State = "running"   // a worker holds its lease
	Complete  State = "complete"  // the files are ready
	Failed    State = "failed"    // it stopped on an error (Job.Error)
	Cancelled State = "cancelled" // the client deleted it; files go at once
)

// Level is what an export covers.
type Level string

// The levels of an export.
const (
	System  Level = "system"  // /$export: everything
	Patient Level = "patient" // /Patient/$export: every patient's compartment
	Group   Level = "group"   // /Group/{id}/$export: the compartments of its members
)

// Request is what a job exports.
type Request struct {
	Level Level `json:"level"`
	// Group is the Group's id for a group-level export.
	Group string `json:"group,omitempty"`
	// Types are the resource types asked for (_type); empty means every
	// type the level covers.
	Types []string `json:"types,omitempty"`
	// Since keeps resources changed after it (_since); zero for all.
	Since time.Time `json:"since,omitzero"`
	// TypeFilters are search queries per type (_typeFilter): a resource of
	// a type with filters is exported when it matches one of them.
	TypeFilters map[string][]string `json:"typeFilters,omitempty"`
	// Patients limits a patient- or group-level export to these patients'
	// compartments (the patient parameter).
	Patients []string `json:"patients,omitempty"`
}

// Job is one export.
type Job struct {
	ID string
	// Owner is the requester's actor id; Actor the requester, whom the job
	// runs as.
	Owner string
	Actor custodian.Actor
	// URL is the kick-off request as received.
	URL     string
	Request Request
	State   State
	// TransactionTime is when the job was accepted: it exports resources
	// as they were then (later changes are left to the next _since export).
	Created, TransactionTime, Updated time.Time
	// DoneTypes are the types finished (a job taken over after a restart
	// continues after them).
	DoneTypes []string
	// Exported counts the resources written so far; Progress says what the
	// worker is doing, for X-Progress.
	Exported int64
	Progress string
	// Error is why a failed job failed (safe to show the requester).
	Error string
	// Expires is when the job and its files are removed (zero while it
	// runs).
	Expires time.Time
	Files   []File
}

// File is one output file of a job.
type File struct {
	Name  string
	Type  string
	Count int64
	Size  int64
	// SHA256 is the hex SHA-256 of the file's bytes.
	SHA256 string
	// Error marks a file of OperationOutcomes (the manifest's error list).
	Error bool
}

// Jobs keeps jobs and their files' records. Package sqldb implements it.
// Methods that change a running job take the node holding its lease and
// fail with ECONFLICT when that node no longer holds it (the job was
// cancelled, or taken over after the lease ran out).
type Jobs interface {
	// CreateJob stores a new job.
	CreateJob(ctx context.Context, j *Job) error
	// Job returns the job with its files; ENOTFOUND if there is none.
	Job(ctx context.Context, id string) (*Job, error)
	// ClaimJob gives node the oldest job that is accepted, or running
	// under a lease that ran out before now, leased until until; nil when
	// there is none.
	ClaimJob(ctx context.Context, node string, now, until time.Time) (*Job, error)
	// RenewJob extends node's lease and records progress.
	RenewJob(ctx context.Context, id, node string, until time.Time, exported int64, progress string, doneTypes []string) error
	// AddFile records a finished file.
	AddFile(ctx context.Context, id, node string, f File) error
	// ResetType forgets the files of typ (written by a run that stopped
	// before finishing the type).
	ResetType(ctx context.Context, id, node, typ string) error
	// FinishJob ends node's job in state (Complete or Failed) with msg, to
	// be removed at expires.
	FinishJob(ctx context.Context, id, node string, state State, msg string, expires time.Time) error
	// CancelJob marks a job cancelled, to be removed at once; ENOTFOUND
	// if there is none.
	CancelJob(ctx context.Context, id string, now time.Time) error
	// ExpiredJobs lists jobs whose expiry is at or before now.
	ExpiredJobs(ctx context.Context, now time.Time) ([]string, error)
	// DeleteJob removes a job and its files' records.
	DeleteJob(ctx context.Context, id string) error
}

// newJobID returns a random job id: 32 hex digits, unguessable.
func newJobID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validJobID reports whether id has the form newJobID makes, so it can
// name a directory.
func validJobID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && id == toLower(id)
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
